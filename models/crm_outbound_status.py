from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .compat import add_unique_constraint

CONTACT_LEVELS = [
    ("decision_maker", "Decision Maker"),
    ("gatekeeper", "Gatekeeper / Secretary"),
    ("none", "Nobody Reached"),
]
OUTCOMES = [
    ("success", "Success"),
    ("interest", "Interest"),
    ("hook", "Hook"),
    ("callback", "Callback"),
    ("no_answer", "No Answer"),
    ("refusal", "Refusal"),
    ("invalid", "Invalid Data"),
    ("network", "Network Sibling"),
    ("closed", "Closed"),
]
LEAD_ACTIONS = [
    ("none", "Nothing"),
    ("won", "Mark Won"),
    ("lost", "Mark Lost"),
]
TASK_TIMINGS = [
    ("none", "No Task"),
    ("delay", "Delay After the Call"),
    ("agreed", "Agreed Date"),
    ("cadence", "Redial Cadence"),
]


class CrmOutboundStatus(models.Model):
    """One outcome of a call, in the catalog of a playbook."""

    _name = "crm.outbound.status"
    _description = "Outbound Status"
    _inherit = ["crm.outbound.delay.mixin"]
    _order = "playbook_id, sequence, id"
    _rec_names_search = ["code", "name"]

    playbook_id = fields.Many2one("crm.outbound.playbook", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="playbook_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    code = fields.Char(required=True, help="The short label operators know, such as 2.5.")
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    # What the call reached
    contact_level = fields.Selection(CONTACT_LEVELS, required=True, default="none")
    outcome = fields.Selection(OUTCOMES, required=True, default="no_answer")
    is_result = fields.Boolean("Result", help="Counts as a result in the operators' KPIs.")
    is_final = fields.Boolean("Final", help="A lead in a final status needs no next task.")
    # What it does to the lead
    lead_action = fields.Selection(LEAD_ACTIONS, required=True, default="none")
    lost_reason_id = fields.Many2one("crm.lost.reason")
    lost_gate_exempt = fields.Boolean(
        "Exempt From the Lost Gate",
        help="A lead in this status may be marked lost whatever its number of call attempts: a refusal "
        "after a real conversation, bad data, a duplicate, a network sibling.",
    )
    # The next task
    activity_type_id = fields.Many2one("mail.activity.type", string="Next Task")
    task_timing = fields.Selection(TASK_TIMINGS, required=True, default="delay")
    agreed_date_label = fields.Char(
        translate=True,
        help="The label of the date asked for when a call gets this status, "
        "such as 'Callback at'. The task is due at that date plus the delay.",
    )
    do_not_call = fields.Boolean(
        help="Logging it puts the lead's numbers on the do-not-call list (Odoo's phone blacklist): no lead "
        "with those numbers is offered for calling any more.",
    )
    comment_required = fields.Boolean(help="A free-text comment must go with this status.")
    comment_code_ids = fields.One2many("crm.outbound.comment.code", "status_id", string="Comment Codes")

    add_unique_constraint(
        locals(),
        "code_uniq",
        "UNIQUE(playbook_id, code)",
        "A status code must be unique within its playbook.",
    )

    @api.depends("code", "name")
    def _compute_display_name(self):
        for status in self:
            status.display_name = f"{status.code}. {status.name}" if status.code else status.name

    @api.constrains("is_final", "task_timing", "activity_type_id")
    def _check_task_rule(self):
        for status in self:
            if status.is_final and status.task_timing != "none":
                raise ValidationError(
                    _(
                        "Status %(status)s is final, so it cannot schedule a next task: "
                        "set its task timing to 'No Task'.",
                        status=status.display_name,
                    )
                )
            if status.task_timing != "none" and not status.activity_type_id:
                raise ValidationError(
                    _("Status %(status)s schedules a next task: choose its activity type.", status=status.display_name)
                )
            if status.task_timing == "agreed" and not status.agreed_date_label:
                raise ValidationError(
                    _(
                        "Status %(status)s waits for an agreed date: give that date a label, such as 'Callback at'.",
                        status=status.display_name,
                    )
                )

    @api.constrains("lead_action", "lost_reason_id")
    def _check_lost_reason(self):
        for status in self:
            if status.lost_reason_id and status.lead_action != "lost":
                raise ValidationError(
                    _(
                        "Status %(status)s has the lost reason %(reason)s but does not mark the lead lost.",
                        status=status.display_name,
                        reason=status.lost_reason_id.name,
                    )
                )

    def _check_in_playbook(self, playbook):
        """Raise unless every status of ``self`` belongs to ``playbook``."""
        for status in self:
            if status.playbook_id != playbook:
                raise ValidationError(
                    _(
                        "Status %(status)s belongs to the playbook %(status_playbook)s, not to %(playbook)s.",
                        status=status.display_name,
                        status_playbook=status.playbook_id.display_name,
                        playbook=playbook.display_name or _("(none)"),
                    )
                )
