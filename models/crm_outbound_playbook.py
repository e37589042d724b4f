import functools
from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# Counts and durations of a playbook, where 0 is the smallest sensible value.
NON_NEGATIVE_FIELDS = ("touch_threshold", "overdue_grace", "attempts_per_day", "first_days", "min_attempts_before_lost")
# The calling window's days, Monday first (datetime.weekday()), as calendar.recurrence names them.
WINDOW_DAYS = ("call_mon", "call_tue", "call_wed", "call_thu", "call_fri", "call_sat", "call_sun")


class CrmOutboundPlaybook(models.Model):
    """The complete calling method of a sales team: its status catalog, comment codes,
    redial cadence and calling rules."""

    _name = "crm.outbound.playbook"
    _description = "Outbound Playbook"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share the playbook between companies.")
    description = fields.Text(translate=True)
    script = fields.Html(
        translate=True,
        help="The call script operators read in the calling session (seed 001: a script for each kind of client).",
    )
    script_ids = fields.One2many(
        "crm.outbound.script",
        "playbook_id",
        string="Scripts by Contact Level or Segment",
        help="Scripts for one contact level and/or one segment: the session shows the one that fits the lead "
        "best, else the playbook's script.",
    )
    # Catalog
    status_ids = fields.One2many("crm.outbound.status", "playbook_id", string="Statuses")
    comment_code_ids = fields.One2many("crm.outbound.comment.code", "playbook_id", string="Comment Codes")
    cadence_step_ids = fields.One2many("crm.outbound.cadence.step", "playbook_id", string="Redial Cadence")
    team_ids = fields.One2many("crm.team", "outbound_playbook_id", string="Sales Teams")
    status_count = fields.Integer(compute="_compute_counts")
    team_count = fields.Integer(compute="_compute_counts")
    # Calling rules
    touch_threshold = fields.Integer(
        "Successful Touch Threshold (s)",
        default=30,
        tracking=True,
        help="A call that lasts longer than this many seconds is a successful touch.",
    )
    overdue_grace = fields.Integer(
        "Overdue Grace (hours)",
        default=2,
        tracking=True,
        help="A redial still not made this many hours after it was due is reported to the team leader.",
    )
    exhausted_status_id = fields.Many2one(
        "crm.outbound.status",
        string="Status When Cadence Is Exhausted",
        domain="[('playbook_id', '=', id)]",
        tracking=True,
        help="Set on a lead whose call after the last cadence step goes unanswered too.",
    )
    exhausted_lost_reason_id = fields.Many2one(
        "crm.lost.reason",
        string="Lost Reason When Cadence Is Exhausted",
        tracking=True,
    )
    # Calling discipline (DESIGN.md rule 3, seed 002)
    attempts_per_day = fields.Integer(
        "Attempts per Day",
        default=3,
        tracking=True,
        help="During a lead's first days, the calls it must get each day, counted in the team's time zone.",
    )
    first_days = fields.Integer(
        default=5,
        tracking=True,
        help="How many days, from the lead's creation or assignment, the daily attempts target applies.",
    )
    min_attempts_before_lost = fields.Integer(
        "Minimum Attempts Before Lost",
        default=15,
        tracking=True,
        help="A lead with fewer call attempts may not be marked lost, except through an exempt status "
        "or a supervisor's override. 0 disables the gate.",
    )
    lost_gate_mode = fields.Selection(
        [("block", "Block Operators"), ("flag", "Only Flag")],
        string="Lost Gate",
        required=True,
        default="block",
        tracking=True,
        help="Block: operators cannot mark such a lead lost; supervisors override with a reason. "
        "Only flag: the lead is marked lost, and flagged as lost improperly for the supervisors.",
    )
    network_status_id = fields.Many2one(
        "crm.outbound.status",
        string="Network Sibling Status",
        domain="[('playbook_id', '=', id)]",
        help="Set on the other organisations of a network once one of them reaches a result.",
    )

    # The calling window (DESIGN.md rule 7), in the client's local time.
    call_window_start = fields.Float(
        "Call From", default=9.0, tracking=True, help="Clients are called from this hour, in their own time zone."
    )
    call_window_end = fields.Float(
        "Call Until", default=21.0, tracking=True, help="Clients are called until this hour, in their own time zone."
    )
    call_mon = fields.Boolean("Monday", default=True)
    call_tue = fields.Boolean("Tuesday", default=True)
    call_wed = fields.Boolean("Wednesday", default=True)
    call_thu = fields.Boolean("Thursday", default=True)
    call_fri = fields.Boolean("Friday", default=True)
    call_sat = fields.Boolean("Saturday", default=True)
    call_sun = fields.Boolean("Sunday", default=True)

    @api.depends("status_ids", "team_ids")
    def _compute_counts(self):
        for playbook in self:
            playbook.status_count = len(playbook.status_ids)
            playbook.team_count = len(playbook.team_ids)

    @api.constrains(*NON_NEGATIVE_FIELDS)
    def _check_non_negative(self):
        for playbook in self:
            for fname in NON_NEGATIVE_FIELDS:
                if playbook[fname] < 0:
                    raise ValidationError(
                        _(
                            "Playbook %(playbook)s: %(setting)s cannot be negative (%(value)s); enter 0 or more "
                            "(0 turns a calling discipline rule off).",
                            playbook=playbook.display_name,
                            setting=self._fields[fname]._description_string(self.env),
                            value=playbook[fname],
                        )
                    )

    @api.constrains("call_window_start", "call_window_end", *WINDOW_DAYS)
    def _check_call_window(self):
        for playbook in self:
            if not 0 <= playbook.call_window_start < playbook.call_window_end <= 24:
                raise ValidationError(
                    _(
                        "Playbook %(playbook)s: the calling window %(start)s-%(end)s is not a span of one day; "
                        "give a start before the end, between 0 and 24.",
                        playbook=playbook.display_name,
                        start=playbook.call_window_start,
                        end=playbook.call_window_end,
                    )
                )
            if not any(playbook[day] for day in WINDOW_DAYS):
                raise ValidationError(
                    _("Playbook %(playbook)s: tick at least one calling day.", playbook=playbook.display_name)
                )

    @api.constrains("exhausted_status_id", "network_status_id")
    def _check_own_statuses(self):
        for playbook in self:
            for status in playbook.exhausted_status_id | playbook.network_status_id:
                status._check_in_playbook(playbook)

    # ------------------------------------------------------------
    # BUSINESS: the calling window (DESIGN.md rule 7)
    # ------------------------------------------------------------

    def _outbound_window_bounds(self, tz, day):
        """The calling window of ``day`` (a local date in ``tz``) as aware datetimes,
        or None on a day without calls. Localized per day, so that DST moves it."""
        self.ensure_one()
        if not self[WINDOW_DAYS[day.weekday()]]:
            return None

        def local(hours):
            minutes = round(hours * 60)
            naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
            return tz.normalize(tz.localize(naive))

        return local(self.call_window_start), local(self.call_window_end)

    def _outbound_window_next(self, tz_name, at):
        """The first moment at or after ``at`` (naive UTC) inside the calling window of
        the time zone ``tz_name``, as naive UTC."""
        self.ensure_one()
        tz = pytz.timezone(tz_name or "UTC")
        moment = pytz.utc.localize(at)
        local_day = moment.astimezone(tz).date()
        for offset in range(-1, 8):
            bounds = self._outbound_window_bounds(tz, local_day + timedelta(days=offset))
            if bounds and moment < bounds[1]:
                return max(moment, bounds[0]).astimezone(pytz.utc).replace(tzinfo=None)
        return at

    def _outbound_window_open(self, tz_name, at):
        """Whether ``at`` (naive UTC) is inside the calling window in ``tz_name``."""
        return self._outbound_window_next(tz_name, at) == at

    def _outbound_open_time_zones(self, at):
        """The time zones in which the calling window of ``self`` is open at ``at``
        (naive UTC). The zones are grouped by their offset at that moment, so the
        window is checked once per offset (a few dozen), not once per zone."""
        self.ensure_one()
        zones = []
        for offset, names in _zones_by_offset(at.replace(second=0, microsecond=0)).items():
            local = at + offset
            minutes = local.hour * 60 + local.minute + local.second / 60
            if (
                self[WINDOW_DAYS[local.weekday()]]
                and self.call_window_start * 60 <= minutes < self.call_window_end * 60
            ):
                zones += names
        return sorted(zones)

    # ------------------------------------------------------------
    # BUSINESS: the call script (DESIGN.md rule 8)
    # ------------------------------------------------------------

    def _outbound_script_for(self, segment, contact_level=False):
        """The call script for a lead of ``segment`` spoken to at ``contact_level``
        (False when not known yet): the most specific of the playbook's scripts by
        contact level or segment that fits, else the playbook's own script."""
        self.ensure_one()
        best, best_rank = self.script, -1
        for line in self.script_ids:
            rank = line._outbound_specificity(segment, contact_level)
            if rank is not None and rank > best_rank:
                best, best_rank = line.script, rank
        return best or False


@functools.lru_cache(maxsize=4)
def _zones_by_offset(at):
    """Every IANA zone, grouped by its UTC offset at ``at`` (naive UTC, to the minute:
    offsets change on the hour), cached for the few searches of the same minute."""
    moment = pytz.utc.localize(at)
    groups = {}
    for name in pytz.all_timezones:
        groups.setdefault(moment.astimezone(pytz.timezone(name)).utcoffset(), []).append(name)
    return {offset: tuple(names) for offset, names in groups.items()}
