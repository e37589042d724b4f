from odoo import _, api, fields, models

from .crm_outbound_segment_route import SEGMENTS
from .crm_outbound_status import CONTACT_LEVELS


class CrmOutboundScript(models.Model):
    """A playbook's call script for one contact level and/or one segment of leads (seed
    001: a script for each kind of client). The session shows the most specific script
    that fits the lead, else the playbook's own."""

    _name = "crm.outbound.script"
    _description = "Outbound Call Script"
    _order = "playbook_id, sequence, id"

    playbook_id = fields.Many2one("crm.outbound.playbook", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="playbook_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    contact_level = fields.Selection(
        CONTACT_LEVELS, help="Shown when the operator speaks to this level. Empty: any level."
    )
    segment = fields.Selection(SEGMENTS, help="Shown for leads of this segment. Empty: any segment.")
    script = fields.Html(translate=True, required=True)

    @api.depends("contact_level", "segment")
    def _compute_display_name(self):
        levels = dict(self._fields["contact_level"]._description_selection(self.env))
        segments = dict(self._fields["segment"]._description_selection(self.env))
        for line in self:
            names = [levels.get(line.contact_level), segments.get(line.segment)]
            line.display_name = " · ".join(name for name in names if name) or _("Any Lead")

    def _outbound_specificity(self, segment, contact_level):
        """How closely the script ``self`` fits a lead of ``segment`` spoken to at
        ``contact_level`` (False when unknown): a higher number fits better, None not at
        all. The contact level weighs more than the segment: who is on the line decides
        what to say."""
        self.ensure_one()
        if self.contact_level and self.contact_level != contact_level:
            return None
        if self.segment and self.segment != segment:
            return None
        return 2 * bool(self.contact_level) + bool(self.segment)
