from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged, users, warmup

from ..models.compat import ODOO_19
from .common import OutboundCase, dt


@tagged("post_install", "-at_install")
class TestOutboundLogCall(OutboundCase):
    def log(self, leads, **vals):
        return leads.with_user(self.salesman).outbound_log_call(vals)

    @freeze_time("2026-03-02 09:00:00")
    def test_unanswered_calls_follow_the_cadence_then_exhaust(self):
        lead = self._new_leads()
        self.assertOneTask(lead, self.type_redial)  # a new lead of a playbook team has its first call task

        [call_id] = self.log(lead, status_id=self.st_no_answer.id)
        call = self.env["crm.outbound.call"].browse(call_id)
        self.assertEqual(
            (call.lead_id, call.user_id, call.team_id, call.answered), (lead, self.salesman, self.team, False)
        )
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_no_answer_label, "N1")
        self.assertEqual(lead.outbound_attempt_count, 1)
        self.assertEqual(lead.outbound_attempts_today, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"))
        task = self.assertOneTask(lead, self.type_redial)
        # 18.0 writes 1:00 PM, 19.0 01:00 PM: the exact due time, in the salesperson's zone.
        self.assertRegex(task.summary, r"\b0?1:00 PM")

        self.log(lead, status_id=self.st_no_answer.id, call_at="2026-03-02 10:05:00")
        self.assertEqual(lead.outbound_no_answer_count, 2)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 13:05:00"))
        self.assertOneTask(lead, self.type_redial)

        self.log(lead, status_id=self.st_no_answer.id, call_at="2026-03-02 13:10:00")
        self.assertEqual(lead.outbound_no_answer_count, 3)
        self.assertEqual(lead.outbound_status_id, self.st_refused, "the exhausted outcome's status")
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.lost_not_reached)
        self.assertFalse(lead.outbound_next_call_at)
        self.assertNoTask(lead)
        self.assertEqual(lead.outbound_attempt_count, 3)

    @freeze_time("2026-03-02 09:00:00")
    def test_answered_call_resets_the_streak(self):
        lead = self._new_leads()
        self.log(lead, status_id=self.st_no_answer.id)
        self.log(lead, status_id=self.st_no_answer.id)
        self.assertEqual(lead.outbound_no_answer_count, 2)
        self.log(lead, status_id=self.st_interest.id, duration=95)
        self.assertEqual(lead.outbound_no_answer_count, 0)
        self.assertEqual(lead.outbound_touch_count, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 09:00:00"))
        self.assertOneTask(lead, self.type_sell)
        self.log(lead, status_id=self.st_no_answer.id)
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"), "the cadence starts again at step 1")

    @freeze_time("2026-03-02 09:00:00")
    def test_short_call_is_not_a_touch(self):
        lead = self._new_leads()
        self.log(lead, status_id=self.st_interest.id, duration=30)
        self.assertEqual(lead.outbound_touch_count, 0, "the threshold is 'longer than 30 s'")
        self.log(lead, status_id=self.st_interest.id, duration=31)
        self.assertEqual(lead.outbound_touch_count, 1)

    @freeze_time("2026-03-02 09:00:00")
    def test_agreed_date_and_comment_code_overrides(self):
        lead = self._new_leads()
        self.log(lead, status_id=self.st_callback.id, agreed_at="2026-03-05 12:00:00")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-05 12:00:00"))
        self.assertOneTask(lead, self.type_callback)
        self.log(lead, status_id=self.st_callback.id, comment_code_id=self.code_present.id)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-04-02 09:00:00"), "Present: call back in a month")
        self.log(lead, status_id=self.st_callback.id, comment_code_id=self.code_hangs_up.id)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 09:00:00"), "Hangs up: call back at once")
        self.assertOneTask(lead, self.type_callback)
        self.assertEqual(lead.outbound_comment_code_id, self.code_hangs_up)

    def test_final_status_marks_lost_and_leaves_no_task(self):
        lead = self._new_leads()
        self.log(lead, status_id=self.st_refused.id, note="Works with a competitor")
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.lost_refused)
        self.assertEqual(lead.outbound_comment, "Works with a competitor")
        self.assertNoTask(lead)

    def test_wrong_input_is_refused_and_nothing_is_written(self):
        lead = self._new_leads()
        other_playbook = self.env["crm.outbound.playbook"].create({"name": "Other"})
        foreign = self.env["crm.outbound.status"].create(
            {"playbook_id": other_playbook.id, "code": "x", "name": "Foreign", "task_timing": "none"}
        )
        cases = [
            ({}, UserError, "needs its status"),
            ({"status_id": foreign.id}, UserError, "Foreign"),
            ({"status_id": self.st_interest.id, "comment_code_id": self.code_present.id}, UserError, "Present"),
            ({"status_id": self.st_refused.id}, UserError, "needs a comment"),
            ({"status_id": self.st_callback.id, "comment_code_id": self.code_other.id}, UserError, "Other"),
            ({"status_id": self.st_callback.id}, UserError, "Callback at"),
            ({"status_id": self.st_interest.id, "duration": -5}, ValidationError, "-5"),
            ({"status_id": self.st_interest.id, "call_at": "yesterday"}, UserError, "yesterday"),
            ({"status_id": self.st_interest.id, "colour": "red"}, UserError, "colour"),
            ({"status_id": 999999}, UserError, "999999"),
        ]
        for vals, error, text in cases:
            with self.subTest(vals=vals), self.assertRaises(error) as caught:
                self.log(lead, **vals)
            self.assertIn(text, str(caught.exception))
        self.assertFalse(lead.outbound_call_ids)
        self.assertEqual(lead.outbound_attempt_count, 0)
        self.assertFalse(lead.outbound_status_id)
        plain = self.env["crm.lead"].create(
            {"name": "No playbook", "team_id": self.plain_team.id, "user_id": self.salesman.id}
        )
        with self.assertRaisesRegex(UserError, "No playbook"):
            self.log(plain, status_id=self.st_interest.id)

    @freeze_time("2026-03-02 09:00:00")
    def test_log_on_many_leads_at_once(self):
        leads = self._new_leads(50)
        call_ids = self.log(leads, status_id=self.st_no_answer.id)
        self.assertEqual(len(call_ids), 50)
        self.assertEqual(set(leads.mapped("outbound_no_answer_count")), {1})
        self.assertEqual(set(leads.mapped("outbound_next_call_at")), {dt("2026-03-02 10:00:00")})
        for lead in leads:
            self.assertOneTask(lead, self.type_redial)

    @users("outbound_salesman")
    @warmup
    def test_query_count_of_logging(self):
        # The tasks are closed, their "done" messages and the status's tracking messages
        # written for all the leads at once: 50 leads cost what one lead costs, and a
        # query per lead that creeps in shows.
        lead = self._new_leads().with_env(self.env)
        leads = self._new_leads(50).with_env(self.env)
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(outbound_salesman=41 if ODOO_19 else 40):
            lead.outbound_log_call({"status_id": self.st_interest.id})
        self.env.invalidate_all()
        with self.assertQueryCount(outbound_salesman=41 if ODOO_19 else 40):
            leads.outbound_log_call({"status_id": self.st_interest.id})

    def test_attempts_today_is_searchable(self):
        with freeze_time("2026-03-02 09:00:00"):
            called, not_called = self._new_leads(2)
            self.log(called, status_id=self.st_no_answer.id)
            self.log(called, status_id=self.st_no_answer.id)
            Lead = self.env["crm.lead"].with_user(self.salesman)
            self.assertEqual(
                Lead.search([("id", "in", (called | not_called).ids), ("outbound_attempts_today", "<", 2)]), not_called
            )
            self.assertEqual(
                Lead.search([("id", "in", (called | not_called).ids), ("outbound_attempts_today", ">=", 2)]), called
            )
        with freeze_time("2026-03-03 09:00:00"):
            called.invalidate_recordset()
            self.assertEqual(called.outbound_attempts_today, 0, "a new day starts at zero")
            self.assertEqual(called.outbound_attempt_count, 2)

    def test_unanswered_calls_never_move_a_won_lead(self):
        """By hand too (the dialog, the session, RPC): a won lead keeps its status,
        stage, probability, task and active when a call goes unanswered; the call is
        counted and its operator told. However many such calls: the cadence never runs
        out on it (it used to lose the won lead, and Odoo 19 then refused every call)."""
        lead = self._new_leads()
        lead.with_user(self.salesman).outbound_log_call({"status_id": self._new_won_status().id})
        self.assertEqual(lead.stage_id.is_won, True)

        def facts():
            return (lead.stage_id, lead.probability, lead.active, lead.outbound_status_id, self.pending(lead))

        before, notices = facts(), []

        def record(users, notification_type, message, **kwargs):
            notices.append((users, notification_type, message))

        unanswered = len(self.playbook.cadence_step_ids) + 2
        with patch.object(type(self.env["res.users"]), "_bus_send", record):
            for _call in range(unanswered):
                lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.assertEqual(facts(), before)
        self.assertEqual(lead.outbound_attempt_count, 1 + unanswered, "every call counted")
        told = [(users, message) for users, kind, message in notices if kind == "simple_notification"]
        self.assertEqual([users for users, _message in told], [self.salesman] * unanswered)
        self.assertIn(lead.name, told[0][1]["message"])

    def test_won_status_uses_odoo_won(self):
        won = self.env["crm.outbound.status"].create(
            {
                "playbook_id": self.playbook.id,
                "code": "won",
                "name": "Signed",
                "outcome": "success",
                "is_result": True,
                "is_final": True,
                "task_timing": "none",
                "lead_action": "won",
            }
        )
        client = self.env["crm.outbound.status"].create(
            {
                "playbook_id": self.playbook.id,
                "code": "client",
                "name": "Client",
                "outcome": "success",
                "is_result": True,
                "lead_action": "won",
                "activity_type_id": self.type_sell.id,
                "task_timing": "agreed",
                "agreed_date_label": "Subscription ends on",
                "delay": -7,
                "delay_unit": "days",
            }
        )
        lead, other = self._new_leads(2)
        self.log(lead, status_id=won.id)
        self.assertTrue(lead.stage_id.is_won, "marked won through action_set_won")
        self.assertNoTask(lead)
        # 004: a client keeps one task, the renewal before the subscription ends.
        ends = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=60)
        self.log(other, status_id=client.id, agreed_at=ends)
        self.assertTrue(other.stage_id.is_won)
        self.assertOneTask(other, self.type_sell, deadline=(ends - timedelta(days=7)).date())
        self.pending(other).with_context(crm_outbound_applying=OWN_WRITE).unlink()
        self.env["crm.lead"]._cron_outbound_enforce_task()
        self.assertOneTask(other, self.type_sell)

    def test_working_hours_move_the_due_time_across_the_weekend(self):
        # Odoo's default attendances: Monday to Friday, 8-12 and 13-17, here in Moscow (UTC+3).
        self.team.outbound_calendar_id = self.env["resource.calendar"].create(
            {"name": "Calling hours", "tz": "Europe/Moscow"}
        )
        lead, other = self._new_leads(2)
        # Friday 16:30 in Moscow: +1 h is after hours, +1 day is a Saturday.
        self.log(lead, status_id=self.st_no_answer.id, call_at="2026-03-06 13:30:00")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-09 05:00:00"), "Monday 08:00 in Moscow")
        self.log(other, status_id=self.st_interest.id, call_at="2026-03-06 13:30:00")
        self.assertEqual(other.outbound_next_call_at, dt("2026-03-09 05:00:00"))
        # Within the hours, the time is kept; without a calendar, nothing moves.
        self.log(other, status_id=self.st_no_answer.id, call_at="2026-03-09 06:00:00")
        self.assertEqual(other.outbound_next_call_at, dt("2026-03-09 07:00:00"))
        self.team.outbound_calendar_id = False
        self.log(lead, status_id=self.st_no_answer.id, call_at="2026-03-06 13:30:00")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-06 16:30:00"))

    @freeze_time("2026-03-02 09:00:00")
    def test_log_call_dialog(self):
        lead = self._new_leads()
        action = lead.with_user(self.salesman).action_outbound_log_call()
        wizard_form = Form(self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"]))
        wizard_form.status_id = self.st_callback
        self.assertEqual(wizard_form.agreed_date_label, "Callback at", "the date is labelled by the status")
        wizard_form.comment_code_id = self.code_other
        self.assertTrue(wizard_form.comment_required)
        wizard_form.status_id = self.st_interest
        self.assertFalse(wizard_form.comment_code_id, "a code of another status is dropped")
        self.assertFalse(wizard_form.agreed_date_label)
        wizard_form.duration = 45
        wizard_form.note = "Wants the price list"
        wizard_form.save().action_log_call()
        self.assertEqual(lead.outbound_status_id, self.st_interest)
        self.assertEqual(lead.outbound_call_ids.duration, 45)
        self.assertEqual(lead.outbound_call_ids.note, "Wants the price list")
        self.assertEqual(lead.outbound_touch_count, 1)
        self.assertOneTask(lead, self.type_sell)
