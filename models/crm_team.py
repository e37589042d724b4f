from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import _, fields, models
from odoo.tools import format_date

from .crm_outbound_segment_route import ROLES


class CrmTeam(models.Model):
    _inherit = "crm.team"

    outbound_playbook_id = fields.Many2one(
        "crm.outbound.playbook",
        index=True,
        tracking=True,
        help="The calling method of this team. Leads of teams without a playbook are left "
        "alone by every outbound rule.",
    )
    outbound_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Calling Hours",
        help="When set, a next call due outside these working hours moves to the next "
        "working time, in the calendar's time zone.",
    )
    outbound_role = fields.Selection(
        ROLES,
        index=True,
        tracking=True,
        help="The part of the calling base this team works: Route by Segment sends it the "
        "leads of the segments its company maps to this role.",
    )

    def write(self, vals):
        res = super().write(vals)
        if "outbound_playbook_id" in vals:
            leads = (
                self.env["crm.lead"]
                .with_context(active_test=False)
                .search([("team_id", "in", self.ids), ("outbound_status_id", "!=", False)])
            )
            leads._outbound_clear_foreign_status(self.env["crm.outbound.playbook"].browse(vals["outbound_playbook_id"]))
        return res

    def _outbound_tz(self, user=None):
        """The time zone the team's calling days are counted in: its calling hours', its
        leader's, else ``user``'s (the lead's salesperson), else UTC."""
        return self.outbound_calendar_id.tz or self.user_id.tz or (user and user.tz) or "UTC"

    def _outbound_next_working_time(self, due):
        """``due`` (naive UTC) if it falls in the team's calling hours, else the start
        of the next working interval; ``due`` unchanged when the team has no calendar."""
        calendar = self.outbound_calendar_id
        if not due or not calendar:
            return due
        start = pytz.utc.localize(due)
        # Holidays and long weekends: look a month ahead, in the calendar's time zone.
        intervals = calendar._work_intervals_batch(start, start + timedelta(days=31), tz=pytz.timezone(calendar.tz))
        for interval_start, interval_stop, _record in intervals[False]:
            if interval_stop > start:
                return max(interval_start, start).astimezone(pytz.utc).replace(tzinfo=None)
        return due

    def _outbound_digest_body(self):
        """The leader's daily digest of the team ``self``, or False when there is
        nothing to say: no call yesterday and every control list empty."""
        self.ensure_one()
        tz = pytz.timezone(self._outbound_tz())
        today = pytz.utc.localize(fields.Datetime.now()).astimezone(tz).date()
        yesterday = today - timedelta(days=1)
        rows = (
            self.env["crm.outbound.call.report"]
            .sudo()
            ._read_group(
                [("team_id", "=", self.id), ("call_date", "=", yesterday)],
                ["user_id"],
                ["call_count:sum", "answered_count:sum", "touch_count:sum", "result_count:sum"],
            )
        )

        def utc(day):
            return tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc).replace(tzinfo=None)

        Lead = self.env["crm.lead"].sudo().with_context(tz=tz.zone, active_test=False)
        team_domain = [("team_id", "=", self.id)]
        lists = [
            (_("Redials overdue"), [*team_domain, ("outbound_redial_overdue", "=", True)]),
            (
                _("Leads in their first days that missed a day's calling target"),
                [
                    *team_domain,
                    ("active", "=", True),
                    ("outbound_first_days_target", "=", "missed"),
                    ("outbound_first_days_end", ">=", yesterday),
                ],
            ),
            (
                _("Leads lost yesterday below the minimum of call attempts"),
                [
                    *team_domain,
                    ("active", "=", False),
                    "|",
                    ("outbound_lost_improperly", "=", True),
                    ("outbound_lost_override", "=", True),
                    ("date_closed", ">=", utc(yesterday)),
                    ("date_closed", "<", utc(today)),
                ],
            ),
        ]
        counts = [(label, Lead.search_count(domain)) for label, domain in lists]
        if not rows and not any(count for _label, count in counts):
            return False
        header = Markup("<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            _("Operator"),
            _("Calls"),
            _("Answered"),
            _("Successful Touches"),
            _("Results"),
        )
        lines = Markup().join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (user.name or _("Unassigned"), calls, answered, touches, results)
            for user, calls, answered, touches, results in rows
        )
        items = Markup().join(Markup("<li>%s: %s</li>") % (label, count) for label, count in counts if count)
        return Markup("<p>%s</p><table class='table table-sm'>%s%s</table><ul>%s</ul>") % (
            _("Calls on %(day)s:", day=format_date(self.env, yesterday)),
            header,
            lines,
            items,
        )
