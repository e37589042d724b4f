from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime


class CrmLeadLogCall(models.TransientModel):
    """The Log call dialog: collects one call's outcome and logs it on the leads."""

    _name = "crm.lead.log.call"
    _description = "Log an Outbound Call"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True)
    playbook_id = fields.Many2one("crm.outbound.playbook", compute="_compute_playbook_id")
    status_id = fields.Many2one("crm.outbound.status", required=True, domain="[('playbook_id', '=', playbook_id)]")
    comment_code_id = fields.Many2one("crm.outbound.comment.code", domain="[('status_id', '=', status_id)]")
    has_comment_codes = fields.Boolean(compute="_compute_status_rules")
    comment_required = fields.Boolean(compute="_compute_status_rules")
    agreed_date_label = fields.Char(compute="_compute_status_rules")
    note = fields.Text()
    duration = fields.Integer("Duration (s)")
    agreed_at = fields.Datetime("Agreed Date")
    # What the operator sees before logging: the lead, and when its next call will be.
    lead_summary = fields.Html(compute="_compute_lead_summary", sanitize=False)
    next_call_preview = fields.Char("Next Call", compute="_compute_next_call_preview")

    @api.depends("lead_ids")
    def _compute_lead_summary(self):
        for wizard in self:
            lead = wizard.lead_ids[:1]
            if len(wizard.lead_ids) != 1:
                wizard.lead_summary = (
                    Markup("<p>%s</p>") % _("%(count)s leads", count=len(wizard.lead_ids)) if wizard.lead_ids else False
                )
                continue
            facts = [
                value
                for value in (
                    lead.phone,
                    lead.outbound_status_id.display_name,
                    lead.outbound_no_answer_label,
                    _("%(count)s attempts", count=lead.outbound_attempt_count),
                )
                if value
            ]
            comment = " — ".join(
                value for value in (lead.outbound_comment_code_id.name, lead.outbound_comment) if value
            )
            summary = Markup("<p><strong>%s</strong> · %s</p>") % (lead.display_name, " · ".join(facts))
            if comment:
                summary += Markup('<p class="text-muted">%s</p>') % _("Last comment: %(comment)s", comment=comment)
            wizard.lead_summary = summary

    @api.depends("lead_ids", "status_id", "comment_code_id", "agreed_at")
    def _compute_next_call_preview(self):
        for wizard in self:
            lead = wizard.lead_ids[:1]
            if not lead or not wizard.status_id or lead.outbound_playbook_id != wizard.status_id.playbook_id:
                wizard.next_call_preview = False
                continue
            due = lead._origin.outbound_preview_next_call(
                wizard.status_id.id, wizard.comment_code_id.id, wizard.agreed_at or False
            )
            wizard.next_call_preview = (
                format_datetime(self.env, fields.Datetime.to_datetime(due), dt_format="short")
                if due
                else _("No further call")
            )

    @api.depends("lead_ids")
    def _compute_playbook_id(self):
        for wizard in self:
            wizard.playbook_id = wizard.lead_ids.outbound_playbook_id[:1]

    @api.depends("status_id", "comment_code_id")
    def _compute_status_rules(self):
        for wizard in self:
            status, code = wizard.status_id, wizard.comment_code_id
            wizard.has_comment_codes = bool(status.comment_code_ids)
            wizard.comment_required = status.comment_required or code.comment_required
            wizard.agreed_date_label = (
                status.agreed_date_label if status.task_timing == "agreed" and not code.override_delay else False
            )

    @api.onchange("status_id")
    def _onchange_status_id(self):
        if self.comment_code_id.status_id != self.status_id:
            self.comment_code_id = False

    @api.onchange("agreed_at")
    def _onchange_agreed_at(self):
        # A picked day or a date typed without a time is midnight: never the time agreed.
        agreed = self.env["crm.lead"]._outbound_with_call_time(self.agreed_at)
        if agreed != self.agreed_at:
            self.agreed_at = agreed

    def action_log_call(self):
        self.ensure_one()
        if len(self.lead_ids.outbound_playbook_id) > 1:
            raise UserError(_("These leads follow different playbooks: log their calls one playbook at a time."))
        if self.agreed_date_label and not self.agreed_at:
            raise UserError(
                _(
                    "Fill in “%(label)s”: the status %(status)s needs the date and time agreed with the client.",
                    label=self.agreed_date_label,
                    status=self.status_id.display_name,
                )
            )
        # One lead that gets a result: offer its network siblings in the next dialog
        # rather than in a notification (DESIGN.md rule 4).
        offer_here = len(self.lead_ids) == 1 and self.status_id.is_result
        self.lead_ids.with_context(crm_outbound_network_offer_done=offer_here).outbound_log_call(
            {
                "status_id": self.status_id.id,
                "comment_code_id": self.comment_code_id.id,
                "note": self.note,
                "duration": self.duration,
                "agreed_at": self.agreed_at,
            }
        )
        if offer_here and self.lead_ids._outbound_with_unmarked_siblings():
            return self.lead_ids.action_outbound_network_mark()
        return {"type": "ir.actions.act_window_close"}
