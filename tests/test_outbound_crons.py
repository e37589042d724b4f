from contextlib import closing

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged, users, warmup

from .common import OutboundCase, dt


@tagged("post_install", "-at_install")
class TestOutboundRedialQueue(OutboundCase):
    """The "Outbound: redial queue" cron: operators hear of due leads once, team
    leaders of redials overdue beyond the playbook's grace."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.user_id = cls.manager
        cls.playbook.overdue_grace = 2

    def bus_messages(self, user, text):
        # Both 18.0 and 19.0 send simple notifications to the user's partner channel,
        # written to the bus table just before the commit.
        self.env.cr.precommit.run()
        messages = self.env["bus.bus"].sudo().search([("message", "ilike", text)])
        return messages.filtered(lambda message: str(user.partner_id.id) in message.channel)

    def overdue_notes(self):
        return self.env["mail.message"].search(
            [("model", "=", "crm.team"), ("res_id", "=", self.team.id), ("body", "ilike", "overdue")]
        )

    def test_operator_is_told_once_per_due_time(self):
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._new_leads(name="Due soon")
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
            self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"))
        Lead = self.env["crm.lead"]
        with freeze_time("2026-03-02 09:59:00"):
            Lead._cron_outbound_redial_queue()
            self.assertFalse(self.bus_messages(self.salesman, "Due soon"), "not due yet")
            self.assertFalse(Lead.with_user(self.salesman).search([("outbound_call_due", "=", True)]) & lead)
        with freeze_time("2026-03-02 10:01:00"):
            Lead._cron_outbound_redial_queue()
            self.assertEqual(len(self.bus_messages(self.salesman, "Due soon")), 1)
            self.assertEqual(lead.outbound_due_notified_at, lead.outbound_next_call_at)
            self.assertIn(lead, Lead.with_user(self.salesman).search([("outbound_call_due", "=", True)]))
            Lead._cron_outbound_redial_queue()
            self.assertEqual(len(self.bus_messages(self.salesman, "Due soon")), 1, "each due time is told once")
            # The next unanswered call sets a new due time, which is announced in its turn.
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
            self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 13:01:00"))
        with freeze_time("2026-03-02 13:05:00"):
            Lead._cron_outbound_redial_queue()
            self.assertEqual(len(self.bus_messages(self.salesman, "Due soon")), 2)

    def test_overdue_redials_are_reported_to_the_team_leader(self):
        with freeze_time("2026-03-02 09:00:00"):
            late, on_time = self._new_leads(2)
            (late | on_time).with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with freeze_time("2026-03-02 11:30:00"):
            on_time.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
            self.env["crm.lead"]._cron_outbound_redial_queue()
            self.assertFalse(self.overdue_notes(), "within the 2 h grace")
        with freeze_time("2026-03-02 12:01:00"):
            self.env["crm.lead"]._cron_outbound_redial_queue()
            notes = self.overdue_notes()
            self.assertEqual(len(notes), 1)
            self.assertIn(late.name, notes.body)
            self.assertNotIn(on_time.name, notes.body, "its next call is tomorrow")
            self.assertIn(self.manager.partner_id, notes.partner_ids)
            self.env["crm.lead"]._cron_outbound_redial_queue()
            self.assertEqual(len(self.overdue_notes()), 1, "reported once")


@tagged("post_install", "-at_install")
class TestOutboundCronCost(OutboundCase):
    """The crons cost a fixed number of queries per batch, whatever the number of leads
    in it (the benchmark, tools/bench, measures them over 100,000 leads). They run as
    Odoo's crons do, as the superuser."""

    def _due_leads(self, count):
        leads = self._new_leads(count)
        # Due an hour ago, not told yet.
        self.env.cr.execute(
            "UPDATE crm_lead SET outbound_next_call_at = now() AT TIME ZONE 'UTC' - interval '1 hour' "
            "WHERE id = ANY(%s)",
            [leads.ids],
        )
        self.env.invalidate_all()
        return leads

    @users("__system__")
    @warmup
    def test_query_count_of_the_redial_queue(self):
        cron = self.env["crm.lead"]._cron_outbound_redial_queue
        cron()  # the demo's due leads
        for count in (5, 50):
            self._due_leads(count)
            with self.assertQueryCount(__system__=13):
                cron()

    @users("__system__")
    @warmup
    def test_query_count_of_the_task_repair_with_nothing_to_repair(self):
        cron = self.env["crm.lead"]._cron_outbound_enforce_task
        cron()
        for count in (5, 50):
            self._due_leads(count)
            # One batch query finds nothing to repair.
            with self.assertQueryCount(__system__=1):
                cron()


@tagged("post_install", "-at_install")
class TestOutboundCronsConcurrently(TransactionCase):
    """Two workers running the repair cron at once, each on its own database
    connection: the SKIP LOCKED batches split the leads, and none gets two tasks."""

    def test_two_workers_repair_without_duplicates(self):
        dbname = self.env.cr.dbname
        with closing(db_connect(dbname).cursor()) as setup_cr:
            # Committed data: the workers' own connections cannot see the test's transaction.
            env = api.Environment(setup_cr, SUPERUSER_ID, {})
            playbook = env["crm.outbound.playbook"].create({"name": "Concurrent playbook"})
            team = env["crm.team"].create({"name": "Concurrent team", "outbound_playbook_id": playbook.id})
            leads = env["crm.lead"].create([{"name": f"Concurrent {i}", "team_id": team.id} for i in range(6)])
            env["mail.activity"].search([("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]).with_context(
                crm_outbound_applying=OWN_WRITE
            ).unlink()
            setup_cr.commit()
            lead_ids, team_id, playbook_id = leads.ids, team.id, playbook.id

        def cleanup():
            with closing(db_connect(dbname).cursor()) as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["crm.lead"].with_context(active_test=False).browse(lead_ids).unlink()
                env["crm.team"].browse(team_id).unlink()
                env["crm.outbound.playbook"].browse(playbook_id).unlink()
                cr.commit()  # pylint: disable=invalid-commit

        self.addCleanup(cleanup)
        with closing(db_connect(dbname).cursor()) as cr_a, closing(db_connect(dbname).cursor()) as cr_b:
            env_a = api.Environment(cr_a, SUPERUSER_ID, {})
            env_b = api.Environment(cr_b, SUPERUSER_ID, {})
            # Worker A takes its first batch of 3 and holds the lock.
            Lead_a = env_a["crm.lead"]
            broken = Lead_a._outbound_locked_leads_query([("outbound_task_broken", "=", True)])
            cr_a.execute(broken(min(lead_ids) - 1, 3))
            batch_a = [row[0] for row in cr_a.fetchall()]
            self.assertEqual(len(batch_a), 3)
            # Worker B runs the whole cron meanwhile: it skips A's leads instead of
            # waiting for them (the lock timeout turns a wait into a failure).
            cr_b.execute("SET lock_timeout = '2s'")
            env_b["crm.lead"]._cron_outbound_enforce_task(batch_size=2)
            env_b.flush_all()
            cr_b.commit()
            cr_b.execute(
                "SELECT count(*) FROM mail_activity WHERE res_model = 'crm.lead' AND res_id IN %s",
                [tuple(batch_a)],
            )
            self.assertEqual(cr_b.fetchone()[0], 0, "worker B left worker A's locked leads alone")
            Lead_a.browse(batch_a)._outbound_ensure_task()
            env_a.flush_all()
            cr_a.commit()
        with closing(db_connect(dbname).cursor()) as cr:
            cr.execute(
                "SELECT res_id, count(*) FROM mail_activity "
                "WHERE res_model = 'crm.lead' AND res_id IN %s GROUP BY res_id",
                [tuple(lead_ids)],
            )
            counts = dict(cr.fetchall())
        self.assertEqual(counts, dict.fromkeys(lead_ids, 1), "each lead has exactly one task")
