from odoo import fields, models


class CrmOutboundCallAttach(models.TransientModel):
    """Attach unmatched telephony calls to the lead a supervisor picks."""

    _name = "crm.outbound.call.attach"
    _description = "Attach Unmatched Calls to a Lead"

    call_ids = fields.Many2many("crm.outbound.call", string="Calls", required=True, domain=[("lead_id", "=", False)])
    phone = fields.Char(compute="_compute_phone")
    lead_id = fields.Many2one("crm.lead", required=True, domain=[("outbound_playbook_id", "!=", False)])

    def _compute_phone(self):
        for wizard in self:
            wizard.phone = ", ".join(sorted(set(wizard.call_ids.filtered("phone").mapped("phone"))))

    def action_attach(self):
        self.ensure_one()
        self.call_ids._outbound_attach(self.lead_id)
        return {"type": "ir.actions.act_window_close"}
