from odoo import api, models

from .compat import keep_done_activities


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    @api.model
    def _outbound_keep_done(self, xmlids):
        """Keep the tasks of these types when they are marked done (data hook)."""
        keep_done_activities(self.browse([self.env.ref(xmlid).id for xmlid in xmlids]))
