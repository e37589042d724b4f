from datetime import time, timedelta

from odoo import fields
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.tests import HttpCase, tagged

from .common import OutboundCase


@tagged("post_install", "-at_install")
class TestOutboundSessionUi(OutboundCase, HttpCase):
    """The calling session and the kanban's Log call dialog in real Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.team.member_ids = [(4, cls.admin.id)]
        cls.code_busy = cls.env["crm.outbound.comment.code"].create({"status_id": cls.st_callback.id, "name": "Busy"})

    def _due_lead(self, name, minutes_ago):
        lead = self._new_leads(name=name, user_id=self.admin.id)
        lead.with_context(crm_outbound_applying=OWN_WRITE).outbound_next_call_at = fields.Datetime.now() - timedelta(
            minutes=minutes_ago
        )
        return lead

    def _admin_queue_empty(self):
        # Nobody else's due leads may come first (demo data).
        self.env["crm.lead"].search([("user_id", "=", self.admin.id), ("outbound_call_due", "=", True)]).with_context(
            crm_outbound_applying=OWN_WRITE
        ).outbound_next_call_at = fields.Datetime.now() + timedelta(days=1)

    def test_session_no_answer_callback_result_skip(self):
        self._admin_queue_empty()
        lead_a, lead_b, lead_c, lead_d = (
            self._due_lead(f"Session lead {letter}", minutes)
            for letter, minutes in zip("ABCD", (40, 30, 20, 10), strict=True)
        )
        picks = {pick["key"]: pick["value"] for pick in lead_b._outbound_quick_picks(lead_b._outbound_client_tz())}
        self.start_tour(
            "/odoo/action-crm_outbound.crm_outbound_session_action", "crm_outbound_session_tour", login="admin"
        )
        self.assertEqual((lead_a.outbound_status_id, lead_a.outbound_no_answer_count), (self.st_no_answer, 1))
        self.assertOneTask(lead_a, self.type_redial)
        self.assertEqual(lead_b.outbound_status_id, self.st_callback)
        self.assertEqual(lead_b.outbound_comment_code_id, self.code_busy)
        self.assertEqual(fields.Datetime.to_string(lead_b.outbound_agreed_at), picks["tomorrow"])
        self.assertEqual(lead_b.outbound_next_call_at, lead_b.outbound_agreed_at)
        self.assertEqual(lead_c.outbound_status_id, self.st_interest)
        self.assertOneTask(lead_c, self.type_sell)
        self.assertFalse(lead_d.outbound_call_ids, "a skipped lead gets no call")
        self.assertIn("Client is driving", lead_d.message_ids[0].body)
        self.assertGreater(lead_d.outbound_claim_until, fields.Datetime.now() + timedelta(minutes=20))
        self.assertEqual(lead_a.outbound_call_ids.user_id, self.admin)

    def test_session_result_with_a_date(self):
        """A result with a date in ≤ 5 actions (issue 15), a picked day called at 10:00,
        and the decision maker's script once the status says who is on the line."""
        self._admin_queue_empty()
        meeting = self.env["crm.outbound.status"].create(
            {
                "playbook_id": self.playbook.id,
                "sequence": 5,
                "code": "mtg",
                "name": "Meeting booked",
                "contact_level": "decision_maker",
                "outcome": "success",
                "is_result": True,
                "activity_type_id": self.type_sell.id,
                "task_timing": "agreed",
                "agreed_date_label": "Meeting at",
                "delay": 0,
            }
        )
        self.playbook.script = "<p>General script</p>"
        self.env["crm.outbound.script"].create(
            {"playbook_id": self.playbook.id, "contact_level": "decision_maker", "script": "<p>Ask for the budget</p>"}
        )
        # The browser runs in the machine's zone (UTC here): the picked day is midnight there.
        self.admin.tz = "UTC"
        lead_e, lead_f = (
            self._due_lead(f"Session lead {letter}", minutes) for letter, minutes in (("E", 20), ("F", 10))
        )
        picks = {pick["key"]: pick["value"] for pick in lead_e._outbound_quick_picks(lead_e._outbound_client_tz())}
        self.start_tour(
            "/odoo/action-crm_outbound.crm_outbound_session_action", "crm_outbound_session_date_tour", login="admin"
        )
        self.assertEqual(lead_e.outbound_status_id, meeting)
        self.assertEqual(fields.Datetime.to_string(lead_e.outbound_agreed_at), picks["monday"])
        self.assertOneTask(lead_e, self.type_sell)
        next_month = (fields.Date.today().replace(day=1) + timedelta(days=32)).replace(day=15)
        self.assertEqual(lead_f.outbound_status_id, meeting)
        # 18.0's picker gives the day at midnight, which becomes 10:00; 19.0's the current hour.
        self.assertEqual(lead_f.outbound_agreed_at.date(), next_month)
        self.assertNotEqual(lead_f.outbound_agreed_at.time(), time(0), "never at midnight")
        self.assertEqual(lead_f.outbound_next_call_at, lead_f.outbound_agreed_at)

    def test_kanban_drag_to_a_status_that_asks_for_input_opens_the_dialog(self):
        lead = self._new_leads(name="Tour dialog lead", user_id=self.admin.id)
        refused = self._new_leads(name="Tour refused lead", user_id=self.admin.id)
        (lead | refused).outbound_status_id = self.st_no_answer
        self.start_tour(
            "/odoo/action-crm_outbound.crm_lead_action_outbound", "crm_outbound_kanban_dialog_tour", login="admin"
        )
        self.assertFalse(refused.active, "Refused marks the lead lost")
        self.assertEqual(refused.outbound_status_id, self.st_refused)
        self.assertEqual(refused.outbound_call_ids.note, "Too expensive")
        self.assertEqual((lead.active, lead.outbound_status_id), (True, self.st_no_answer), "cancel changes nothing")
        self.assertFalse(lead.outbound_call_ids)
