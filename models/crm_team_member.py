from odoo import fields, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    # Seed 001's paid time and cost of a client: what a day of this member costs. Kept on
    # the membership (not on an employee, which would need `hr`); a member of several
    # teams is paid once a day, at the highest of his figures.
    outbound_paid_hours = fields.Float(
        "Paid Hours per Day", default=8.0, help="The hours paid for each day the operator makes calls."
    )
    outbound_hourly_cost = fields.Float(
        "Hourly Cost", help="What an hour of this operator costs, in the company's currency."
    )
