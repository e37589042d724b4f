from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import OutboundCase

NUMBER = "+7 495 333 00 01"
SANITIZED = "+74953330001"


@tagged("post_install", "-at_install")
@freeze_time("2026-03-02 09:00:00")
class TestOutboundDoNotCall(OutboundCase):
    """DESIGN.md rule 7: do-not-call through Odoo's phone blacklist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_do_not_call = cls.env["crm.outbound.comment.code"].create(
            {"status_id": cls.st_refused.id, "name": "Do not call", "do_not_call": True}
        )
        cls.code_too_expensive = cls.env["crm.outbound.comment.code"].create(
            {"status_id": cls.st_refused.id, "name": "Too expensive"}
        )
        cls.supervisor = new_test_user(
            cls.env,
            login="dnc_supervisor",
            groups="sales_team.group_sale_salesman_all_leads,base.group_system",
            tz="Europe/Moscow",
        )

    def callable_now(self, leads):
        return (
            self.env["crm.lead"]
            .with_user(self.salesman)
            .search([("id", "in", leads.ids), ("outbound_callable_now", "=", True)])
        )

    def refuse(self, lead, code):
        return lead.with_user(self.salesman).outbound_log_call(
            {"status_id": self.st_refused.id, "comment_code_id": code.id, "note": "Swore on the phone"}
        )

    def test_do_not_call_code_blacklists_and_takes_every_lead_with_the_number_out(self):
        lead, sibling, other = self._new_leads(3)
        (lead | sibling).phone = NUMBER
        self.assertEqual(self.callable_now(lead | sibling | other), lead | sibling | other)

        self.refuse(lead, self.code_do_not_call)
        entry = self.env["phone.blacklist"].search([("number", "=", SANITIZED)])
        self.assertTrue(entry.active)
        chatter = "".join(entry.message_ids.mapped("body"))
        self.assertIn(lead.name, chatter)
        self.assertIn("Do not call", chatter)
        self.assertFalse(lead.active, "closed per its status: refused marks it lost")
        self.assertTrue(sibling.active)
        self.assertTrue(sibling.phone_sanitized_blacklisted)
        self.assertEqual(self.callable_now(lead | sibling | other), other, "the sibling left the call lists")
        self.assertFalse(sibling.outbound_callable_now)
        self.assertFalse(sibling.outbound_callable_at, "never callable by itself")

        # A supervisor takes the number off the list through Odoo's own dialog.
        action = sibling.with_user(self.supervisor).phone_action_blacklist_remove()
        self.assertEqual(action["res_model"], "phone.blacklist.remove")
        self.env["phone.blacklist.remove"].with_user(self.supervisor).create(
            {"phone": SANITIZED, "reason": "Asked to be called again"}
        ).action_unblacklist_apply()
        self.assertFalse(entry.active)
        sibling.invalidate_recordset()
        self.assertEqual(self.callable_now(sibling | other), sibling | other)

    def test_a_refusal_without_the_flag_does_not_blacklist(self):
        lead = self._new_leads()
        self.refuse(lead, self.code_too_expensive)
        self.assertFalse(self.env["phone.blacklist"].search([("number", "=", lead.phone_sanitized)]))

    def test_do_not_call_status(self):
        self.st_refused.do_not_call = True
        lead = self._new_leads()
        self.refuse(lead, self.code_too_expensive)
        self.assertTrue(self.env["phone.blacklist"].search([("number", "=", lead.phone_sanitized)]))

    def test_pbx_call_to_a_blacklisted_number_is_kept_and_flagged(self):
        lead, sibling = self._new_leads(2)
        (lead | sibling).phone = NUMBER
        [first_call_id] = self.refuse(lead, self.code_do_not_call)
        self.assertFalse(self.env["crm.outbound.call"].browse(first_call_id).called_despite_dnc)
        pbx = new_test_user(self.env, login="dnc_pbx", groups="crm_outbound.group_outbound_integration")
        [result] = (
            self.env["crm.outbound.call"]
            .with_user(pbx)
            ._outbound_ingest(
                [
                    {
                        "external_id": "dnc-1",
                        "phone": "+7 (495) 333-00-01",
                        "started_at": "2026-03-02T11:30:00+03:00",
                        "duration": 40,
                        "answered": True,
                    }
                ]
            )
        )
        self.assertEqual(result["result"], "created", result)
        call = self.env["crm.outbound.call"].browse(result["call_id"])
        self.assertEqual(call.lead_id, sibling)
        self.assertTrue(call.called_despite_dnc)
        listed = self.env["crm.outbound.call"].with_user(self.supervisor).search([("called_despite_dnc", "=", True)])
        self.assertEqual(listed, call)

    def test_seed_do_not_call_codes(self):
        self.assertTrue(self.env.ref("crm_outbound.comment_trial_do_not_call").do_not_call)
        self.assertTrue(self.env.ref("crm_outbound.comment_b2b_13_do_not_call").do_not_call)
        self.assertFalse(self.env.ref("crm_outbound.status_b2b_13").do_not_call)
