from odoo import _, api, fields, models
from odoo.exceptions import UserError

CALL_SOURCES = [
    ("manual", "Manual"),
    ("webhook", "Telephony"),
    ("import", "Import"),
]


class CrmOutboundCall(models.Model):
    """One call attempt: the unit of every counter and KPI of the module.

    Calls are logged through ``crm.lead.outbound_log_call``, which also applies their
    status to the lead; once logged, only the note may change, and operators never
    delete them."""

    _name = "crm.outbound.call"
    _description = "Outbound Call"
    _order = "call_at desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", index=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", index="btree_not_null")
    user_id = fields.Many2one("res.users", string="Operator", index=True, default=lambda self: self.env.user)
    team_id = fields.Many2one("crm.team", index=True)
    playbook_id = fields.Many2one("crm.outbound.playbook", index=True)
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    call_at = fields.Datetime("Call Time", required=True, index=True, default=fields.Datetime.now)
    duration = fields.Integer("Duration (s)")
    answered = fields.Boolean(help="Somebody picked up the phone.")
    is_touch = fields.Boolean(
        "Successful Touch",
        help="The call lasted longer than the playbook's threshold (30 seconds by default).",
    )
    status_id = fields.Many2one("crm.outbound.status", index=True)
    comment_code_id = fields.Many2one("crm.outbound.comment.code")
    contact_level = fields.Selection(related="status_id.contact_level", store=True)
    outcome = fields.Selection(related="status_id.outcome", store=True)
    is_result = fields.Boolean(related="status_id.is_result", store=True, string="Result")
    note = fields.Text()
    agreed_at = fields.Datetime("Agreed Date")
    recording_url = fields.Char("Recording")
    source = fields.Selection(CALL_SOURCES, required=True, default="manual")
    external_id = fields.Char("External ID", index="btree_not_null", copy=False, help="The telephony's id of the call.")

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    def write(self, vals):
        if not self.env.is_superuser() and not self.env.user.has_group("sales_team.group_sale_manager"):
            locked = set(vals) - self._get_operator_writable_fields()
            if locked:
                raise UserError(
                    _(
                        "A logged call cannot be changed, except its note (you tried: %(fields)s). "
                        "Log a new call instead.",
                        fields=", ".join(sorted(locked)),
                    )
                )
        return super().write(vals)

    @api.model
    def _get_operator_writable_fields(self):
        return {"note"}
