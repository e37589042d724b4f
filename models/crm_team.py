from datetime import timedelta

import pytz

from odoo import fields, models


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
