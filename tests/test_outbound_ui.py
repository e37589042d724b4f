from datetime import timedelta

from odoo import fields
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.tests import HttpCase, tagged

from .common import OutboundCase


@tagged("post_install", "-at_install")
class TestOutboundUi(OutboundCase, HttpCase):
    """The operator's screens in real Chromium (tours in static/tests/tours)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.team.member_ids = [(4, cls.admin.id)]

    def test_outbound_kanban_drag_sets_the_status(self):
        lead = self._new_leads(name="Tour kanban lead", user_id=self.admin.id)
        lead.outbound_status_id = self.st_no_answer
        self.start_tour("/odoo/action-crm_outbound.crm_lead_action_outbound", "crm_outbound_kanban_tour", login="admin")
        self.assertEqual(lead.outbound_status_id, self.st_interest)
        self.assertOneTask(lead, self.type_sell)

    def test_call_now_logs_an_unanswered_call(self):
        lead = self._new_leads(name="Tour due lead", user_id=self.admin.id)
        lead.outbound_status_id = self.st_no_answer
        lead.with_context(crm_outbound_applying=OWN_WRITE).outbound_next_call_at = fields.Datetime.now() - timedelta(
            minutes=5
        )
        self.assertTrue(lead.outbound_call_due)
        before = fields.Datetime.now()
        self.start_tour(
            "/odoo/action-crm_outbound.crm_lead_action_call_now", "crm_outbound_call_now_tour", login="admin"
        )
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_attempt_count, 1)
        self.assertGreaterEqual(lead.outbound_next_call_at, before + timedelta(hours=1) - timedelta(seconds=1))
        self.assertOneTask(lead, self.type_redial)
