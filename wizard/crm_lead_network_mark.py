from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmLeadNetworkMark(models.TransientModel):
    """Mark network siblings: choose the head, preview its siblings with the reasons
    they match, untick any, confirm (DESIGN.md rule 4)."""

    _name = "crm.lead.network.mark"
    _description = "Mark Network Siblings"

    lead_ids = fields.Many2many(
        "crm.lead", string="Leads", default=lambda self: self._default_lead_ids(), context={"active_test": False}
    )
    playbook_id = fields.Many2one("crm.outbound.playbook", compute="_compute_playbook_id")
    head_id = fields.Many2one(
        "crm.lead",
        string="Head Lead",
        compute="_compute_head_id",
        store=True,
        readonly=False,
        domain="[('outbound_playbook_id', '=', playbook_id), ('outbound_network_head_id', '=', False)]",
        help="The organisation of the network that got the result; the others are marked as its siblings.",
    )
    line_ids = fields.One2many(
        "crm.lead.network.mark.line",
        "wizard_id",
        string="Siblings",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    selected_count = fields.Integer(compute="_compute_selected_count")

    @api.model
    def _default_lead_ids(self):
        # Opened from a lead's notification button, a list or a kanban selection.
        if self.env.context.get("active_model") == "crm.lead":
            return self.env.context.get("active_ids") or []
        return []

    @api.depends("lead_ids")
    def _compute_playbook_id(self):
        for wizard in self:
            wizard.playbook_id = wizard.lead_ids._origin.outbound_playbook_id[:1]

    @api.depends("lead_ids")
    def _compute_head_id(self):
        for wizard in self:
            wizard.head_id = wizard._default_head(wizard.lead_ids._origin)

    @api.model
    def _default_head(self, leads):
        """The lead with the best status by catalog order; a sibling points to its head."""
        if len(leads) == 1:
            return leads.outbound_network_head_id or leads
        eligible = leads.filtered(lambda lead: not lead.outbound_network_head_id)
        with_status = eligible.filtered("outbound_status_id")
        if with_status:
            return with_status.sorted(lambda lead: (lead.outbound_status_id.sequence, lead.outbound_status_id.id))[0]
        return eligible[:1]

    @api.depends("head_id")
    def _compute_line_ids(self):
        for wizard in self:
            # In a dialog, the wizard is a new record: its leads are too, the real ones are their origin.
            head = wizard.head_id._origin
            if not head:
                wizard.line_ids = [fields.Command.clear()]
                continue
            found = head._outbound_find_siblings().get(head, {})
            leads = wizard.lead_ids._origin
            chosen = leads.with_context(active_test=False) - head
            if len(leads) > 1:
                # A selection is what the user chose: preview it, with the reasons it matches.
                candidates = chosen
            else:
                candidates = head.browse(list({lead.id for lead in found} | set(chosen.ids)))
            skipped = candidates._outbound_network_skip_reasons(head)
            commands = [fields.Command.clear()]
            for lead in candidates.with_context(active_test=False):
                reasons = found.get(lead)
                commands.append(
                    fields.Command.create(
                        {
                            "lead_id": lead.id,
                            "reasons": "; ".join(lead._outbound_sibling_reason_labels(reasons))
                            if reasons
                            else _("Chosen by hand"),
                            "skip_reason": skipped.get(lead, False),
                            # A sibling with a result of its own is kept unless ticked.
                            "selected": lead not in skipped and not lead.outbound_status_id.is_result,
                        }
                    )
                )
            wizard.line_ids = commands

    @api.depends("line_ids.selected", "line_ids.skip_reason")
    def _compute_selected_count(self):
        for wizard in self:
            wizard.selected_count = len(wizard.line_ids.filtered(lambda line: line.selected and not line.skip_reason))

    def action_mark_network(self):
        self.ensure_one()
        if not self.head_id:
            raise UserError(_("Choose the head lead: the organisation of the network that got the result."))
        leads = self.line_ids.filtered(lambda line: line.selected and not line.skip_reason).lead_id
        if not leads:
            raise UserError(_("No lead is ticked: tick the network siblings to mark, or cancel."))
        result = leads.outbound_mark_network(self.head_id.id)
        message = _(
            "%(count)s leads marked as network siblings of %(head)s.",
            count=len(result["marked"]),
            head=self.head_id.display_name,
        )
        if result["skipped"]:
            message = _(
                "%(message)s Skipped: %(skipped)s.",
                message=message,
                skipped=", ".join(f"{item['name']} ({item['reason']})" for item in result["skipped"]),
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class CrmLeadNetworkMarkLine(models.TransientModel):
    """One candidate sibling in the preview of the Mark network siblings wizard."""

    _name = "crm.lead.network.mark.line"
    _description = "Network Sibling Candidate"

    wizard_id = fields.Many2one("crm.lead.network.mark", required=True, ondelete="cascade")
    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    selected = fields.Boolean("Mark", default=True)
    reasons = fields.Char("Why")
    skip_reason = fields.Char("Skipped Because")
    status_id = fields.Many2one(related="lead_id.outbound_status_id")
    user_id = fields.Many2one(related="lead_id.user_id")
    partner_name = fields.Char(related="lead_id.partner_name")
    phone = fields.Char(related="lead_id.phone")
