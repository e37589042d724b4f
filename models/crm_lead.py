from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    outbound_playbook_id = fields.Many2one(related="team_id.outbound_playbook_id", store=True, index=True)
    outbound_status_id = fields.Many2one(
        "crm.outbound.status",
        index=True,
        tracking=True,
        copy=False,
        domain="[('playbook_id', '=', outbound_playbook_id)]",
        group_expand="_read_group_outbound_status_ids",
    )
    outbound_status_code = fields.Char(related="outbound_status_id.code", string="Status Code")
    outbound_status_color = fields.Integer(related="outbound_status_id.color", string="Status Color")
    outbound_outcome = fields.Selection(related="outbound_status_id.outcome", store=True, string="Outcome")
    outbound_contact_level = fields.Selection(
        related="outbound_status_id.contact_level", store=True, string="Contact Level"
    )
    outbound_is_final = fields.Boolean(related="outbound_status_id.is_final", store=True, string="Final Status")
    outbound_comment_code_id = fields.Many2one(
        "crm.outbound.comment.code",
        string="Comment Code",
        copy=False,
        tracking=True,
        domain="[('status_id', '=', outbound_status_id)]",
    )
    outbound_comment = fields.Text(copy=False)

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model
    def _read_group_outbound_status_ids(self, statuses, domain):
        """Show every status of the playbooks in view as a kanban column, in catalog
        order, even when no lead has it yet."""
        playbook_id = self.env.context.get("crm_outbound_playbook_id")
        if playbook_id:
            playbook_ids = [playbook_id]
        else:
            playbook_ids = [
                playbook.id for [playbook] in self._read_group(domain, ["outbound_playbook_id"]) if playbook
            ]
        return statuses | statuses.search([("playbook_id", "in", playbook_ids)])

    @api.constrains("outbound_status_id", "outbound_comment_code_id", "team_id")
    def _check_outbound_status(self):
        for lead in self:
            lead.outbound_status_id._check_in_playbook(lead.outbound_playbook_id)
            lead.outbound_comment_code_id._check_in_status(lead.outbound_status_id)

    def write(self, vals):
        # A status belongs to one playbook: leads moved to a team with another playbook
        # (or none) leave their status behind instead of failing the consistency check.
        if "team_id" in vals and "outbound_status_id" not in vals:
            playbook = self.env["crm.team"].browse(vals["team_id"]).outbound_playbook_id
            self._outbound_clear_foreign_status(playbook)
        return super().write(vals)

    @api.onchange("outbound_status_id")
    def _onchange_outbound_status_id(self):
        if self.outbound_comment_code_id.status_id != self.outbound_status_id:
            self.outbound_comment_code_id = False

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _outbound_clear_foreign_status(self, playbook):
        """Clear the status of the leads of ``self`` whose status is not of ``playbook``."""
        foreign = self.filtered(
            lambda lead: lead.outbound_status_id and lead.outbound_status_id.playbook_id != playbook
        )
        if foreign:
            foreign.write({"outbound_status_id": False, "outbound_comment_code_id": False})
