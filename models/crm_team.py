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
