from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .compat import add_unique_constraint


class CrmOutboundCommentCode(models.Model):
    """A standard one- or two-word comment that goes with a status (seed 004)."""

    _name = "crm.outbound.comment.code"
    _description = "Outbound Comment Code"
    _inherit = ["crm.outbound.delay.mixin"]
    _order = "status_id, sequence, id"

    status_id = fields.Many2one("crm.outbound.status", required=True, index=True, ondelete="cascade")
    playbook_id = fields.Many2one(related="status_id.playbook_id", store=True, index=True)
    company_id = fields.Many2one(related="status_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True, help="When operators use this code.")
    active = fields.Boolean(default=True)
    comment_required = fields.Boolean(help="A free-text comment must follow this code, as in 'Other: …'.")
    lost_reason_id = fields.Many2one(
        "crm.lost.reason",
        help="When the status marks the lead lost, this reason replaces the status's own "
        "(001's grouped refusals: too expensive, features do not fit, works with a competitor).",
    )
    do_not_call = fields.Boolean(
        help="Logging it puts the lead's numbers on the do-not-call list (Odoo's phone blacklist): no lead "
        "with those numbers is offered for calling any more.",
    )
    override_delay = fields.Boolean(
        "Own Delay", help="Schedule the next task after this code's delay instead of the status's."
    )

    add_unique_constraint(
        locals(),
        "name_uniq",
        "UNIQUE(status_id, name)",
        "A comment code must be unique within its status.",
    )

    def _check_in_status(self, status):
        """Raise unless every code of ``self`` goes with ``status``."""
        for code in self:
            if code.status_id != status:
                raise ValidationError(
                    _(
                        "Comment code %(code)s goes with the status %(code_status)s, not with %(status)s.",
                        code=code.name,
                        code_status=code.status_id.display_name,
                        status=status.display_name or _("(none)"),
                    )
                )

    @api.constrains("lost_reason_id", "status_id")
    def _check_lost_reason(self):
        for code in self:
            if code.lost_reason_id and code.status_id.lead_action != "lost":
                raise ValidationError(
                    _(
                        "Comment code %(code)s has the lost reason %(reason)s, but its status %(status)s "
                        "does not mark the lead lost.",
                        code=code.name,
                        reason=code.lost_reason_id.name,
                        status=code.status_id.display_name,
                    )
                )

    @api.constrains("override_delay", "delay")
    def _check_delay(self):
        for code in self:
            if code.override_delay and code.delay < 0:
                raise ValidationError(
                    _(
                        "Comment code %(code)s cannot call back in the past (%(delay)s).",
                        code=code.name,
                        delay=code.delay_display,
                    )
                )
