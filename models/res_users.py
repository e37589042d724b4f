from odoo import api, models
from odoo.fields import Command

from . import compat


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _outbound_set_operator_rights(self, user_ids):
        """Give the users ``user_ids`` an operator's rights: Sales / User, own documents
        only (the demo's operators, so that a new user sees an operator's day)."""
        self.browse(user_ids).write(
            {
                compat.user_groups_field(): [
                    Command.unlink(self.env.ref("sales_team.group_sale_manager").id),
                    Command.unlink(self.env.ref("sales_team.group_sale_salesman_all_leads").id),
                    Command.link(self.env.ref("sales_team.group_sale_salesman").id),
                ]
            }
        )
