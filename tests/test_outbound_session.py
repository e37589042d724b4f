from contextlib import closing
from datetime import timedelta

import pytz
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.sql_db import db_connect
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import OutboundCase, dt


@tagged("post_install", "-at_install")
class TestOutboundSession(OutboundCase):
    """The calling session (DESIGN.md rule 8): the next lead, claimed for one operator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = new_test_user(cls.env, login="outbound_other", groups="sales_team.group_sale_salesman")
        cls.team.member_ids = [(4, cls.other.id)]

    def _due(self, leads, minutes_ago):
        leads.with_context(crm_outbound_applying=OWN_WRITE).write(
            {"outbound_next_call_at": fields.Datetime.now() - timedelta(minutes=minutes_ago)}
        )
        return leads

    def _next(self, user):
        return self.env["crm.lead"].with_user(user).outbound_next_lead()

    def test_own_due_leads_first_in_due_order_then_the_teams_unassigned(self):
        unassigned = self._due(self._new_leads(name="Unassigned", user_id=False), 90)
        own_late = self._due(self._new_leads(name="Own, due an hour ago"), 60)
        own_early = self._due(self._new_leads(name="Own, due two hours ago"), 120)
        self._due(self._new_leads(name="Another operator's", user_id=self.other.id), 200)
        not_due = self._new_leads(name="Not due")
        not_due.with_context(crm_outbound_applying=OWN_WRITE).outbound_next_call_at = fields.Datetime.now() + timedelta(
            hours=1
        )
        self._due(self._new_leads(name="Other team", team_id=self.plain_team.id), 300)
        got = [self._next(self.salesman) for _i in range(4)]
        self.assertEqual(got, [own_early.id, own_late.id, unassigned.id, False])
        self.assertEqual(own_early.outbound_claim_user_id, self.salesman)
        self.assertGreater(own_early.outbound_claim_until, fields.Datetime.now())

    def test_only_leads_callable_now_are_handed_out(self):
        lead = self._due(self._new_leads(user_id=False), 10)
        self.playbook.write({"call_window_start": 0, "call_window_end": 0.5})
        tz = lead.outbound_tz
        with freeze_time("2026-03-02 12:00:00"):
            self._due(lead, 10)
            lead.invalidate_recordset()
            self.assertFalse(self._next(self.salesman), f"outside the client's calling window ({tz})")
        self.playbook.write({"call_window_end": 24})
        self.assertEqual(self._next(self.salesman), lead.id)

    def test_a_claimed_lead_is_not_handed_out_again_until_the_claim_expires(self):
        lead = self._due(self._new_leads(user_id=False), 10)
        self.assertEqual(self._next(self.salesman), lead.id)
        self.assertFalse(self._next(self.other), "the lead is claimed by the first operator")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=6)):
            self.assertEqual(self._next(self.other), lead.id, "an unused claim expires")

    def test_logging_in_the_session_takes_the_lead_over_and_brings_the_next(self):
        lead = self._due(self._new_leads(name="First", user_id=False), 20)
        second = self._due(self._new_leads(name="Second", user_id=False), 10)
        Lead = self.env["crm.lead"].with_user(self.salesman)
        lead_id = Lead.outbound_next_lead()
        card = Lead.browse(lead_id).outbound_session_log({"status_id": self.st_no_answer.id, "duration": 12})
        self.assertEqual(lead.user_id, self.salesman, "the operator who called an unassigned lead gets it")
        self.assertEqual(lead.outbound_attempt_count, 1)
        self.assertFalse(lead.outbound_claim_user_id)
        self.assertEqual(card["id"], second.id)
        self.assertEqual(card["name"], "Second")
        with self.assertRaisesRegex(UserError, "not in your calling session"):
            Lead.browse(lead.id).outbound_session_log({"status_id": self.st_no_answer.id})

    def test_skip_needs_a_reason_and_keeps_the_lead_out_of_the_queue(self):
        lead = self._due(self._new_leads(), 10)
        Lead = self.env["crm.lead"].with_user(self.salesman)
        Lead.outbound_next_lead()
        with self.assertRaisesRegex(UserError, "why you skip"):
            Lead.browse(lead.id).outbound_session_skip("  ")
        self.assertFalse(Lead.browse(lead.id).outbound_session_skip("Client at a meeting"))
        self.assertIn("Client at a meeting", lead.message_ids[0].body)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=10)):
            self.assertFalse(self._next(self.salesman), "a skipped lead stays aside longer than a claim")

    def test_pause_gives_the_lead_back_to_the_queue(self):
        lead = self._due(self._new_leads(user_id=False), 10)
        self.assertEqual(self._next(self.salesman), lead.id)
        self.env["crm.lead"].with_user(self.salesman).browse(lead.id).outbound_session_pause()
        self.assertEqual(self._next(self.other), lead.id)

    def test_the_card_shows_the_lead_its_statuses_and_quick_picks(self):
        lead = self._due(self._new_leads(name="Card lead", contact_name="Ivan Petrov", partner_name="Acme"), 10)
        lead.outbound_log_call({"status_id": self.st_no_answer.id, "note": "Silence"})
        card = lead.with_user(self.salesman).outbound_session_card()
        self.assertEqual((card["contact_name"], card["partner_name"]), ("Ivan Petrov", "Acme"))
        self.assertEqual(card["streak"], "N1")
        self.assertEqual(card["calls"][0]["note"], "Silence")
        levels = [group["level"] for group in card["status_groups"]]
        self.assertEqual(levels, ["decision_maker", "none"])
        callback = next(s for g in card["status_groups"] for s in g["statuses"] if s["id"] == self.st_callback.id)
        self.assertTrue(callback["needs_date"])
        self.assertEqual([c["name"] for c in callback["codes"]], ["Present", "Hangs up", "Other"])
        self.assertEqual(len({s["hotkey"] for g in card["status_groups"] for s in g["statuses"]}), 4)
        self.assertIn("tomorrow", [pick["key"] for pick in card["quick_picks"]])

    def test_the_zones_of_the_calling_window_are_written_with_the_shorter_list(self):
        """Hundreds of zone names are planned at each request of a session: the domain
        names the zones in or the zones out, whichever are fewer."""
        Lead = self.env["crm.lead"]
        self.assertEqual(Lead._outbound_in_zones_domain(pytz.all_timezones), [("outbound_tz", "!=", False)])
        self.assertEqual(Lead._outbound_in_zones_domain(["Europe/Moscow"]), [("outbound_tz", "in", ["Europe/Moscow"])])
        most = Lead._outbound_in_zones_domain([zone for zone in pytz.all_timezones if zone != "Europe/Moscow"])
        self.assertEqual(most, ["&", ("outbound_tz", "!=", False), ("outbound_tz", "not in", ["Europe/Moscow"])])
        moscow, tokyo, none = self._new_leads(3)
        moscow.outbound_tz, tokyo.outbound_tz, none.outbound_tz = "Europe/Moscow", "Asia/Tokyo", False
        self.assertEqual(Lead.search([("id", "in", (moscow | tokyo | none).ids), *most]), tokyo)

    @freeze_time("2026-03-02 09:00:00")
    def test_quick_picks_are_in_the_clients_local_time(self):
        lead = self._new_leads()
        picks = {pick["key"]: pick["value"] for pick in lead._outbound_quick_picks("Europe/Moscow")}
        self.assertEqual(picks["hour"], "2026-03-02 10:00:00")
        self.assertEqual(picks["today"], "2026-03-02 15:00:00", "18:00 in Moscow")
        self.assertEqual(picks["tomorrow"], "2026-03-03 07:00:00")
        self.assertEqual(picks["monday"], "2026-03-09 07:00:00")

    @freeze_time("2026-03-02 09:00:00")
    def test_preview_of_the_next_call(self):
        lead = self._new_leads()
        preview = lead.outbound_preview_next_call
        self.assertEqual(preview(self.st_no_answer.id), "2026-03-02 10:00:00", "first redial in 1 hour")
        self.assertEqual(preview(self.st_callback.id, False, "2026-03-04 12:00:00"), "2026-03-04 12:00:00")
        self.assertEqual(preview(self.st_callback.id, self.code_present.id), "2026-04-02 09:00:00")
        self.assertFalse(preview(self.st_refused.id))


@tagged("post_install", "-at_install")
class TestOutboundAgreedDate(OutboundCase):
    """An agreed date that cannot be what the client said is refused, naming it."""

    @freeze_time("2026-03-02 09:00:00")
    def test_agreed_date_in_the_past_is_refused(self):
        lead = self._new_leads()
        with self.assertRaisesRegex(ValidationError, "agreed date .*2010.* is in the past"):
            lead.outbound_log_call({"status_id": self.st_callback.id, "agreed_at": "2010-12-02 00:00:00"})
        self.assertFalse(lead.outbound_call_ids, "nothing is written")

    @freeze_time("2026-03-02 09:00:00")
    def test_agreed_date_more_than_a_year_ahead_is_refused(self):
        lead = self._new_leads()
        with self.assertRaisesRegex(ValidationError, "2027.* more than a year ahead"):
            lead.outbound_log_call({"status_id": self.st_callback.id, "agreed_at": "2027-03-10 10:00:00"})
        lead.outbound_log_call({"status_id": self.st_callback.id, "agreed_at": "2027-02-10 10:00:00"})
        self.assertEqual(lead.outbound_agreed_at, dt("2027-02-10 10:00:00"))

    @freeze_time("2026-03-02 09:00:00")
    def test_agreed_date_is_checked_against_the_call_time(self):
        lead = self._new_leads()
        lead.outbound_log_call(
            {"status_id": self.st_callback.id, "call_at": "2026-02-01 10:00:00", "agreed_at": "2026-02-03 10:00:00"}
        )
        self.assertEqual(lead.outbound_call_ids.agreed_at, dt("2026-02-03 10:00:00"))


@tagged("post_install", "-at_install")
class TestOutboundSessionConcurrently(TransactionCase):
    """Two operators asking for their next lead at once, each on their own database
    connection: the lead one of them holds is never handed to the other."""

    def test_two_operators_never_get_the_same_lead(self):
        dbname = self.env.cr.dbname
        with closing(db_connect(dbname).cursor()) as setup_cr:
            env = api.Environment(setup_cr, SUPERUSER_ID, {})
            playbook = env["crm.outbound.playbook"].create(
                {"name": "Session playbook", "call_window_start": 0, "call_window_end": 24}
            )
            users = [
                new_test_user(env, login=f"outbound_session_{name}", groups="sales_team.group_sale_salesman")
                for name in ("a", "b")
            ]
            team = env["crm.team"].create(
                {
                    "name": "Session team",
                    "outbound_playbook_id": playbook.id,
                    "member_ids": [(4, user.id) for user in users],
                }
            )
            leads = env["crm.lead"].create(
                [{"name": f"Session {i}", "team_id": team.id, "user_id": False} for i in range(3)]
            )
            past = fields.Datetime.now() - timedelta(hours=1)
            leads.with_context(crm_outbound_applying=OWN_WRITE).write({"outbound_next_call_at": past})
            setup_cr.commit()
            lead_ids, team_id, playbook_id, user_ids = leads.ids, team.id, playbook.id, [u.id for u in users]

        def cleanup():
            with closing(db_connect(dbname).cursor()) as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["crm.lead"].with_context(active_test=False).browse(lead_ids).unlink()
                env["crm.team"].browse(team_id).unlink()
                env["crm.outbound.playbook"].browse(playbook_id).unlink()
                env["res.users"].browse(user_ids).unlink()
                cr.commit()  # pylint: disable=invalid-commit

        self.addCleanup(cleanup)
        with closing(db_connect(dbname).cursor()) as cr_a, closing(db_connect(dbname).cursor()) as cr_b:
            Lead_a = api.Environment(cr_a, user_ids[0], {})["crm.lead"]
            Lead_b = api.Environment(cr_b, user_ids[1], {})["crm.lead"]
            cr_b.execute("SET lock_timeout = '2s'")
            # A's transaction is still open, its lead locked: B skips it instead of waiting.
            got_a = Lead_a.outbound_next_lead()
            got_b = Lead_b.outbound_next_lead()
            self.assertTrue(got_a and got_b)
            self.assertNotEqual(got_a, got_b)
            cr_a.commit()
            cr_b.commit()
            # Committed, the claims keep both leads out of the other's queue.
            got = {Lead_b.outbound_next_lead(), Lead_a.outbound_next_lead()}
            cr_a.commit()
            cr_b.commit()
        self.assertEqual(got, {next(i for i in lead_ids if i not in (got_a, got_b)), False})


@tagged("post_install", "-at_install")
class TestOutboundLogCallDialog(OutboundCase):
    """The Log call dialog shows the lead and when its next call will be."""

    @freeze_time("2026-03-02 09:00:00")
    def test_dialog_shows_the_lead_and_previews_the_next_call(self):
        lead = self._new_leads(name="Dialog lead", phone="+7 495 111 22 33")
        lead.outbound_log_call(
            {"status_id": self.st_callback.id, "agreed_at": "2026-03-02 12:00:00", "note": "At lunch"}
        )
        wizard = Form(self.env["crm.lead.log.call"].with_user(self.salesman).with_context(default_lead_ids=lead.ids))
        for text in ("Dialog lead", "+7 495 111 22 33", "Call back", "1 attempts", "At lunch"):
            self.assertIn(text, wizard.lead_summary)
        wizard.status_id = self.st_no_answer
        # In 1 hour, in the operator's time zone; each series has its own short format.
        self.assertRegex(wizard.next_call_preview, r"^0?3/0?2/(20)?26,? (13:00|0?1:00 PM)$")
        wizard.status_id = self.st_refused
        self.assertEqual(wizard.next_call_preview, "No further call")
        wizard.status_id = self.st_callback
        wizard.agreed_at = dt("2010-12-02 00:00:00")
        wizard.note = "Typo"
        with self.assertRaisesRegex(ValidationError, "2010.*is in the past"):
            wizard.save().action_log_call()
        self.assertEqual(lead.outbound_attempt_count, 1, "the refused call is not logged")

    @freeze_time("2026-03-02 09:00:00")
    def test_a_picked_day_is_called_at_ten_and_a_missing_date_is_named(self):
        """A bare day (midnight in the operator's zone) gets 10:00; a missing date is
        refused with the status's own label."""
        lead = self._new_leads(name="Dialog lead")
        wizard = Form(
            self.env["crm.lead.log.call"]
            .with_user(self.salesman)
            .with_context(default_lead_ids=lead.ids, tz="Europe/Moscow")
        )
        wizard.status_id = self.st_callback
        wizard.agreed_at = dt("2026-03-04 21:00:00")  # 5 March, 00:00 in Moscow
        self.assertEqual(wizard.agreed_at, dt("2026-03-05 07:00:00"), "10:00 in Moscow")
        wizard.agreed_at = dt("2026-03-04 21:30:00")
        self.assertEqual(wizard.agreed_at, dt("2026-03-04 21:30:00"), "a time given is kept")
        wizard.agreed_at = False
        with self.assertRaisesRegex(UserError, "Fill in “Callback at”: the status .*Call back"):
            wizard.save().action_log_call()
        self.assertFalse(lead.outbound_call_ids)

    @freeze_time("2026-03-02 09:00:00")
    def test_a_picked_day_today_is_called_at_the_next_full_hour(self):
        Lead = self.env["crm.lead"]
        # 12:00 in Moscow: today's 10:00 is past.
        self.assertEqual(
            Lead._outbound_with_call_time(dt("2026-03-01 21:00:00"), "Europe/Moscow"), dt("2026-03-02 10:00:00")
        )
        self.assertEqual(Lead._outbound_with_call_time(dt("2026-03-02 00:00:00"), "UTC"), dt("2026-03-02 10:00:00"))
        self.assertEqual(
            Lead.outbound_agreed_call_time("2026-03-03 00:00:00", "UTC"), "2026-03-03 10:00:00", "the session's picker"
        )
        self.assertEqual(Lead.outbound_agreed_call_time("2026-03-03 00:00:00", "Europe/Moscow"), "2026-03-03 00:00:00")


@tagged("post_install", "-at_install")
class TestOutboundScripts(OutboundCase):
    """Call scripts by contact level or segment (issue 15, seed 001): the session shows
    the most specific one that fits the lead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.playbook.script = "<p>Any lead</p>"
        Script = cls.env["crm.outbound.script"]
        common = {"playbook_id": cls.playbook.id}
        Script.create(
            [
                {**common, "contact_level": "gatekeeper", "script": "<p>Secretary</p>"},
                {**common, "segment": "never_called", "script": "<p>First call</p>"},
                {**common, "contact_level": "decision_maker", "segment": "never_called", "script": "<p>DM, first</p>"},
                {**common, "contact_level": "decision_maker", "script": "<p>DM</p>"},
            ]
        )

    def test_the_most_specific_script_fits(self):
        script_for = self.playbook._outbound_script_for
        self.assertIn("DM, first", script_for("never_called", "decision_maker"), "level and segment")
        self.assertIn("DM", script_for("lapsed_customer", "decision_maker"), "the level before the segment")
        self.assertIn("Secretary", script_for("never_called", "gatekeeper"))
        self.assertIn("First call", script_for("never_called"), "the segment alone")
        self.assertIn("Any lead", script_for("lapsed_customer"), "the playbook's script")
        self.assertIn("Any lead", script_for("lapsed_customer", "none"))

    def test_the_card_carries_the_leads_script_and_one_per_contact_level(self):
        lead = self._new_leads()
        self.assertEqual(lead.outbound_segment, "never_called")
        card = lead.with_user(self.salesman).outbound_session_card()
        self.assertIn("First call", card["script"])
        by_level = {entry["level"]: entry["script"] for entry in card["level_scripts"]}
        self.assertEqual(set(by_level), {"decision_maker", "gatekeeper"}, "nobody reached: the lead's script")
        self.assertIn("DM, first", by_level["decision_maker"])
        self.assertIn("Secretary", by_level["gatekeeper"])

    def test_operators_read_scripts_managers_edit_them(self):
        script = self.playbook.script_ids[:1]
        self.assertTrue(script.with_user(self.salesman).script)
        with self.assertRaises(AccessError):
            script.with_user(self.salesman).script = "<p>Mine</p>"
        playbook = Form(self.playbook.with_user(self.manager))
        with playbook.script_ids.new() as line:
            line.contact_level = "none"
            line.script = "<p>Leave a message</p>"
        playbook.save()
        self.assertIn("Leave a message", self.playbook._outbound_script_for("never_called", "none"))


@tagged("post_install", "-at_install")
class TestOutboundDemoOperators(OutboundCase):
    def test_operator_rights_are_sales_user_own_documents(self):
        user = new_test_user(self.env, login="outbound_demo_like", groups="sales_team.group_sale_manager")
        self.env["res.users"]._outbound_set_operator_rights(user.ids)
        self.assertTrue(user.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(user.has_group("sales_team.group_sale_salesman_all_leads"))
        self.assertFalse(user.has_group("sales_team.group_sale_manager"))
