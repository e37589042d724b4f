from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import dt

HOURS, DAYS = relativedelta(hours=1), relativedelta(days=1)


@tagged("post_install", "-at_install")
class TestOutboundCatalog(TransactionCase):
    """The seed playbooks shipped as data (seeds 000, 001, 004), replayed through
    outbound_log_call on leads of teams of our own that use them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="catalog_salesman", groups="sales_team.group_sale_salesman", tz="Europe/Moscow"
        )
        cls.b2b = cls.xref("playbook_b2b_cold")
        cls.trial = cls.xref("playbook_trial_lesson")
        cls.basic = cls.xref("playbook_basic")
        # These tests are about the catalogs; the lost gate (seed 002) has its own tests.
        (cls.b2b | cls.trial | cls.basic).min_attempts_before_lost = 0
        cls.team_by_playbook = {
            playbook: cls.env["crm.team"].create(
                {
                    "name": f"Catalog team: {playbook.name}",
                    "outbound_playbook_id": playbook.id,
                    "member_ids": [Command.link(cls.salesman.id)],
                }
            )
            for playbook in (cls.b2b, cls.trial, cls.basic)
        }

    @classmethod
    def xref(cls, xmlid):
        return cls.env.ref(f"crm_outbound.{xmlid}")

    def new_lead(self, playbook):
        return self.env["crm.lead"].create(
            {
                "name": f"Catalog lead ({playbook.name})",
                "team_id": self.team_by_playbook[playbook].id,
                "user_id": self.salesman.id,
                "phone": "+7 495 000 77 00",
            }
        )

    def log(self, lead, status_xmlid, **vals):
        return lead.with_user(self.salesman).outbound_log_call({"status_id": self.xref(status_xmlid).id, **vals})

    def pending(self, lead):
        return self.env["mail.activity"].search([("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)])

    def assertOneTask(self, lead, activity_xmlid):
        tasks = self.pending(lead)
        self.assertEqual(len(tasks), 1, f"{lead.name} must have one pending task, has {tasks.mapped('summary')}")
        self.assertEqual(tasks.activity_type_id, self.xref(activity_xmlid))
        return tasks

    def assertNoTask(self, lead):
        self.assertFalse(self.pending(lead), f"{lead.name} must have no pending task")

    # ------------------------------------------------------------
    # The catalogs
    # ------------------------------------------------------------

    def test_playbooks_load_with_their_statuses_in_catalog_order(self):
        b2b_codes = ["1", "2", "2.5", *(str(code) for code in range(4, 15))]
        expected = {
            self.b2b: ("b2b", b2b_codes),
            self.trial: (
                "trial",
                [
                    "no_answer",
                    "callback",
                    "trial_booked",
                    "trial_missed",
                    "trial_attended",
                    "deciding",
                    "client",
                    "refused",
                    "contract_terminated",
                    "finished",
                ],
            ),
            self.basic: ("basic", ["refused_no_listen", "refused_reasons", "undecided", "agreed", "no_answer"]),
        }
        for playbook, (prefix, codes) in expected.items():
            with self.subTest(playbook=playbook.name):
                self.assertEqual(playbook.status_ids.mapped("code"), codes)
                for code in codes:
                    self.assertEqual(self.xref(f"status_{prefix}_{code.replace('.', '_')}").code, code)
        self.assertEqual(len(self.b2b.status_ids), 14)
        self.assertNotIn("3", self.b2b.status_ids.mapped("code"), "status system v3.0 has no status 3")

    def test_every_status_has_a_consistent_task_rule(self):
        statuses = (self.b2b | self.trial | self.basic).status_ids
        statuses._check_task_rule()
        statuses._check_lost_reason()
        for status in statuses:
            with self.subTest(status=f"{status.playbook_id.name} {status.display_name}"):
                if status.is_final:
                    self.assertEqual(status.task_timing, "none")
                    # Otherwise the lead would stay open with no task (rule 1).
                    self.assertIn(status.lead_action, ("won", "lost"), "a final status closes the lead")
                else:
                    self.assertNotEqual(status.task_timing, "none", "an open lead always has its next task")
                    self.assertTrue(status.activity_type_id)
                if status.lead_action == "lost":
                    self.assertTrue(status.is_final)
                    self.assertTrue(status.lost_reason_id, "a lost lead says why")
                self.assertEqual(status.task_timing == "cadence", status.outcome == "no_answer")
                if status.task_timing == "agreed":
                    self.assertTrue(status.agreed_date_label)
                if status.is_result:
                    self.assertIn(status.outcome, ("success", "interest"))
        result_codes = {
            self.b2b: {"1", "2", "6", "7"},
            self.trial: {"trial_booked", "trial_attended", "client"},
            self.basic: {"agreed"},
        }
        final_codes = {
            self.b2b: {"4", "5", "9", "10", "13", "14"},
            self.trial: {"refused", "contract_terminated", "finished"},
            self.basic: {"refused_no_listen", "refused_reasons"},
        }
        for playbook in (self.b2b, self.trial, self.basic):
            with self.subTest(playbook=playbook.name):
                self.assertEqual(set(playbook.status_ids.filtered("is_result").mapped("code")), result_codes[playbook])
                self.assertEqual(set(playbook.status_ids.filtered("is_final").mapped("code")), final_codes[playbook])
                self.assertTrue(playbook.exhausted_lost_reason_id)
                self.assertEqual(playbook.exhausted_status_id.playbook_id, playbook)
        # Seed 004 names the task of every status of the funnel.
        tasks = {
            "no_answer": "mail_activity_type_redial",
            "callback": "mail_activity_type_callback",
            "trial_booked": "mail_activity_type_remind",
            "trial_missed": "mail_activity_type_book",
            "trial_attended": "mail_activity_type_sell",
            "deciding": "mail_activity_type_sell",
            "client": "mail_activity_type_renew",
        }
        for code, activity_xmlid in tasks.items():
            self.assertEqual(self.xref(f"status_trial_{code}").activity_type_id, self.xref(activity_xmlid), code)
        self.assertEqual(self.b2b.network_status_id, self.xref("status_b2b_14"))
        self.assertEqual(self.xref("status_b2b_14").outcome, "network")
        self.assertEqual(self.xref("status_b2b_13").lost_reason_id, self.xref("lost_reason_bad_data"))

    # ------------------------------------------------------------
    # Redial cadences (DESIGN.md rule 2)
    # ------------------------------------------------------------

    def assertCadence(self, lead, status_xmlid, delays, start):
        """Log one unanswered call per delay, each when the previous one fell due, and
        check the next due time; return the time of the call after the last delay."""
        call_at = dt(start)
        for count, delay in enumerate(delays, 1):
            with freeze_time(call_at):
                self.log(lead, status_xmlid, call_at=call_at)
            self.assertEqual(lead.outbound_no_answer_count, count)
            self.assertEqual(lead.outbound_next_call_at, call_at + delay, f"due time after the call N{count}")
            self.assertOneTask(lead, "mail_activity_type_redial")
            call_at = lead.outbound_next_call_at
        return call_at

    def test_trial_cadence_is_the_seed_004_algorithm(self):
        lead = self.new_lead(self.trial)
        delays = [1 * HOURS, 3 * HOURS, 1 * DAYS, 7 * DAYS, 3 * HOURS, 30 * DAYS, 3 * HOURS]
        # From 09:00 Moscow time, every redial falls inside the client's calling window
        # (9:00-21:00 local time, rule 7), which has its own tests.
        call_at = self.assertCadence(lead, "status_trial_no_answer", delays, "2026-03-02 06:00:00")
        self.assertTrue(lead.active)
        with freeze_time(call_at):
            self.log(lead, "status_trial_no_answer", call_at=call_at)
        self.assertEqual(lead.outbound_attempt_count, 8)
        self.assertEqual(lead.outbound_status_id, self.xref("status_trial_refused"))
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.xref("lost_reason_not_reached_7"))
        self.assertFalse(lead.outbound_next_call_at)
        self.assertNoTask(lead)

    @freeze_time("2026-03-02 09:00:00")
    def test_trial_answered_call_resets_the_streak(self):
        lead = self.new_lead(self.trial)
        for _count in range(3):
            self.log(lead, "status_trial_no_answer")
        self.assertEqual(lead.outbound_no_answer_count, 3)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 09:00:00"), "N3: in a day")
        self.log(lead, "status_trial_deciding", duration=120)
        self.assertEqual(lead.outbound_no_answer_count, 0)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-04 09:00:00"))
        self.assertOneTask(lead, "mail_activity_type_sell")
        self.log(lead, "status_trial_no_answer")
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"), "N1 again: in an hour")

    def test_b2b_calls_three_times(self):
        lead = self.new_lead(self.b2b)
        call_at = self.assertCadence(lead, "status_b2b_12", [3 * HOURS, 1 * DAYS], "2026-03-02 07:00:00")
        with freeze_time(call_at):
            self.log(lead, "status_b2b_12", call_at=call_at)
        self.assertEqual(lead.outbound_attempt_count, 3)
        self.assertEqual(lead.outbound_status_id, self.xref("status_b2b_12"), "status 12 is kept")
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.xref("lost_reason_not_reached_3"))
        self.assertNoTask(lead)

    def test_basic_no_answer_redials_three_times(self):
        lead = self.new_lead(self.basic)
        delays = [2 * HOURS, 1 * DAYS, 3 * DAYS]
        call_at = self.assertCadence(lead, "status_basic_no_answer", delays, "2026-03-02 07:00:00")
        with freeze_time(call_at):
            self.log(lead, "status_basic_no_answer", call_at=call_at)
        self.assertEqual(lead.outbound_status_id, self.xref("status_basic_no_answer"))
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.xref("lost_reason_not_reached_4"))
        self.assertNoTask(lead)

    # ------------------------------------------------------------
    # Comment codes and agreed dates
    # ------------------------------------------------------------

    @freeze_time("2026-03-02 09:00:00")
    def test_trial_comment_codes_present_and_hangs_up(self):
        lead = self.new_lead(self.trial)
        self.log(lead, "status_trial_callback", comment_code_id=self.xref("comment_trial_present").id)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-04-02 09:00:00"), "Present: call back in a month")
        self.assertOneTask(lead, "mail_activity_type_callback")
        self.log(lead, "status_trial_callback", comment_code_id=self.xref("comment_trial_hangs_up").id)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 09:00:00"), "Hangs up: call back at once")
        self.assertOneTask(lead, "mail_activity_type_callback")
        # The other codes keep the time agreed with the client.
        ill = self.xref("comment_trial_ill")
        with self.assertRaisesRegex(UserError, "Callback at"):
            self.log(lead, "status_trial_callback", comment_code_id=ill.id)
        self.log(lead, "status_trial_callback", comment_code_id=ill.id, agreed_at="2026-03-09 12:00:00")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-09 12:00:00"))
        other = self.xref("comment_trial_other")
        with self.assertRaisesRegex(UserError, "Other"):
            self.log(lead, "status_trial_callback", comment_code_id=other.id, agreed_at="2026-03-09 12:00:00")
        self.assertEqual(
            self.xref("status_trial_callback").comment_code_ids.mapped("name"),
            [
                "Inconvenient",
                "Was ill",
                "Away",
                "Thinking it over",
                "Check name (birthday)",
                "Too young",
                "Weekend",
                "Weekdays",
                "Particular day and time",
                "Present",
                "Hangs up",
                "Other",
            ],
        )

    @freeze_time("2026-03-02 09:00:00")
    def test_agreed_date_statuses_need_the_date_and_schedule_from_it(self):
        offsets = {
            "status_b2b_2": ("Callback at", relativedelta()),
            "status_b2b_7": ("Callback at", relativedelta()),
            "status_b2b_11": ("Callback at", relativedelta()),
            "status_trial_callback": ("Callback at", relativedelta()),
            "status_trial_trial_booked": ("Trial class at", -1 * DAYS),  # 004: the day before the class
            "status_trial_client": ("Subscription ends on", -7 * DAYS),
            "status_basic_undecided": ("Callback at", relativedelta()),
        }
        agreed = (self.b2b | self.trial | self.basic).status_ids.filtered(lambda s: s.task_timing == "agreed")
        self.assertEqual(agreed, self.env["crm.outbound.status"].concat(*map(self.xref, offsets)))
        agreed_at = dt("2026-03-20 12:00:00")
        for xmlid, (label, offset) in offsets.items():
            status = self.xref(xmlid)
            with self.subTest(status=xmlid):
                self.assertEqual(status.agreed_date_label, label)
                lead = self.new_lead(status.playbook_id)
                with self.assertRaisesRegex(UserError, label):
                    self.log(lead, xmlid)
                self.assertFalse(lead.outbound_call_ids, "nothing is written")
                self.log(lead, xmlid, agreed_at=agreed_at)
                self.assertEqual(lead.outbound_agreed_at, agreed_at)
                self.assertEqual(lead.outbound_next_call_at, agreed_at + offset)
                self.assertEqual(self.pending(lead).activity_type_id, status.activity_type_id)

    @freeze_time("2026-03-02 09:00:00")
    def test_basic_refusal_reasons_and_undecided_codes(self):
        refused = self.xref("status_basic_refused_reasons")
        self.assertEqual(
            refused.comment_code_ids.mapped("name"),
            ["Too expensive", "Features do not fit", "Works with a competitor", "Other"],
        )
        lead = self.new_lead(self.basic)
        self.log(lead, "status_basic_refused_reasons", comment_code_id=self.xref("comment_basic_too_expensive").id)
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.env.ref("crm.lost_reason_1"), "001's refusal group is the reason")
        self.assertEqual(lead.outbound_comment_code_id.name, "Too expensive", "the code stays on the lead")
        other = self.new_lead(self.basic)
        self.log(other, "status_basic_refused_reasons", comment_code_id=self.xref("comment_basic_other").id, note="?")
        self.assertEqual(other.lost_reason_id, self.xref("lost_reason_refused_with_reasons"), "else the status's")
        self.assertNoTask(lead)

        undecided = self.new_lead(self.basic)
        self.log(undecided, "status_basic_undecided", comment_code_id=self.xref("comment_basic_client_will_call").id)
        self.assertEqual(undecided.outbound_next_call_at, dt("2026-03-09 09:00:00"), "a check-up call in a week")
        self.assertOneTask(undecided, "mail_activity_type_callback")

    # ------------------------------------------------------------
    # Won and lost
    # ------------------------------------------------------------

    @freeze_time("2026-03-02 09:00:00")
    def test_trial_client_wins_the_lead_and_keeps_one_renewal_task(self):
        lead = self.new_lead(self.trial)
        self.log(lead, "status_trial_trial_booked", agreed_at="2026-03-05 15:00:00")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-04 15:00:00"), "remind the day before the class")
        self.assertOneTask(lead, "mail_activity_type_remind")
        self.log(lead, "status_trial_trial_attended", duration=300)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 09:00:00"))
        self.assertOneTask(lead, "mail_activity_type_sell")
        self.log(lead, "status_trial_client", duration=200, agreed_at="2026-06-30 09:00:00")
        self.assertTrue(lead.active)
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-06-23 09:00:00"), "a week before the subscription ends")
        task = self.assertOneTask(lead, "mail_activity_type_renew")
        self.env["crm.lead"]._cron_outbound_enforce_task()
        self.assertEqual(self.pending(lead), task, "the repair cron leaves a client's renewal task alone")
        self.log(lead, "status_trial_finished", duration=60)
        self.assertTrue(lead.stage_id.is_won, "a client who finished still bought")
        self.assertTrue(lead.active)
        self.assertNoTask(lead)

    def test_final_statuses_close_the_lead_without_a_task(self):
        finals = (self.b2b | self.trial | self.basic).status_ids.filtered("is_final")
        for status in finals:
            with self.subTest(status=f"{status.playbook_id.name} {status.display_name}"):
                lead = self.new_lead(status.playbook_id)
                lead.with_user(self.salesman).outbound_log_call({"status_id": status.id, "note": "Reasons"})
                self.assertNoTask(lead)
                self.assertFalse(lead.outbound_next_call_at)
                if status.lead_action == "lost":
                    self.assertFalse(lead.active)
                    self.assertEqual(lead.lost_reason_id, status.lost_reason_id)
                else:
                    self.assertTrue(lead.active)
                    self.assertTrue(lead.stage_id.is_won)
        # 000: the decision maker's and the secretary's arguments are recorded in the comment.
        for xmlid in ("status_b2b_4", "status_b2b_9"):
            with self.assertRaisesRegex(UserError, "needs a comment"):
                self.log(self.new_lead(self.b2b), xmlid)
