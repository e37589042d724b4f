import re
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, RedirectWarning, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common import OutboundCase, dt

BELOW = r"has 14 call attempts; at least 15 are needed before it may be marked lost"


@tagged("post_install", "-at_install")
class TestOutboundLostGate(OutboundCase):
    """DESIGN.md rule 3: no lead of a playbook team is lost below the minimum of call
    attempts by an operator, whatever the route to lost."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env,
            login="outbound_supervisor",
            groups="sales_team.group_sale_salesman_all_leads",
            tz="Europe/Moscow",
        )
        cls.team.member_ids = [(4, cls.supervisor.id)]
        cls.playbook.min_attempts_before_lost = 15  # seed 002; OutboundCase turns the gate off

    def _lead(self, attempts=14, **vals):
        lead = self._new_leads(**vals)
        # The counter the calls keep (outbound_log_call is tested to feed it elsewhere).
        lead._outbound_write_facts({"outbound_attempt_count": attempts})
        return lead

    def assertStillOpen(self, lead):
        lead.invalidate_recordset()
        self.assertTrue(lead.active, "the lead is not lost")
        self.assertFalse(lead.lost_reason_id)

    def test_settings_defaults_follow_seed_002(self):
        playbook = self.env["crm.outbound.playbook"].create({"name": "Defaults"})
        self.assertEqual(
            (playbook.attempts_per_day, playbook.first_days, playbook.min_attempts_before_lost),
            (3, 5, 15),
        )
        self.assertEqual(playbook.lost_gate_mode, "block")

    def test_negative_settings_are_refused_naming_the_value(self):
        for fname, label in (
            ("touch_threshold", "Successful Touch Threshold (s)"),
            ("overdue_grace", "Overdue Grace (hours)"),
            ("attempts_per_day", "Attempts per Day"),
            ("first_days", "First Days"),
            ("min_attempts_before_lost", "Minimum Attempts Before Lost"),
        ):
            with (
                self.subTest(fname),
                self.assertRaisesRegex(ValidationError, rf"{re.escape(label)} cannot be negative \(-2\)"),
                self.env.cr.savepoint(),
            ):
                self.playbook.write({fname: -2})
            self.playbook.invalidate_recordset()

    def test_operator_refused_by_action_set_lost(self):
        lead = self._lead()
        with self.assertRaisesRegex(UserError, BELOW):
            lead.with_user(self.salesman).action_set_lost(lost_reason_id=self.lost_refused.id)
        self.assertStillOpen(lead)

    def test_operator_refused_by_the_lost_dialog(self):
        lead = self._lead()
        wizard_form = Form(self.env["crm.lead.lost"].with_user(self.salesman).with_context(default_lead_ids=lead.ids))
        wizard_form.lost_reason_id = self.lost_refused
        wizard = wizard_form.save()
        with self.assertRaisesRegex(UserError, BELOW):
            wizard.action_lost_reason_apply()
        self.assertStillOpen(lead)

    def test_operator_refused_by_a_lost_status(self):
        lead = self._lead()
        with self.assertRaisesRegex(UserError, BELOW):
            lead.with_user(self.salesman).write({"outbound_status_id": self.st_refused.id})
        self.assertStillOpen(lead)

    def test_operator_refused_by_archiving(self):
        lead = self._lead()
        with self.assertRaisesRegex(UserError, BELOW):
            lead.with_user(self.salesman).action_archive()
        with self.assertRaisesRegex(UserError, BELOW):
            lead.with_user(self.salesman).write({"active": False})
        self.assertStillOpen(lead)

    def test_operator_may_lose_at_the_minimum(self):
        lead = self._lead(attempts=14)
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_refused.id, "note": "No budget"})
        self.assertFalse(lead.active)
        self.assertEqual(lead.outbound_attempt_count, 15)
        self.assertEqual(lead.lost_reason_id, self.lost_refused)
        self.assertFalse(lead.outbound_lost_improperly or lead.outbound_lost_override)

    def test_gate_ignores_teams_without_playbook_and_a_zero_minimum(self):
        self.assertEqual(self.playbook.min_attempts_before_lost, 15)
        plain = self._new_leads(team_id=self.plain_team.id)
        plain.with_user(self.salesman).action_set_lost()
        self.assertFalse(plain.active)
        self.playbook.min_attempts_before_lost = 0
        lead = self._lead(attempts=0)
        lead.with_user(self.salesman).action_set_lost()
        self.assertFalse(lead.active)

    def test_exempt_status_passes(self):
        self.st_refused.lost_gate_exempt = True
        lead = self._lead(attempts=0)
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_refused.id, "note": "Real talk: no"})
        self.assertFalse(lead.active)
        self.assertEqual(lead.outbound_attempt_count, 1)
        self.assertFalse(lead.outbound_lost_improperly)

    @freeze_time("2026-03-02 09:00:00")
    def test_exhausted_cadence_is_not_held(self):
        """The playbook's cadence closes the lead, not the operator (3 unanswered calls here)."""
        lead = self._new_leads()
        for _attempt in range(3):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.lost_not_reached)
        self.assertFalse(lead.outbound_lost_improperly)

    def test_supervisor_overrides_through_the_dialog_and_it_is_logged(self):
        lead = self._lead(attempts=4)
        with self.assertRaisesRegex(RedirectWarning, "has 4 call attempts; at least 15") as caught:
            lead.with_user(self.supervisor).action_set_lost(lost_reason_id=self.lost_refused.id)
        self.assertStillOpen(lead)
        _message, action_id, _button, context = caught.exception.args
        action = self.env["ir.actions.act_window"].browse(action_id)
        self.assertEqual(action.res_model, "crm.lead.lost.override")
        wizard_form = Form(self.env[action.res_model].with_user(self.supervisor).with_context(**context))
        self.assertEqual(wizard_form.lost_reason_id, self.lost_refused, "the dialog keeps the chosen lost reason")
        wizard_form.reason = "The company closed down"
        wizard_form.save().action_override_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.lost_refused)
        self.assertTrue(lead.outbound_lost_override)
        self.assertEqual(lead.outbound_lost_override_reason, "The company closed down")
        self.assertEqual(lead.outbound_lost_override_user_id, self.supervisor)
        self.assertFalse(lead.outbound_lost_improperly)
        logged = lead.message_ids.filtered(lambda message: "The company closed down" in (message.body or ""))
        self.assertEqual(len(logged), 1, "the override and its reason are logged on the lead")
        self.assertIn("4 of the 15 call attempts", logged.body)
        self.assertEqual(
            self.env["crm.lead"].with_context(active_test=False).search([("outbound_lost_override", "=", True)]),
            lead,
        )

    def test_supervisor_override_applies_the_lost_status(self):
        lead = self._lead(attempts=2)
        with self.assertRaises(RedirectWarning) as caught:
            lead.with_user(self.supervisor).write({"outbound_status_id": self.st_refused.id})
        context = caught.exception.args[3]
        self.assertEqual(context["default_status_id"], self.st_refused.id)
        wizard = (
            self.env["crm.lead.lost.override"]
            .with_user(self.supervisor)
            .with_context(**context)
            .create({"reason": "Duplicate of another lead"})
        )
        wizard.action_override_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.outbound_status_id, self.st_refused)
        self.assertEqual(lead.lost_reason_id, self.lost_refused)
        self.assertTrue(lead.outbound_lost_override)

    def test_override_needs_a_supervisor_and_a_reason(self):
        lead = self._lead()
        with self.assertRaises(AccessError):
            lead.with_user(self.salesman).outbound_override_lost("I say so")
        with self.assertRaisesRegex(UserError, "Give the reason"):
            lead.with_user(self.supervisor).outbound_override_lost("  ")
        self.assertStillOpen(lead)

    def test_flag_mode_marks_lost_improperly(self):
        self.playbook.lost_gate_mode = "flag"
        lead, proper = self._lead(attempts=3), self._lead(attempts=15)
        (lead | proper).with_user(self.salesman).action_set_lost(lost_reason_id=self.lost_refused.id)
        self.assertFalse(lead.active or proper.active, "flag mode lets the loss through")
        self.assertTrue(lead.outbound_lost_improperly)
        self.assertFalse(proper.outbound_lost_improperly)
        Lead = self.env["crm.lead"].with_context(active_test=False)
        self.assertEqual(Lead.search([("outbound_lost_improperly", "=", True)]), lead)
        lead.action_unarchive()
        self.assertFalse(lead.outbound_lost_improperly, "a restored lead is not lost any more")


@tagged("post_install", "-at_install")
class TestOutboundSeedExemptions(OutboundCase):
    def test_seed_statuses_exempt_where_a_conversation_or_the_data_decided(self):
        statuses = self.env["crm.outbound.status"].search(
            [("playbook_id.name", "!=", "Test playbook"), ("lead_action", "=", "lost")]
        )
        exempt = {
            self.env.ref(f"crm_outbound.{xmlid}")
            for xmlid in (
                "status_b2b_4",  # the decision maker explained why
                "status_b2b_9",  # the secretary explained why
                "status_b2b_13",  # bad data
                "status_b2b_14",  # network sibling
                "status_trial_refused",
                "status_basic_refused_reasons",
            )
        }
        self.assertEqual(set(statuses.filtered("lost_gate_exempt")), exempt)
        held = self.env.ref("crm_outbound.status_b2b_5")  # hung up, no conversation
        self.assertIn(held, statuses - statuses.filtered("lost_gate_exempt"))


@tagged("post_install", "-at_install")
class TestOutboundDailyTarget(OutboundCase):
    """Seed 002: calls a day during the first days, counted in the team's time zone
    (here the salesperson's, Europe/Moscow, UTC+3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.playbook.write({"attempts_per_day": 2, "first_days": 2})

    def _call(self, lead, at):
        with freeze_time(at):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})

    def _lead(self):
        # Assigned at 00:10 in Moscow on 3 March, which is still 2 March in UTC.
        return self._new_leads(date_open=dt("2026-03-02 21:10:00"))

    def test_window_is_counted_in_the_team_time_zone(self):
        lead = self._lead()
        self.assertEqual(lead.outbound_first_days_start, date(2026, 3, 3))
        self.assertEqual(lead.outbound_first_days_end, date(2026, 3, 4))
        leader = new_test_user(self.env, login="outbound_leader", tz="Asia/Vladivostok")
        self.team.user_id = leader
        lead.invalidate_recordset()
        lead._compute_outbound_first_days()  # the team leader's time zone wins (UTC+10)
        self.assertEqual(lead.outbound_first_days_start, date(2026, 3, 3))

    def test_target_met_across_midnight(self):
        lead = self._lead()
        # Moscow days: 3 March (00:30, 13:00) and 4 March (00:15, 23:59). In UTC these
        # are 2, 3, 3 and 4 March: a UTC count would find 2 March short.
        self._call(lead, "2026-03-02 21:30:00")
        self.assertEqual(lead.outbound_first_days_target, "ongoing")
        self._call(lead, "2026-03-03 10:00:00")
        self._call(lead, "2026-03-03 21:15:00")
        self.assertEqual(lead.outbound_first_days_target, "ongoing")
        self._call(lead, "2026-03-04 20:59:00")
        self.assertEqual(lead.outbound_first_days_target, "met")

    def test_target_missed_when_a_day_ends_short(self):
        lead = self._lead()
        self._call(lead, "2026-03-03 10:00:00")
        with freeze_time("2026-03-03 20:00:00"):  # 23:00 in Moscow: 3 March is not over
            self.env["crm.lead"]._cron_outbound_discipline()
            self.assertEqual(lead.outbound_first_days_target, "ongoing")
        with freeze_time("2026-03-03 21:30:00"):  # 00:30 on 4 March in Moscow
            self.env["crm.lead"]._cron_outbound_discipline()
            self.assertEqual(lead.outbound_first_days_target, "missed")
        self._call(lead, "2026-03-04 06:00:00")
        self._call(lead, "2026-03-04 07:00:00")
        self.assertEqual(lead.outbound_first_days_target, "missed", "a later day does not make up for it")

    def test_a_lead_never_called_misses_its_target(self):
        with freeze_time("2026-03-02 21:15:00"):
            lead = self._lead()
        self.assertEqual(lead.outbound_first_days_target, "ongoing")
        with freeze_time("2026-03-03 21:30:00"):  # 00:30 on 4 March in Moscow
            self.env["crm.lead"]._cron_outbound_discipline()
        self.assertEqual(lead.outbound_first_days_target, "missed")
        self.assertEqual(
            self.env["crm.lead"].search([("outbound_first_days_target", "=", "missed"), ("id", "=", lead.id)]), lead
        )

    def test_below_todays_target_is_searchable(self):
        lead, other = self._lead(), self._lead()
        Lead = self.env["crm.lead"].with_user(self.salesman)
        domain = [("id", "in", (lead | other).ids), ("outbound_below_daily_target", "=", True)]
        self._call(lead, "2026-03-04 06:00:00")
        self._call(other, "2026-03-04 06:00:00")
        self._call(other, "2026-03-04 07:00:00")
        with freeze_time("2026-03-04 08:00:00"):
            self.assertEqual(Lead.search(domain), lead)
            self.assertEqual(Lead.search([*domain[:1], ("outbound_below_daily_target", "=", False)]), other)
            self.assertTrue(lead.with_user(self.salesman).outbound_below_daily_target)
        with freeze_time("2026-03-05 08:00:00"):  # past the first days: no target any more
            self.assertFalse(Lead.search(domain))
