from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    outbound_lapse_months = fields.Integer(related="company_id.outbound_lapse_months", readonly=False)
