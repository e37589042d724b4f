from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    outbound_lapse_months = fields.Integer(
        "Customer Lapses After (Months)",
        default=6,
        help="A partner who bought within this many months is an active customer; one who "
        "bought earlier is a lapsed customer.",
    )
