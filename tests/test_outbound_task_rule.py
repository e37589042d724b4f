from freezegun import freeze_time

from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import OutboundCase, dt


@tagged("post_install", "-at_install")
class TestOutboundTaskRule(OutboundCase):
    """DESIGN.md rule 1: exactly one pending task after every user action."""

    def test_new_and_imported_leads_get_one_task(self):
        lead = self._new_leads()
        self.assertOneTask(lead, self.type_redial)
        plain = self.env["crm.lead"].create({"name": "Elsewhere", "team_id": self.plain_team.id})
        self.assertNoTask(plain)
        imported = self.env["crm.lead"].load(
            ["name", "team_id/.id", "phone"], [["Imported lead", str(self.team.id), "+74950000099"]]
        )
        self.assertFalse(imported["messages"], imported["messages"])
        self.assertOneTask(self.env["crm.lead"].browse(imported["ids"]), self.type_redial)

    def test_setting_status_replaces_the_task(self):
        lead = self._new_leads()
        lead.with_user(self.salesman).outbound_status_id = self.st_interest
        self.assertOneTask(lead, self.type_sell)
        lead.with_user(self.salesman).outbound_status_id = self.st_no_answer
        self.assertOneTask(lead, self.type_redial)

    def test_second_activity_is_refused(self):
        lead = self._new_leads()
        task = self.assertOneTask(lead)
        with self.assertRaises(UserError) as caught:
            lead.with_user(self.salesman).activity_schedule("mail.mail_activity_data_todo", summary="Another one")
        self.assertIn(lead.name, str(caught.exception))
        self.assertIn(task.summary, str(caught.exception))
        self.assertIn("Move that task", str(caught.exception))
        plain = self.env["crm.lead"].create({"name": "Elsewhere", "team_id": self.plain_team.id})
        plain.activity_schedule("mail.mail_activity_data_todo")
        plain.activity_schedule("mail.mail_activity_data_todo")
        self.assertEqual(len(self.pending(plain)), 2, "teams without a playbook are left alone")

    @freeze_time("2026-03-02 09:00:00")
    def test_task_done_or_deleted_is_rescheduled(self):
        lead = self._new_leads()
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        task = self.assertOneTask(lead, self.type_sell)
        with freeze_time("2026-03-03 10:00:00"):
            task.with_user(self.salesman).action_feedback(feedback="Done without a call")
            self.assertEqual(lead.outbound_next_call_at, dt("2026-03-04 10:00:00"), "the follow-up starts again")
        task = self.assertOneTask(lead, self.type_sell)
        task.with_user(self.salesman).unlink()
        self.assertOneTask(lead, self.type_sell)

    def test_salesperson_change_moves_the_task(self):
        lead = self._new_leads()
        other = self.manager
        lead.user_id = other
        self.assertEqual(self.assertOneTask(lead).user_id, other)

    def test_done_tasks_stay_as_history(self):
        lead = self._new_leads()
        task = self.assertOneTask(lead, self.type_redial)
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        self.assertTrue(task.exists(), "a done task is archived, not deleted, on 18.0 as on 19.0")
        self.assertFalse(task.active)
        self.assertOneTask(lead, self.type_sell)

    def test_tasks_come_without_a_mail_each(self):
        """Automatic tasks (a supervisor's call log, a reassignment) reach the
        salesperson's activities, not their inbox: one notification per task would
        flood an operator with hundreds a day. The reassignment itself is Odoo's one
        notice."""
        lead = self._new_leads()
        Message = self.env["mail.message"]
        notices = Message.search([("message_type", "=", "user_notification")]).ids
        lead.with_user(self.manager).outbound_log_call({"status_id": self.st_interest.id})
        self.assertEqual(self.assertOneTask(lead, self.type_sell).user_id, self.salesman)
        colleague = new_test_user(self.env, login="outbound_colleague", groups="sales_team.group_sale_salesman")
        self.team.member_ids = [(4, colleague.id)]
        lead.with_user(self.manager).user_id = colleague
        self.assertEqual(self.assertOneTask(lead).user_id, colleague)
        new_notices = Message.search([("message_type", "=", "user_notification"), ("id", "not in", notices)])
        self.assertEqual(len(new_notices), 1, new_notices.mapped("body"))
        self.assertEqual(new_notices.model, "crm.lead", "the lead's assignment notice, not the task's")

    def test_new_salesperson_of_another_team(self):
        """Odoo moves a lead to the team of a salesperson who is not in its team: the
        status of the old playbook goes with the team, the reassignment does not fail."""
        lead = self._new_leads()
        lead.outbound_status_id = self.st_interest
        outsider = new_test_user(self.env, login="outbound_outsider", groups="sales_team.group_sale_salesman")
        self.plain_team.member_ids = [(4, outsider.id)]
        lead.user_id = outsider
        self.assertEqual(lead.team_id, self.plain_team)
        self.assertFalse(lead.outbound_status_id)
        self.assertFalse(lead.outbound_playbook_id)

    def test_reopened_lead_and_team_change(self):
        lead = self._new_leads()
        lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_refused.id, "note": "No budget"})
        self.assertNoTask(lead)
        lead.action_unarchive()
        lead.outbound_status_id = self.st_no_answer
        self.assertOneTask(lead, self.type_redial)

        moved = self.env["crm.lead"].create({"name": "Moving", "team_id": self.plain_team.id})
        self.assertNoTask(moved)
        moved.team_id = self.team
        self.assertOneTask(moved, self.type_redial)

    def test_enforce_cron_repairs_none_and_several(self):
        none, several, fine = self._new_leads(3)
        self.pending(none).with_context(crm_outbound_applying=OWN_WRITE).unlink()
        several.with_context(crm_outbound_applying=OWN_WRITE).activity_schedule(
            "mail.mail_activity_data_todo", summary="Left by other code"
        )
        self.assertNoTask(none)
        self.assertEqual(len(self.pending(several)), 2)
        fine_task = self.pending(fine)
        self.env["crm.lead"]._cron_outbound_enforce_task(batch_size=2)
        self.assertOneTask(none, self.type_redial)
        self.assertOneTask(several)
        self.assertEqual(self.pending(fine), fine_task)


@tagged("post_install", "-at_install")
class TestOutboundTasksDoneInBulk(OutboundCase):
    """A call closes its lead's task with the message Odoo's own ``_action_done`` posts,
    written for many tasks at once."""

    FIELDS = (
        "body",
        "subtype_id",
        "mail_activity_type_id",
        "author_id",
        "email_from",
        "message_type",
        "reply_to",
        "record_company_id",
        "record_alias_domain_id",
        "email_add_signature",
    )

    def _done_message(self, lead):
        return lead.message_ids.filtered(lambda message: message.subtype_id == self.env.ref("mail.mt_activities"))[:1]

    def _values(self, message):
        return {fname: message[fname] for fname in self.FIELDS}

    def test_the_message_odoo_posts(self):
        with freeze_time("2026-03-02 06:00:00"):
            by_odoo, in_bulk = self._new_leads(2)
        self.env.flush_all()
        task, bulk_tasks = by_odoo.activity_ids, (in_bulk.activity_ids)
        self.assertEqual(task.summary, bulk_tasks.summary)
        last = in_bulk.message_ids[:1]
        task.with_user(self.salesman).action_feedback(feedback="Talked")
        bulk_tasks.with_user(self.salesman).with_context(crm_outbound_applying=OWN_WRITE)._outbound_action_done(
            feedback="Talked"
        )
        odoo_message, bulk_message = self._done_message(by_odoo), self._done_message(in_bulk)
        self.assertTrue(odoo_message and bulk_message)
        self.assertEqual(self._values(bulk_message), self._values(odoo_message))
        self.assertIn("Talked", str(bulk_message.body))
        self.assertEqual(bulk_message.parent_id, last, "the thread's last message, as Odoo links it")
        self.assertFalse(bulk_tasks.exists().filtered("active"), "done, as Odoo leaves a done task")

    def test_each_task_its_own_message(self):
        """Tasks alike share one rendering; a task that differs (summary, assignee)
        gets its own body."""
        leads = self._new_leads(3)
        self.env.flush_all()
        first, second, third = (lead.activity_ids for lead in leads)
        second.summary = "Call about the invoice"
        third.user_id = self.env.user
        (first | second | third).with_user(self.salesman).with_context(
            crm_outbound_applying=OWN_WRITE
        )._outbound_action_done(feedback="Talked")
        bodies = [str(self._done_message(lead).body) for lead in leads]
        self.assertNotIn("Call about the invoice", bodies[0])
        self.assertIn("Call about the invoice", bodies[1])
        self.assertNotIn(self.env.user.name, bodies[0])
        self.assertIn(self.env.user.name, bodies[2], "originally assigned to another user")

    def _bus_messages(self, action):
        """The bus notifications ``action`` sends, once its transaction would commit."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM bus_bus")
        [last] = self.env.cr.fetchone()
        action()
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.cr.execute("SELECT channel, message FROM bus_bus WHERE id > %s ORDER BY id", [last])
        return self.env.cr.fetchall()

    def test_the_bus_notifications_odoo_sends(self):
        """The assignee's task counter is told as Odoo's _action_done tells it; neither
        sends the done message on the bus (nobody is notified of it)."""
        by_odoo, in_bulk = self._new_leads(2)
        salesman_tasks = self.env["mail.activity"].with_user(self.salesman)
        odoo_done = self._bus_messages(
            lambda: (
                salesman_tasks.browse(by_odoo.activity_ids.ids)
                .with_context(crm_outbound_applying=OWN_WRITE)
                ._action_done(feedback="Talked")
            )
        )
        bulk_done = self._bus_messages(
            lambda: (
                salesman_tasks.browse(in_bulk.activity_ids.ids)
                .with_context(crm_outbound_applying=OWN_WRITE)
                ._outbound_action_done(feedback="Talked")
            )
        )
        self.assertTrue(odoo_done)
        self.assertEqual(bulk_done, odoo_done)

    def test_a_follower_of_activities_is_notified_through_odoo(self):
        """A follower who asked for activity messages gets his notification: the tasks
        then go through Odoo's own _action_done."""
        watcher = new_test_user(self.env, login="outbound_activity_watcher", groups="sales_team.group_sale_salesman")
        lead = self._new_leads()
        lead.message_subscribe(partner_ids=watcher.partner_id.ids, subtype_ids=self.env.ref("mail.mt_activities").ids)
        lead.activity_ids.with_user(self.salesman).with_context(crm_outbound_applying=OWN_WRITE)._outbound_action_done()
        self.assertIn(watcher.partner_id, self._done_message(lead).notified_partner_ids)

    def test_logging_a_call_closes_the_task_in_bulk(self):
        leads = self._new_leads(3)
        leads.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        for lead in leads:
            self.assertEqual(len(self._done_message(lead)), 1)
            self.assertOneTask(lead, self.type_sell)
