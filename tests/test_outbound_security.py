"""DESIGN.md rules 3 and 6 against a cheating user: facts nobody but the module writes,
calls created only by logging, record rules on calls, merges that keep the calls, and a
lost gate with no back door that never discards the call (issue 13)."""

import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, RedirectWarning, UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import OutboundCase, dt

BELOW = r"has \d+ call attempts; at least 15 are needed before it may be marked lost"
# Context keys an RPC caller may send, which once switched rules off.
CHEAT_CONTEXT = {
    "crm_outbound_applying": True,
    "crm_outbound_cadence_exhausted": True,
    "crm_outbound_lost_override": "I say so",
    "crm_outbound_operator_id": 1,
    "crm_outbound_call_source": "webhook",
}


class SecurityCase(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env, login="outbound_supervisor", groups="sales_team.group_sale_salesman_all_leads", tz="Europe/Moscow"
        )
        cls.colleague = new_test_user(
            cls.env, login="outbound_colleague", groups="sales_team.group_sale_salesman", tz="Europe/Moscow"
        )
        cls.pbx = new_test_user(cls.env, login="outbound_pbx", groups="crm_outbound.group_outbound_integration")
        cls.team.member_ids = [(4, cls.supervisor.id), (4, cls.colleague.id)]
        cls.playbook.min_attempts_before_lost = 15  # seed 002; OutboundCase turns the gate off
        # A lost status that needs no comment, as telephony reports it.
        cls.st_hung_up = cls.env["crm.outbound.status"].create(
            {
                "playbook_id": cls.playbook.id,
                "sequence": 5,
                "code": "hang",
                "name": "Hung up",
                "outcome": "refusal",
                "is_final": True,
                "task_timing": "none",
                "lead_action": "lost",
                "lost_reason_id": cls.lost_refused.id,
            }
        )

    def _lead(self, attempts=0, **vals):
        lead = self._new_leads(**vals)
        lead._outbound_write_facts({"outbound_attempt_count": attempts})
        return lead

    def assertOpen(self, lead):
        lead.invalidate_recordset()
        self.assertTrue(lead.active, f"{lead.name} must stay open")
        self.assertFalse(lead.lost_reason_id)


@tagged("post_install", "-at_install")
class TestOutboundFacts(SecurityCase):
    FACTS = {
        "outbound_attempt_count": 15,
        "outbound_attempts_day_count": 3,
        "outbound_attempts_date": "2026-03-02",
        "outbound_no_answer_count": 0,
        "outbound_touch_count": 9,
        "outbound_last_call_at": "2026-03-02 10:00:00",
        "outbound_next_call_at": "2026-04-02 10:00:00",
        "outbound_due_notified_at": "2026-04-02 10:00:00",
        "outbound_overdue_reported_at": "2026-04-02 10:00:00",
        "outbound_first_days_target": "met",
        "outbound_lost_improperly": False,
        "outbound_lost_override": True,
        "outbound_lost_override_reason": "Because",
        "outbound_segment": "active_customer",
    }

    def test_users_cannot_write_facts(self):
        lead = self._lead(attempts=2)
        head = self._lead()
        facts = {
            **self.FACTS,
            "outbound_lost_override_user_id": self.supervisor.id,
            "outbound_network_head_id": head.id,
        }
        for user in (self.salesman, self.supervisor, self.manager):
            for fname, value in facts.items():
                label = lead._fields[fname].string
                with (
                    self.subTest(user=user.login, field=fname),
                    self.assertRaisesRegex(AccessError, rf"{label} \({fname}\) cannot be written"),
                ):
                    lead.with_user(user).write({fname: value})
        self.assertEqual(lead.outbound_attempt_count, 2)
        self.assertFalse(lead.outbound_lost_override)

    def test_facts_refused_on_create_import_and_lost(self):
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with self.assertRaisesRegex(AccessError, r"Call Attempts \(outbound_attempt_count\)"):
            Lead.create({"name": "Forged", "team_id": self.team.id, "outbound_attempt_count": 15})
        result = Lead.load(["name", "team_id/.id", "outbound_attempt_count"], [["Imported", str(self.team.id), "15"]])
        self.assertFalse(result["ids"])
        self.assertIn("(outbound_attempt_count) cannot be written", json.dumps(result["messages"]))
        lead = self._lead()
        with self.assertRaisesRegex(AccessError, r"outbound_attempt_count"):
            lead.with_user(self.salesman).action_set_lost(outbound_attempt_count=15)
        self.assertOpen(lead)

    def test_context_keys_switch_no_rule_off(self):
        lead = self._lead(attempts=2)
        cheat = lead.with_user(self.salesman).with_context(**CHEAT_CONTEXT)
        with self.assertRaises(AccessError):
            cheat.write({"outbound_attempt_count": 15})
        with self.assertRaisesRegex(UserError, BELOW):
            cheat.action_set_lost(lost_reason_id=self.lost_refused.id)
        with self.assertRaisesRegex(UserError, BELOW):
            cheat.write({"active": False})
        with self.assertRaisesRegex(UserError, BELOW):
            cheat.write({"outbound_status_id": self.st_refused.id})
        other = self._lead().with_user(self.salesman).with_context(**CHEAT_CONTEXT)
        with self.assertRaisesRegex(UserError, "already has its one pending task"):
            other.activity_schedule("mail.mail_activity_data_todo", summary="A second task")
        self.assertOpen(lead)
        self.assertEqual(lead.outbound_attempt_count, 2)
        # The operator and the source of a logged call are not context either.
        [call_id] = cheat.outbound_log_call({"status_id": self.st_no_answer.id})
        call = self.env["crm.outbound.call"].browse(call_id)
        self.assertEqual((call.user_id, call.source), (self.salesman, "manual"))

    def test_supervisor_context_key_carries_no_override(self):
        lead = self._lead(attempts=2)
        with self.assertRaises(RedirectWarning):
            lead.with_user(self.supervisor).with_context(**CHEAT_CONTEXT).action_set_lost()
        self.assertOpen(lead)
        self.assertFalse(lead.outbound_lost_override)


@tagged("post_install", "-at_install")
class TestOutboundCallRecord(SecurityCase):
    def test_calls_cannot_be_forged(self):
        lead = self._lead()
        forged = {
            "lead_id": lead.id,
            "user_id": self.colleague.id,
            "duration": 3600,
            "answered": True,
            "is_touch": True,
            "external_id": "pbx-1",
            "integration_user_id": self.pbx.id,
        }
        for user in (self.salesman, self.supervisor, self.manager):
            with self.subTest(user=user.login), self.assertRaisesRegex(AccessError, "cannot be created by hand"):
                self.env["crm.outbound.call"].with_user(user).create(forged)
        # An integration reports calls with its own rights, as itself only.
        other_pbx = new_test_user(self.env, login="outbound_pbx_2", groups="crm_outbound.group_outbound_integration")
        reported = (
            self.env["crm.outbound.call"].with_user(self.pbx).create({**forged, "integration_user_id": other_pbx.id})
        )
        self.assertEqual(reported.integration_user_id, self.pbx)
        [call_id] = lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        call = self.env["crm.outbound.call"].browse(call_id)
        for user in (self.salesman, self.supervisor, self.manager):
            for fname in ("duration", "is_touch", "external_id", "integration_user_id", "user_id", "lead_id"):
                with (
                    self.subTest(user=user.login, field=fname),
                    self.assertRaisesRegex(AccessError, rf"except its note \(you tried: {fname}\)"),
                ):
                    call.with_user(user).write({fname: forged[fname]})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                call.with_user(user).unlink()
        call.with_user(self.salesman).write({"note": "Asked to call after lunch"})
        self.assertEqual(call.note, "Asked to call after lunch")
        self.assertEqual((call.duration, call.is_touch, call.external_id), (0, False, False))

    def test_no_call_on_a_lead_the_operator_may_not_read(self):
        theirs = self._lead(user_id=self.colleague.id)
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.assertFalse(theirs.outbound_call_ids)
        self.assertEqual(theirs.outbound_attempt_count, 0)

    def test_deleting_a_lead_deletes_no_call(self):
        lead = self._lead()
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with self.assertRaisesRegex(UserError, "has 1 logged calls, and calls are never deleted"):
            lead.with_user(self.manager).unlink()
        self.assertTrue(lead.outbound_call_ids.exists())

    def test_only_integrations_report_calls(self):
        lead = self._lead()
        item = {
            "external_id": "x1",
            "lead_id": lead.id,
            "started_at": "2026-03-02T12:00:00+03:00",
            "duration": 3600,
            "answered": True,
            "operator": self.colleague.login,
        }
        for user in (self.salesman, self.supervisor):
            with self.subTest(user=user.login), self.assertRaisesRegex(AccessError, "may not report calls"):
                self.env["crm.outbound.call"].with_user(user)._outbound_ingest([item])
        [result] = self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest([item])
        self.assertEqual(result["result"], "created")
        call = self.env["crm.outbound.call"].browse(result["call_id"])
        self.assertEqual((call.user_id, call.integration_user_id), (self.colleague, self.pbx))

    def test_cdr_import_for_integrations_and_supervisors(self):
        lead = self._lead()
        columns = ["external_id", "lead_id/.id", "call_at", "duration", "answered"]
        row = ["cdr-1", str(lead.id), "2026-03-02 12:00:00", "40", "1"]
        result = self.env["crm.outbound.call"].with_user(self.salesman).load(columns, [row])
        self.assertFalse(result["ids"])
        self.assertIn("may not report calls", result["messages"][0]["message"])
        self.assertFalse(lead.outbound_call_ids)
        result = self.env["crm.outbound.call"].with_user(self.supervisor).load(columns, [row])
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        self.assertEqual(lead.outbound_attempt_count, 1)

    def test_users_read_the_calls_of_the_leads_they_may_read(self):
        mine, unassigned = self._lead(), self._lead(user_id=False)
        theirs = self._lead(user_id=self.colleague.id)
        for lead in mine | unassigned | theirs:
            lead._outbound_log_call({"status_id": self.st_no_answer.id, "note": "Secret"}, operator=self.supervisor)
        [unmatched] = self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [{"external_id": "u1", "phone": "+7 499 555 55 55", "started_at": "2026-03-02T12:00:00+03:00",
              "duration": 5, "answered": True}]
        )  # fmt: skip
        self.assertEqual(unmatched["result"], "unmatched")
        Call = self.env["crm.outbound.call"]
        everything = Call.search([("lead_id", "in", (mine | unassigned | theirs).ids)]) | Call.browse(
            unmatched["call_id"]
        )
        self.assertEqual(len(everything), 4)
        self.assertEqual(
            Call.with_user(self.salesman).search([("id", "in", everything.ids)]).lead_id, mine | unassigned
        )
        with self.assertRaises(AccessError):
            theirs.outbound_call_ids.with_user(self.salesman).read(["note"])
        with self.assertRaises(AccessError):
            Call.browse(unmatched["call_id"]).with_user(self.salesman).read(["phone"])
        self.assertEqual(Call.with_user(self.supervisor).search([("id", "in", everything.ids)]), everything)
        self.assertEqual(Call.with_user(self.pbx).search([("id", "in", everything.ids)]), everything)
        # Lost leads' calls too, since the operator may still read the lead.
        mine._outbound_own().action_archive()
        self.assertEqual(len(Call.with_user(self.salesman).search([("lead_id", "=", mine.id)])), 1)

    def test_integration_group_is_named_as_designed(self):
        group = self.env.ref("crm_outbound.group_outbound_integration")
        self.assertEqual(group.with_context(lang="en_US").name, "Outbound: Telephony Integration")


@tagged("post_install", "-at_install")
class TestOutboundMerge(SecurityCase):
    @freeze_time("2026-03-02 09:00:00")
    def test_merge_moves_the_calls_and_recounts(self):
        self.playbook.min_attempts_before_lost = 0
        head, tail = self._lead(), self._lead()
        head.type = tail.type = "opportunity"
        with freeze_time("2026-03-02 06:00:00"):
            tail.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id, "duration": 120})
        for hour in (7, 8):
            with freeze_time(f"2026-03-02 0{hour}:00:00"):
                head.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
                tail.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        calls = (head | tail).outbound_call_ids
        self.assertEqual(len(calls), 5)
        merged = (head | tail).with_user(self.salesman).merge_opportunity()
        self.assertTrue(merged.exists())
        self.assertEqual(len(calls.exists()), 5, "a merge deletes no call")
        self.assertEqual(merged.outbound_call_ids, calls)
        self.assertEqual(merged.outbound_attempt_count, 5)
        self.assertEqual(merged.outbound_touch_count, 1)
        self.assertEqual(merged.outbound_no_answer_count, 4)
        self.assertEqual(merged.outbound_last_call_at, dt("2026-03-02 08:00:00"))
        self.assertEqual(merged.with_user(self.salesman).outbound_attempts_today, 5)

    def test_merge_into_a_lost_lead_passes_the_gate(self):
        stages = self.env["crm.stage"].search([("is_won", "=", False)], order="sequence")
        for user in (self.salesman, self.supervisor):
            with self.subTest(user=user.login):
                # Lost properly (the count said 15), further in the pipeline: the merge keeps it.
                lost = self._lead(attempts=15, type="opportunity", stage_id=stages[-1].id)
                lost.action_set_lost(lost_reason_id=self.lost_refused.id)
                open_lead = self._lead(type="opportunity", stage_id=stages[0].id)
                leads = (lost | open_lead).with_user(user)
                if user == self.salesman:
                    with self.assertRaisesRegex(UserError, r"has 0 call attempts"), self.env.cr.savepoint():
                        leads.merge_opportunity()
                    self.assertTrue(open_lead.exists())
                    self.assertOpen(open_lead)
                else:
                    merged = leads.merge_opportunity()
                    self.assertEqual(merged, lost)
                    self.assertFalse(merged.active)
                    self.assertTrue(merged.outbound_lost_improperly, "recorded, with its author")


@tagged("post_install", "-at_install")
class TestOutboundGateRoutes(SecurityCase):
    """Every route to lost below the minimum: refused for an operator, sent to the
    override dialog (or recorded) for a supervisor."""

    def _routes(self):
        def lost_dialog(lead, user):
            wizard = (
                self.env["crm.lead.lost"]
                .with_user(user)
                .with_context(default_lead_ids=lead.ids)
                .create({"lost_reason_id": self.lost_refused.id})
            )
            wizard.action_lost_reason_apply()

        return {
            "archive": lambda lead, user: lead.with_user(user).action_archive(),
            "write active": lambda lead, user: lead.with_user(user).write({"active": False}),
            "action_set_lost": lambda lead, user: lead.with_user(user).action_set_lost(),
            "lost reason dialog": lost_dialog,
            "status (kanban, form)": lambda lead, user: lead.with_user(user).write(
                {"outbound_status_id": self.st_refused.id}
            ),
            "web_save": lambda lead, user: lead.with_user(user).web_save({"active": False}, {}),
        }

    def test_every_route_refuses_an_operator_and_redirects_a_supervisor(self):
        for name, route in self._routes().items():
            for user, error in ((self.salesman, UserError), (self.supervisor, RedirectWarning)):
                lead = self._lead(attempts=3)
                with self.subTest(route=name, user=user.login), self.assertRaisesRegex(error, BELOW):
                    route(lead, user)
                self.assertOpen(lead)
                self.assertFalse(lead.outbound_lost_improperly or lead.outbound_lost_override)

    def test_import_refuses_the_loss(self):
        for user in (self.salesman, self.supervisor):
            lead = self._lead(attempts=3)
            result = self.env["crm.lead"].with_user(user).load([".id", "active"], [[str(lead.id), "0"]])
            with self.subTest(user=user.login):
                self.assertFalse(result["ids"])
                self.assertRegex(result["messages"][0]["message"], BELOW)
                self.assertOpen(lead)

    def test_import_of_a_lost_lead_is_refused_for_an_operator(self):
        for user in (self.salesman, self.supervisor):
            result = (
                self.env["crm.lead"]
                .with_user(user)
                .load(["name", "team_id/.id", "active"], [["Imported lost", str(self.team.id), "0"]])
            )
            with self.subTest(user=user.login):
                if user == self.salesman:
                    self.assertFalse(result["ids"])
                    self.assertRegex(result["messages"][0]["message"], r"has 0 call attempts")
                else:
                    lead = self.env["crm.lead"].with_context(active_test=False).browse(result["ids"])
                    self.assertTrue(lead.outbound_lost_improperly, "recorded for a supervisor")

    def test_team_detour_is_refused_for_an_operator_and_recorded_otherwise(self):
        for user in (self.salesman, self.supervisor):
            with self.subTest(user=user.login):
                lead = self._lead(attempts=1).with_user(user)
                lead.team_id = self.plain_team
                lead.action_set_lost(lost_reason_id=self.lost_refused.id)
                self.assertFalse(lead.active)
                if user == self.salesman:
                    with self.assertRaisesRegex(UserError, r"has 1 call attempts"), self.env.cr.savepoint():
                        lead.team_id = self.team
                    lead.invalidate_recordset()
                    self.assertEqual(lead.team_id, self.plain_team)
                else:
                    lead.team_id = self.team
                    self.assertTrue(lead.outbound_lost_improperly)
                    note = lead.message_ids.filtered(lambda m: "Lost improperly" in (m.body or ""))
                    self.assertEqual(note.author_id, self.supervisor.partner_id)

    def test_superuser_code_is_recorded_except_the_exhausted_cadence(self):
        lead = self._lead(attempts=2)
        lead.sudo().action_set_lost(lost_reason_id=self.lost_refused.id)
        self.assertFalse(lead.active)
        self.assertTrue(lead.outbound_lost_improperly, "superuser code is not held but flagged")

    def test_telephony_status_code_never_loses_below_the_minimum(self):
        lead = self._lead()
        [result] = self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [{"external_id": "t1", "lead_id": lead.id, "started_at": "2026-03-02T12:00:00+03:00",
              "duration": 60, "answered": True, "status_code": "hang"}]
        )  # fmt: skip
        self.assertEqual(result["result"], "created")
        self.assertOpen(lead)
        self.assertEqual(lead.outbound_attempt_count, 1)
        self.assertEqual(self.env["crm.outbound.call"].browse(result["call_id"]).status_id, self.st_hung_up)
        self.assertOneTask(lead)

    def test_attaching_an_unmatched_call_never_loses_below_the_minimum(self):
        lead = self._lead()
        [result] = self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [{"external_id": "a1", "phone": "+7 499 555 55 56", "started_at": "2026-03-02T12:00:00+03:00",
              "duration": 60, "answered": True, "status_code": "hang"}]
        )  # fmt: skip
        self.assertEqual(result["result"], "unmatched")
        call = self.env["crm.outbound.call"].browse(result["call_id"])
        wizard = (
            self.env["crm.outbound.call.attach"]
            .with_user(self.supervisor)
            .create({"call_ids": call.ids, "lead_id": lead.id})
        )
        wizard.action_attach()
        self.assertEqual(call.lead_id, lead)
        self.assertOpen(lead)
        self.assertEqual(lead.outbound_attempt_count, 1)

    def test_cdr_import_never_loses_below_the_minimum(self):
        lead = self._lead()
        columns = ["external_id", "lead_id/.id", "call_at", "duration", "answered", "status_code"]
        result = (
            self.env["crm.outbound.call"]
            .with_user(self.supervisor)
            .load(columns, [["cdr-2", str(lead.id), "2026-03-02 12:00:00", "40", "1", "hang"]])
        )
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        self.assertOpen(lead)
        self.assertEqual(lead.outbound_attempt_count, 1)

    def test_override_always_carries_a_reason(self):
        lead = self._lead(attempts=2)
        with self.assertRaisesRegex(UserError, "Give the reason"):
            lead.with_user(self.supervisor).outbound_override_lost("")
        with self.assertRaisesRegex(AccessError, "needs the right"):
            lead.with_user(self.salesman).outbound_override_lost("Because")
        with self.assertRaisesRegex(UserError, "does not mark a lead lost"):
            lead.with_user(self.supervisor).outbound_override_lost("Because", status_id=self.st_interest.id)
        self.assertOpen(lead)
        wizard = Form(
            self.env["crm.lead.lost.override"].with_user(self.supervisor).with_context(default_lead_ids=lead.ids)
        )
        wizard.reason = "Closed down"
        wizard.save().action_override_apply()
        self.assertFalse(lead.active)
        self.assertEqual(
            (lead.outbound_lost_override, lead.outbound_lost_override_reason, lead.outbound_lost_override_user_id),
            (True, "Closed down", self.supervisor),
        )


@tagged("post_install", "-at_install")
class TestOutboundGateKeepsTheCall(SecurityCase):
    @freeze_time("2026-03-02 09:00:00")
    def test_a_refusal_below_the_minimum_is_logged_and_the_lead_stays_open(self):
        for user in (self.salesman, self.supervisor):
            with self.subTest(user=user.login):
                lead = self._lead(user_id=user.id)
                [call_id] = lead.with_user(user).outbound_log_call(
                    {"status_id": self.st_refused.id, "note": "Hung up", "duration": 20}
                )
                call = self.env["crm.outbound.call"].browse(call_id)
                self.assertEqual((call.status_id, call.lead_id, call.user_id), (self.st_refused, lead, user))
                self.assertOpen(lead)
                self.assertEqual(lead.outbound_attempt_count, 1)
                # The next attempt, after the cadence's first delay (1 hour).
                self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"))
                self.assertOneTask(lead)
                note = lead.message_ids.filtered(lambda m: "stays open" in (m.body or ""))
                self.assertIn("14 attempts remain", note.body)

    def test_flag_mode_loses_and_flags(self):
        self.playbook.lost_gate_mode = "flag"
        lead = self._lead()
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_refused.id, "note": "Hung up"})
        self.assertFalse(lead.active)
        self.assertTrue(lead.outbound_lost_improperly)
        self.assertEqual(lead.outbound_attempt_count, 1)

    def test_seed_minimums_fit_each_method(self):
        ref = self.env.ref
        self.assertEqual(ref("crm_outbound.playbook_b2b_cold").min_attempts_before_lost, 3)
        self.assertEqual(len(ref("crm_outbound.playbook_b2b_cold").cadence_step_ids), 2, "3 calls")
        self.assertEqual(ref("crm_outbound.playbook_trial_lesson").min_attempts_before_lost, 15)
        self.assertEqual(ref("crm_outbound.playbook_basic").min_attempts_before_lost, 15)

    def test_b2b_hang_up_on_the_first_call_is_kept(self):
        """Issue 13's case: «5. ЛПР: не надо ничего, брошена трубка» on a first call."""
        team = self.env["crm.team"].create(
            {"name": "B2B", "outbound_playbook_id": self.env.ref("crm_outbound.playbook_b2b_cold").id}
        )
        lead = self._new_leads(team_id=team.id)
        status = self.env.ref("crm_outbound.status_b2b_5")
        lead.with_user(self.salesman).outbound_log_call({"status_id": status.id, "note": "Hung up"})
        self.assertOpen(lead)
        self.assertEqual(lead.outbound_call_ids.status_id, status)
        note = lead.message_ids.filtered(lambda m: "stays open" in (m.body or ""))
        self.assertIn("2 attempts remain", note.body)


@tagged("post_install", "-at_install")
class TestOutboundCheatingOverRpc(SecurityCase, HttpCase):
    """The same refusals through /web/dataset/call_kw, as the web client or a script."""

    def call_kw(self, model, method, args, kwargs=None, context=None):
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": args,
                        "kwargs": {**(kwargs or {}), "context": context or {}},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        ).json()
        return response.get("result"), response.get("error", {}).get("data", {}).get("message")

    def test_operator_cheats_over_rpc(self):
        lead = self._lead(attempts=2)
        self.authenticate(self.salesman.login, self.salesman.login)
        _result, error = self.call_kw(
            "crm.lead", "write", [lead.ids, {"outbound_attempt_count": 15}], context=CHEAT_CONTEXT
        )
        self.assertIn("outbound_attempt_count", error)
        _result, error = self.call_kw("crm.lead", "action_set_lost", [lead.ids], context=CHEAT_CONTEXT)
        self.assertRegex(error, BELOW)
        _result, error = self.call_kw(
            "crm.outbound.call",
            "create",
            [{"lead_id": lead.id, "duration": 3600, "is_touch": True, "external_id": "pbx-9"}],
        )
        self.assertIn("cannot be created by hand", error)
        _result, error = self.call_kw("crm.lead", "_outbound_write_facts", [lead.ids, {"outbound_attempt_count": 15}])
        self.assertIn("cannot be called remotely", error)
        result, error = self.call_kw(
            "crm.lead", "outbound_log_call", [lead.ids, {"status_id": self.st_refused.id, "note": "Hung up"}],
            context=CHEAT_CONTEXT,
        )  # fmt: skip
        self.assertFalse(error)
        lead.invalidate_recordset()
        self.assertTrue(lead.active)
        self.assertEqual(lead.outbound_attempt_count, 3)
        call = self.env["crm.outbound.call"].browse(result)
        self.assertEqual((call.user_id, call.source, call.status_id), (self.salesman, "manual", self.st_refused))
        self.assertTrue(call.call_at <= fields.Datetime.now() + timedelta(minutes=1))
