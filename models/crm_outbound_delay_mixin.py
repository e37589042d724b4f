from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

DELAY_UNITS = [
    ("minutes", "Minutes"),
    ("hours", "Hours"),
    ("days", "Days"),
    ("weeks", "Weeks"),
    ("months", "Months"),
]
DELAY_SHORT = {"minutes": "min", "hours": "h", "days": "d", "weeks": "w", "months": "mo"}


class CrmOutboundDelayMixin(models.AbstractModel):
    """A time span such as "3 hours" or "1 month", shared by statuses, comment codes
    and cadence steps so that every delay of the module is read the same way."""

    _name = "crm.outbound.delay.mixin"
    _description = "Outbound Delay"

    delay = fields.Integer(
        help="How long after the call the next task is due. For statuses that wait for an "
        "agreed date, an offset from that date: -1 day is the day before.",
    )
    delay_unit = fields.Selection(DELAY_UNITS, default="hours", required=True)
    delay_display = fields.Char("Delay Span", compute="_compute_delay_display")

    @api.depends("delay", "delay_unit")
    def _compute_delay_display(self):
        for record in self:
            record.delay_display = f"{record.delay:+d} {DELAY_SHORT[record.delay_unit]}"

    def _get_delay(self):
        """The delay as a ``relativedelta``, to add to a datetime."""
        self.ensure_one()
        return relativedelta(**{self.delay_unit: self.delay})
