from odoo import api, fields, models


class CrmLeadLostOverride(models.TransientModel):
    """A supervisor's dialog that marks leads lost below their playbook's minimum of
    call attempts, with the reason for overriding the rule."""

    _name = "crm.lead.lost.override"
    _description = "Override the Lost Gate"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True, context={"active_test": False})
    lead_summary = fields.Text("Call Attempts", compute="_compute_lead_summary")
    lost_reason_id = fields.Many2one("crm.lost.reason")
    status_id = fields.Many2one(
        "crm.outbound.status",
        domain="[('lead_action', '=', 'lost')]",
        help="The lost status the operator chose, to set on the leads; leave empty to only mark them lost.",
    )
    reason = fields.Text("Override Reason", required=True, help="Why the minimum of call attempts does not apply.")

    @api.depends("lead_ids")
    def _compute_lead_summary(self):
        for wizard in self:
            wizard.lead_summary = "\n".join(
                f"{lead.display_name}: {lead.outbound_attempt_count} / "
                f"{lead.outbound_playbook_id.min_attempts_before_lost}"
                for lead in wizard.lead_ids
            )

    def action_override_apply(self):
        self.ensure_one()
        self.lead_ids.outbound_override_lost(
            self.reason, lost_reason_id=self.lost_reason_id.id, status_id=self.status_id.id
        )
        return {"type": "ir.actions.act_window_close"}
