from odoo import _, api, models
from odoo.exceptions import UserError

from .crm_lead import is_own_write


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model_create_multi
    def create(self, vals_list):
        if not is_own_write(self):
            self._outbound_check_single_task(vals_list)
        return super().create(vals_list)

    def unlink(self):
        leads = self._outbound_leads()
        res = super().unlink()
        leads._outbound_ensure_task()
        return res

    def _action_done(self, feedback=False, attachment_ids=None):
        leads = self._outbound_leads()
        res = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        leads._outbound_ensure_task()
        return res

    def _outbound_leads(self):
        """The leads of these activities whose task rule 1 must re-check afterwards."""
        if is_own_write(self):
            return self.env["crm.lead"]
        lead_ids = {activity.res_id for activity in self if activity.res_model == "crm.lead"}
        return self.env["crm.lead"].browse(lead_ids).exists()

    @api.model
    def _outbound_check_single_task(self, vals_list):
        """Refuse a second pending activity on a lead that must have exactly one
        (DESIGN.md rule 1): the existing task is to be moved, not doubled."""
        model_id = self.env["ir.model"]._get_id("crm.lead")
        lead_ids = [
            vals["res_id"]
            for vals in vals_list
            if vals.get("res_id") and (vals.get("res_model") == "crm.lead" or vals.get("res_model_id") == model_id)
        ]
        if not lead_ids:
            return
        if len(lead_ids) != len(set(lead_ids)):
            raise UserError(_("A lead of an outbound team has exactly one pending task: schedule one per lead."))
        leads = self.env["crm.lead"].browse(lead_ids).exists()._outbound_governed()
        existing = self.search([("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)], limit=1)
        if existing:
            raise UserError(
                _(
                    "Lead %(lead)s already has its one pending task: %(task)s, due %(date)s. "
                    "Move that task (change its due date, type or assignee) or mark it done "
                    "instead of scheduling another one.",
                    lead=self.env["crm.lead"].browse(existing.res_id).display_name,
                    task=existing.summary or existing.activity_type_id.name,
                    date=existing.date_deadline,
                )
            )
