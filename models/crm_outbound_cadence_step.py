from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CrmOutboundCadenceStep(models.Model):
    """After the k-th consecutive unanswered call, the next call is due that call's
    time plus the k-th step's delay (DESIGN.md rule 2)."""

    _name = "crm.outbound.cadence.step"
    _description = "Outbound Redial Cadence Step"
    _inherit = ["crm.outbound.delay.mixin"]
    _order = "playbook_id, sequence, id"

    playbook_id = fields.Many2one("crm.outbound.playbook", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="playbook_id.company_id", store=True)
    sequence = fields.Integer(default=10)

    @api.depends("delay", "delay_unit")
    def _compute_display_name(self):
        for step in self:
            step.display_name = step.delay_display

    @api.constrains("delay")
    def _check_delay(self):
        for step in self:
            if step.delay < 0:
                raise ValidationError(
                    _("A redial cannot be due before the call it follows (%(delay)s).", delay=step.delay_display)
                )
