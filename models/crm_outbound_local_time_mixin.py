from datetime import datetime

import phonenumbers
import pytz
from phonenumbers import timezone as phone_timezone

from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.tools import format_datetime

from .crm_outbound_playbook import WINDOW_DAYS

# A number whose zone is ambiguous (a Russian mobile belongs to eleven zones) is called
# in the team's zone when the number may be there, else in the zone of its country's
# capital. IANA lists no capitals: these are the countries with several zones where
# outbound teams of this module call most.
CAPITAL_TZ = {
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "BR": "America/Sao_Paulo",
    "AU": "Australia/Sydney",
    "MX": "America/Mexico_City",
    "ID": "Asia/Jakarta",
    "MN": "Asia/Ulaanbaatar",
}
# phonenumbers names a zone of the same offset for some regions (Kaliningrad's +7 4012
# is "Europe/Bucharest", which keeps DST): the country's own zone with that offset on
# this reference day replaces it.
REFERENCE_DAY = datetime(2025, 1, 15, 12)


class CrmOutboundLocalTimeMixin(models.AbstractModel):
    """The client's local time (DESIGN.md rule 7): the time zone of a lead's client,
    its local time now, whether it may be called now, and the due times moved into
    the playbook's calling window in that zone."""

    _name = "crm.outbound.local.time.mixin"
    _description = "Outbound: Client's Local Time"

    outbound_tz = fields.Selection(
        _tz_get,
        string="Client's Time Zone",
        compute="_compute_outbound_tz",
        store=True,
        readonly=False,
        index=True,
        help="The contact's time zone, else the zone of the phone number, else the team's. "
        "Calls are made inside the playbook's calling window in this zone.",
    )
    outbound_local_time = fields.Char("Client's Local Time", compute="_compute_outbound_local_time")
    outbound_callable_now = fields.Boolean(
        "Callable Now",
        compute="_compute_outbound_callable_now",
        search="_search_outbound_callable_now",
        help="Due, inside the client's calling window now, and not on the do-not-call list.",
    )
    outbound_callable_at = fields.Datetime(
        "Callable From",
        compute="_compute_outbound_callable_now",
        help="When a due lead outside the client's calling window may be called.",
    )
    outbound_outside_window = fields.Boolean(
        "Outside Calling Hours",
        compute="_compute_outbound_callable_now",
        help="The next call falls outside the client's calling window (a time the client asked for).",
    )

    def _outbound_tz_triggers(self):
        if "team_id" not in self._fields:  # the abstract mixin itself
            return []
        return [
            "partner_id.tz",
            "country_id",
            "team_id.outbound_calendar_id.tz",
            "team_id.user_id.tz",
            *self._phone_get_number_fields(),
        ]

    @api.depends(lambda self: self._outbound_tz_triggers())
    def _compute_outbound_tz(self):
        for lead in self:
            lead.outbound_tz = (
                lead.partner_id.tz or lead._outbound_phone_tz() or lead.team_id._outbound_tz(lead.user_id)
            )

    def _outbound_phone_tz(self):
        """The time zone of the lead's phone number, False when unknown or ambiguous
        with no capital to fall back to."""
        self.ensure_one()
        country = self.country_id or self.company_id.country_id or self.env.company.country_id
        for fname in self._phone_get_number_fields():
            number = self[fname]
            if not number:
                continue
            try:
                parsed = phonenumbers.parse(number, country.code or None)
            except phonenumbers.NumberParseException:
                continue
            region = phonenumbers.region_code_for_number(parsed)
            zones = {self._outbound_country_zone(name, region) for name in phone_timezone.time_zones_for_number(parsed)}
            zones &= pytz.all_timezones_set
            if len(zones) == 1:
                return zones.pop()
            if zones:
                team_tz = self.team_id._outbound_tz(self.user_id)
                return team_tz if team_tz in zones else CAPITAL_TZ.get(region, False)
        return False

    @api.model
    def _outbound_country_zone(self, name, region):
        country_zones = pytz.country_timezones.get(region or "", [])
        if name not in pytz.all_timezones_set or not country_zones or name in country_zones:
            return name
        offset = pytz.timezone(name).utcoffset(REFERENCE_DAY)
        same = [zone for zone in country_zones if pytz.timezone(zone).utcoffset(REFERENCE_DAY) == offset]
        return same[0] if same else name

    def _compute_outbound_local_time(self):
        now = fields.Datetime.now()
        for lead in self:
            lead.outbound_local_time = (
                format_datetime(lead.env, now, tz=lead.outbound_tz, dt_format="EEE HH:mm")
                if lead.outbound_tz
                else False
            )

    @api.depends(
        lambda self: ["outbound_tz", "outbound_next_call_at", "phone_sanitized"] if "team_id" in self._fields else []
    )
    def _compute_outbound_callable_now(self):
        now = fields.Datetime.now()
        callable_ids = set(self.search([("id", "in", self._origin.ids), *self._outbound_callable_now_domain(now)]).ids)
        for lead in self:
            playbook = lead.outbound_playbook_id
            due = lead.outbound_next_call_at
            lead.outbound_callable_now = lead._origin.id in callable_ids
            # A number on the do-not-call list never becomes callable by itself.
            lead.outbound_callable_at = (
                playbook._outbound_window_next(lead.outbound_tz, max(due, now))
                if playbook and due and not lead.outbound_callable_now and not lead.phone_sanitized_blacklisted
                else False
            )
            lead.outbound_outside_window = bool(
                playbook and due and not playbook._outbound_window_open(lead.outbound_tz, due)
            )

    def _search_outbound_callable_now(self, operator, value):
        return self._outbound_boolean_search(
            "outbound_callable_now", operator, value, self._outbound_callable_now_domain
        )

    @api.model
    def _outbound_callable_now_domain(self, now=None):
        """Leads that may be called now (DESIGN.md rule 7): due, inside their client's
        calling window, and with a number that is not on the do-not-call list.

        The one definition of "callable now": the field, its search, Call now, the
        redial notifications and the calling session all use it."""
        now = now or fields.Datetime.now()
        # One query for the playbooks and their calling windows: a session asks at each lead.
        playbooks = (
            self.env["crm.outbound.playbook"]
            .with_context(active_test=False)
            .search_fetch([], ["call_window_start", "call_window_end", *WINDOW_DAYS])
        )
        in_window = [("id", "=", False)]
        for playbook in playbooks:
            in_window = [
                "|",
                *in_window,
                "&",
                ("outbound_playbook_id", "=", playbook.id),
                *self._outbound_in_zones_domain(playbook._outbound_open_time_zones(now)),
            ]
        return [
            *self._outbound_due_domain(),
            *in_window,
            *self._outbound_not_on_holiday_domain(now),
            *self._outbound_not_blacklisted_domain(),
        ]

    @api.model
    def _outbound_in_zones_domain(self, zones):
        """Leads whose client's time zone is one of ``zones``, written with the shorter
        list (the zones in or the zones out): PostgreSQL plans every name of the list,
        some hundreds of them, at each request of a calling session."""
        zones = set(zones)
        others = set(pytz.all_timezones) - zones
        if len(others) < len(zones):
            return (
                ["&", ("outbound_tz", "!=", False), ("outbound_tz", "not in", sorted(others))]
                if others
                else [("outbound_tz", "!=", False)]
            )
        return [("outbound_tz", "in", sorted(zones))]

    @api.model
    def _outbound_not_on_holiday_domain(self, now):
        """Leads whose team's calling hours are not on a holiday (a leave of the
        calendar, or of every calendar) at ``now``."""
        calendars = self.env["crm.team"].sudo().search([("outbound_calendar_id", "!=", False)]).outbound_calendar_id
        if not calendars:
            return []
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id", "=", False),
                    ("time_type", "=", "leave"),
                    ("calendar_id", "in", [False, *calendars.ids]),
                    ("date_from", "<=", now),
                    ("date_to", ">", now),
                ]
            )
        )
        if not leaves:
            return []
        # A leave without a calendar is a holiday of every calendar (as resource counts it).
        resting = calendars if any(not leave.calendar_id for leave in leaves) else leaves.calendar_id
        teams = (
            self.env["crm.team"]
            .sudo()
            .with_context(active_test=False)
            .search([("outbound_calendar_id", "in", resting.ids)])
        )
        return [("team_id", "not in", teams.ids)]

    # ------------------------------------------------------------
    # BUSINESS: the next call inside the calling window
    # ------------------------------------------------------------

    def _outbound_next_callable_time(self, due):
        """``due`` (naive UTC) moved to the first moment inside both the client's calling
        window (the playbook's, in ``outbound_tz``) and the team's calling hours. When the
        two never meet within a few turns, the client's window wins."""
        self.ensure_one()
        playbook = self.outbound_playbook_id
        if not due or not playbook:
            return self.team_id._outbound_next_working_time(due)
        for _turn in range(10):
            moved = playbook._outbound_window_next(self.outbound_tz, self.team_id._outbound_next_working_time(due))
            if moved == due:
                break
            due = moved
        return due
