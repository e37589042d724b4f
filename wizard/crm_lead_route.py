from odoo import api, fields, models


class CrmLeadRoute(models.TransientModel):
    """A supervisor's dialog that routes the selected leads by segment (DESIGN.md rule 5).

    A dialog rather than a server action: the Action menu hides an action whose model the
    user may not read, on Odoo 18 and 19 alike, and this model is readable by supervisors
    and managers only."""

    _name = "crm.lead.route"
    _description = "Route Leads by Segment"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True, context={"active_test": False})
    lead_count = fields.Integer("Selected Leads", compute="_compute_lead_count")

    @api.depends("lead_ids")
    def _compute_lead_count(self):
        for wizard in self:
            wizard.lead_count = len(wizard.lead_ids)

    def action_route_apply(self):
        self.ensure_one()
        return self.lead_ids.action_outbound_route_by_segment()
