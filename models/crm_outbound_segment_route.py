"""Which team role serves each segment of the calling base (DESIGN.md rule 5, issue 7)."""

from odoo import api, fields, models

from .compat import add_unique_constraint

SEGMENTS = [
    ("never_called", "Never Called"),
    ("refused_early", "Refused at Once"),
    ("offer_refused", "Standard Offer Refused"),
    ("special_offer_refused", "Special Offer Refused"),
    ("lapsed_customer", "Lapsed Customer"),
    ("active_customer", "Active Customer"),
]
ROLES = [
    ("cold", "Cold Calling"),
    ("win_back", "Win-Back"),
    ("account_service", "Account Service"),
]


class CrmOutboundSegmentRoute(models.Model):
    """Which role serves a segment, per company."""

    _name = "crm.outbound.segment.route"
    _description = "Outbound Segment Route"
    _order = "company_id, segment"

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    segment = fields.Selection(SEGMENTS, required=True)
    role = fields.Selection(ROLES, help="Leave empty to leave the segment's leads where they are.")

    add_unique_constraint(
        locals(),
        "segment_uniq",
        "UNIQUE(company_id, segment)",
        "A segment is routed once per company.",
    )

    @api.model
    def _outbound_role_by_segment(self, companies):
        """{(company id, segment): role} of ``companies``."""
        routes = self.sudo().search([("company_id", "in", companies.ids)])
        return {(route.company_id.id, route.segment): route.role for route in routes}
