from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import OutboundCase, dt, kanban_group_values


@tagged("post_install", "-at_install")
class TestOutboundLeadStatus(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_playbook = cls.env["crm.outbound.playbook"].create({"name": "Other playbook"})
        cls.other_status = cls.env["crm.outbound.status"].create(
            {"playbook_id": cls.other_playbook.id, "code": "x", "name": "Elsewhere", "task_timing": "none"}
        )

    def test_status_of_another_playbook_is_refused_naming_both(self):
        lead = self._new_leads()
        with (
            self.assertRaisesRegex(ValidationError, r"Elsewhere.*Other playbook.*Test playbook"),
            self.env.cr.savepoint(),
        ):
            lead.write({"outbound_status_id": self.other_status.id})
        lead.invalidate_recordset()
        self.assertFalse(lead.outbound_status_id, "nothing is written")

    def test_comment_code_of_another_status_is_refused_naming_both(self):
        lead = self._new_leads()
        with self.assertRaisesRegex(ValidationError, r"Present.*Call back.*Interested"):
            lead.write({"outbound_status_id": self.st_interest.id, "outbound_comment_code_id": self.code_present.id})

    @freeze_time("2026-03-02 09:00:00")
    def test_setting_a_status_by_write_replaces_the_task_and_is_tracked(self):
        lead = self._new_leads()
        self.assertOneTask(lead, self.type_redial)
        self.env.flush_all()
        self.env.cr.precommit.run()  # as if the lead had been created in an earlier request
        lead.with_user(self.salesman).write({"outbound_status_id": self.st_interest.id})
        self.assertOneTask(lead, self.type_sell)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 09:00:00"))
        self.assertEqual(lead.outbound_attempt_count, 0, "setting a status is not a call")
        self.env.flush_all()
        self.env.cr.precommit.run()  # the chatter's tracking runs before the commit
        tracked = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "crm.lead"),
                ("mail_message_id.res_id", "=", lead.id),
                ("field_id.name", "=", "outbound_status_id"),
            ]
        )
        self.assertEqual(len(tracked), 1, "the status change is tracked in the chatter")
        self.assertEqual(tracked.new_value_char, "Interested")

    def _tracking_message(self, lead):
        messages = lead.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(messages), 1, f"one tracking message on {lead.name}")
        return messages

    def test_tracking_of_many_leads_is_odoos_message_written_at_once(self):
        """A status given to many leads at once is tracked with the message Odoo logs
        for one lead (its author, type, subtype, values), all created in one batch."""
        alone, *together = leads = self._new_leads(4)
        self.env.flush_all()
        self.env.cr.precommit.run()
        alone.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        self.env.flush_all()
        self.env.cr.precommit.run()
        batch = self.env["crm.lead"].concat(*together)
        batch.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        self.env.flush_all()
        created, message_class = [], type(self.env["mail.message"])
        original_create = message_class.create

        def counting_create(model, vals_list):
            created.append(len(vals_list))
            return original_create(model, vals_list)

        with patch.object(message_class, "create", counting_create):
            self.env.cr.precommit.run()
        self.assertEqual(created, [3], "the three leads' tracking messages in one create")
        expected = self._tracking_message(alone)
        fields = ("author_id", "message_type", "subtype_id", "is_internal", "email_from", "reply_to")
        for lead in leads[1:]:
            message = self._tracking_message(lead)
            self.assertEqual([message[f] for f in fields], [expected[f] for f in fields])
            self.assertEqual(
                message.tracking_value_ids.mapped(lambda value: (value.field_id.name, value.new_value_char)),
                expected.tracking_value_ids.mapped(lambda value: (value.field_id.name, value.new_value_char)),
            )

    def test_a_callers_context_defers_no_message(self):
        """The flag that defers a tracking message is ours: given by a caller (an RPC
        client's context), it neither drops a message nor breaks a post."""
        leads = self._new_leads(2)
        self.env.flush_all()
        self.env.cr.precommit.run()  # as if the leads had been created in an earlier request
        flagged = leads.with_context(crm_outbound_defer_message=True)
        message = flagged[0].message_post(body="Posted with the flag")
        self.assertTrue(message.exists())
        flagged.with_user(self.salesman).write({"outbound_status_id": self.st_interest.id})
        self.env.flush_all()
        self.env.cr.precommit.run()
        for lead in leads:
            self.assertTrue(lead.message_ids.filtered("tracking_value_ids"), "the status change is tracked")

    def test_kanban_columns_are_every_status_in_catalog_order(self):
        self.st_callback.sequence = 20  # the catalog order, not the creation order
        self._new_leads(2).write({"outbound_status_id": self.st_interest.id})
        columns = kanban_group_values(self.env["crm.lead"], [("team_id", "=", self.team.id)], "outbound_status_id")
        self.assertEqual(
            columns,
            [self.st_no_answer.id, self.st_interest.id, self.st_refused.id, self.st_callback.id],
            "empty statuses show as columns too; the other playbook's do not",
        )

    def test_salesperson_reads_the_catalog_but_cannot_edit_it(self):
        as_salesman = self.st_interest.with_user(self.salesman)
        self.assertEqual(as_salesman.name, "Interested")
        with self.assertRaises(AccessError):
            as_salesman.write({"name": "Hot"})
        with self.assertRaises(AccessError):
            self.env["crm.outbound.status"].with_user(self.salesman).create(
                {"playbook_id": self.playbook.id, "code": "new", "name": "New", "task_timing": "none"}
            )
        with self.assertRaises(AccessError):
            self.playbook.with_user(self.salesman).write({"touch_threshold": 10})

    def test_manager_edits_the_catalog(self):
        self.st_interest.with_user(self.manager).write({"name": "Hot"})
        status = (
            self.env["crm.outbound.status"]
            .with_user(self.manager)
            .create({"playbook_id": self.playbook.id, "code": "new", "name": "New", "task_timing": "none"})
        )
        self.env["crm.outbound.comment.code"].with_user(self.manager).create({"status_id": status.id, "name": "Ok"})
        self.playbook.with_user(self.manager).write({"touch_threshold": 10})
        self.assertEqual(self.st_interest.name, "Hot")
        self.assertEqual(self.playbook.touch_threshold, 10)

    def test_comment_code_lost_reason_replaces_the_status_reason(self):
        expensive = self.env["crm.lost.reason"].create({"name": "Too expensive for them"})
        code = self.env["crm.outbound.comment.code"].create(
            {"status_id": self.st_refused.id, "name": "Expensive", "lost_reason_id": expensive.id}
        )
        lead, other = self._new_leads(2)
        lead.outbound_log_call({"status_id": self.st_refused.id, "comment_code_id": code.id, "note": "price"})
        other.outbound_log_call({"status_id": self.st_refused.id, "note": "no"})
        self.assertEqual((lead.active, lead.lost_reason_id), (False, expensive))
        self.assertEqual(other.lost_reason_id, self.lost_refused)
        with self.assertRaisesRegex(ValidationError, r"Present.*Too expensive for them.*does not mark the lead lost"):
            self.code_present.lost_reason_id = expensive
