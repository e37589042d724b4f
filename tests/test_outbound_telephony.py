import json
import logging
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo import SUPERUSER_ID, api
from odoo.addons.crm_outbound.models.crm_lead import OWN_WRITE
from odoo.exceptions import AccessError
from odoo.http import request
from odoo.tests import Form, HttpCase, new_test_user, tagged, users, warmup
from odoo.tools import mute_logger

from ..controllers.main import OutboundTelephonyController
from ..models.compat import ODOO_19
from ..models.crm_outbound_call import CALL_ITEM_KEYS, EXTERNAL_ID_CONSTRAINT, _quiet_external_id_race
from .common import OutboundCase, dt

URL = "/crm_outbound/v1/calls"
SERIALIZATION_FAILURE = (
    "DO $$ BEGIN RAISE EXCEPTION 'concurrent update' USING ERRCODE = 'serialization_failure'; END $$"
)
CDR_SAMPLE = Path(__file__).parent / "data" / "cdr_sample.csv"


class TelephonyCase(OutboundCase, HttpCase):
    """The test playbook of ``OutboundCase``, an integration user with an API key, and
    helpers that post to the endpoint over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Numbers without a country code are read as the company's country's.
        cls.env.company.country_id = cls.env.ref("base.ru")
        cls.pbx = new_test_user(cls.env, login="outbound_pbx", groups="crm_outbound.group_outbound_integration")
        cls.key = cls._new_key(cls.pbx)
        cls.supervisor = new_test_user(
            cls.env, login="outbound_supervisor", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.operator = new_test_user(cls.env, login="outbound_operator", groups="sales_team.group_sale_salesman")
        cls.lead_a = cls._new_lead("A", "+7 495 123 45 01")
        cls.lead_b = cls._new_lead("B", "+7 495 123 45 02")

    @classmethod
    def _new_key(cls, user):
        return cls.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "PBX", None)

    @classmethod
    def _new_lead(cls, name, phone, **vals):
        return cls.env["crm.lead"].create(
            {"name": f"Lead {name}", "team_id": cls.team.id, "user_id": cls.salesman.id, "phone": phone, **vals}
        )

    def post(self, body, key=None, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if key is not False:
            headers["Authorization"] = f"Bearer {key or self.key}"
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.url_open(URL, data=data, headers=headers, timeout=60)

    def post_calls(self, *items, status=200):
        response = self.post({"calls": list(items)})
        self.assertEqual(response.status_code, status, response.text)
        return response.json()["results"]

    @staticmethod
    def item(external_id, started_at="2026-03-02T12:00:00+03:00", **vals):
        return {"external_id": external_id, "started_at": started_at, "duration": 0, "answered": False, **vals}

    def calls(self, *external_ids):
        return self.env["crm.outbound.call"].search(
            [("integration_user_id", "=", self.pbx.id), ("external_id", "in", external_ids)]
        )


@tagged("post_install", "-at_install")
class TestOutboundTelephony(TelephonyCase):
    def test_mixed_batch_then_replay(self):
        items = [
            self.item("c1", phone="+7 (495) 123-45-01"),
            self.item("c2", phone="+7 495 999 99 99", duration=12),
            self.item("c3", phone="+7 495 123 45 01", duration=-5),
            self.item("c4", lead_id=999999999),
            self.item("c5", lead_id=self.lead_b.id, answered=True, status_code="zzz"),
            self.item("c6", lead_id=self.lead_b.id, operator="nobody"),
            self.item("c7", phone="+7 495 123 45 02", started_at="yesterday"),
            self.item("c8", lead_id=self.lead_b.id, answered=True, duration=95),
            42,
            self.item("c9", phone="+7 495 123 45 02", colour="red"),
        ]
        results = self.post_calls(*items)
        self.assertEqual(
            [(r["external_id"], r["result"]) for r in results],
            [
                ("c1", "created"),
                ("c2", "unmatched"),
                ("c3", "error"),
                ("c4", "unmatched"),
                ("c5", "created"),
                ("c6", "created"),
                ("c7", "error"),
                ("c8", "created"),
                (None, "error"),
                ("c9", "created"),
            ],
        )
        by_id = {r["external_id"]: r for r in results}
        for external_id, fragments in {
            "c3": ["duration", "-5"],
            "c7": ["started_at", "yesterday"],
        }.items():
            for fragment in fragments:
                self.assertIn(fragment, by_id[external_id]["error"])
            self.assertFalse(by_id[external_id]["call_id"])
            self.assertNotIn("Traceback", by_id[external_id]["error"])
        for external_id, fragments in {
            "c4": ["lead_id", "999999999", "without a lead"],
            "c5": ["status_code", "zzz", "not applied"],
            "c6": ["operator", "nobody", "without an operator"],
            "c9": ["colour", "ignored"],
        }.items():
            for fragment in fragments:
                self.assertIn(fragment, by_id[external_id]["reason"])
            self.assertFalse(by_id[external_id]["error"])
        self.assertIsNone(by_id["c1"]["reason"])
        self.assertIn("42", results[8]["error"])
        self.assertEqual(by_id["c1"]["lead_id"], self.lead_a.id)
        self.assertEqual(by_id["c8"]["lead_id"], self.lead_b.id)
        self.assertFalse(by_id["c2"]["lead_id"])
        self.assertEqual(self.calls("c3", "c7").ids, [], "errors write nothing")
        c1, c2, c4, c5, c6, c8 = (self.calls(external_id) for external_id in ("c1", "c2", "c4", "c5", "c6", "c8"))
        self.assertEqual(
            (c1.id, c1.lead_id, c1.source, c1.answered), (by_id["c1"]["call_id"], self.lead_a, "webhook", False)
        )
        self.assertEqual(c1.call_at, dt("2026-03-02 09:00:00"), "started_at is stored in UTC")
        self.assertEqual(
            (c2.id, c2.lead_id.id, c2.phone, c2.duration), (by_id["c2"]["call_id"], False, "+7 495 999 99 99", 12)
        )
        self.assertIn("999999999", c4.unmatched_reason, "the supervisor sees why")
        self.assertEqual(
            (c5.lead_id, c5.status_id, c5.status_code), (self.lead_b, self.env["crm.outbound.status"], "zzz")
        )
        self.assertEqual(
            (c6.lead_id, c6.user_id), (self.lead_b, self.env["res.users"]), "no operator rather than a wrong one"
        )
        self.assertEqual((c8.answered, c8.is_touch, c8.user_id), (True, True, self.salesman))
        self.assertEqual(self.lead_b.outbound_attempt_count, 4, "c5, c6, c8 and c9 are counted")

        replay = self.post_calls(*items)
        self.assertEqual(
            [r["result"] for r in replay],
            [
                "duplicate",
                "duplicate",
                "error",
                "duplicate",
                "duplicate",
                "duplicate",
                "error",
                "duplicate",
                "error",
                "duplicate",
            ],
        )
        self.assertEqual([r["call_id"] for r in replay if r["result"] == "duplicate"][:3], [c1.id, c2.id, c4.id])
        self.assertEqual(len(self.calls("c1", "c2", "c4", "c5", "c6", "c8", "c9")), 7)
        self.assertEqual(self.lead_b.outbound_attempt_count, 4)

    def test_unanswered_calls_run_the_redial_cadence(self):
        lead = self.lead_a
        [result] = self.post_calls(self.item("n1", phone="84951234501", started_at="2026-03-02T12:00:00+03:00"))
        self.assertEqual(result["result"], "created")
        self.assertEqual(lead.outbound_status_id, self.st_no_answer, "the playbook's no-answer status")
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"), "1st cadence step: 1 h after the call")
        self.assertOneTask(lead, self.type_redial)

        self.post_calls(self.item("n2", lead_id=lead.id, started_at="2026-03-02T10:05:00Z"))
        self.assertEqual(lead.outbound_no_answer_count, 2)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 13:05:00"), "2nd step: 3 h")
        self.assertOneTask(lead, self.type_redial)

        self.post_calls(self.item("n3", lead_id=lead.id, started_at="2026-03-02T13:10:00Z"))
        self.assertEqual(lead.outbound_no_answer_count, 3)
        self.assertEqual(lead.outbound_status_id, self.st_refused, "the cadence is exhausted")
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.lost_not_reached)
        self.assertNoTask(lead)
        self.assertEqual(lead.outbound_attempt_count, 3)

    def test_batch_is_applied_in_call_order(self):
        lead = self.lead_a
        self.post_calls(
            self.item("late", lead_id=lead.id, started_at="2026-03-02T10:05:00Z"),
            self.item("early", lead_id=lead.id, started_at="2026-03-02T09:00:00Z"),
        )
        self.assertEqual(lead.outbound_no_answer_count, 2)
        self.assertEqual(lead.outbound_last_call_at, dt("2026-03-02 10:05:00"))
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 13:05:00"), "the later call came second")

    def test_answered_call_counts_and_leaves_the_status(self):
        lead = self.lead_a
        self.post_calls(self.item("a1", lead_id=lead.id, started_at="2026-03-02T09:00:00Z"))
        task = self.assertOneTask(lead, self.type_redial)
        self.post_calls(self.item("a2", lead_id=lead.id, started_at="2026-03-02T10:00:00Z", answered=True, duration=95))
        self.assertEqual(lead.outbound_attempt_count, 2)
        self.assertEqual(lead.outbound_touch_count, 1)
        self.assertEqual(lead.outbound_no_answer_count, 0, "an answered call resets the streak")
        self.assertEqual(lead.outbound_status_id, self.st_no_answer, "the operator sets the status")
        self.assertEqual(self.assertOneTask(lead), task)

        self.post_calls(
            self.item(
                "a3", lead_id=lead.id, started_at="2026-03-02T11:00:00Z", answered=True, duration=20, status_code="int"
            )
        )
        self.assertEqual(lead.outbound_status_id, self.st_interest, "a status the PBX sends is applied")
        self.assertEqual(lead.outbound_touch_count, 1, "20 s is no touch")
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 11:00:00"))
        self.assertOneTask(lead, self.type_sell)

    def test_phone_matching_in_any_format(self):
        formats = ["+74951234501", "+7 (495) 123-45-01", "8 495 123-45-01", "(495) 123 45 01", "tel 8-495-1234501"]
        items = [self.item(f"p{index}", phone=phone) for index, phone in enumerate(formats)]
        results = self.post_calls(*items)
        self.assertEqual([(r["result"], r["lead_id"]) for r in results], [("created", self.lead_a.id)] * 5)
        [bad] = self.post_calls(self.item("p-bad", phone="not a number"))
        self.assertEqual((bad["result"], bad["lead_id"]), ("unmatched", None))
        self.assertIn("not a number", bad["reason"])
        self.assertEqual(self.calls("p-bad").phone, "not a number", "kept with the number as reported")

    def test_phone_matching_prefers_the_open_lead_with_recent_activity(self):
        phone = "+7 495 123 45 77"
        self._new_lead("no playbook", phone, team_id=self.plain_team.id)
        older = self._new_lead("older", phone)
        recent = self._new_lead("recent", phone)
        won = self._new_lead("won", phone)
        lost = self._new_lead("lost", phone)
        applying = {"crm_outbound_applying": OWN_WRITE}
        older.with_context(**applying).write({"outbound_last_call_at": "2026-02-01 09:00:00"})
        recent.with_context(**applying).write({"outbound_last_call_at": "2026-02-20 09:00:00"})
        won.with_context(**applying).write(
            {
                "outbound_last_call_at": "2026-02-28 09:00:00",
                "stage_id": self.env["crm.stage"].search([("is_won", "=", True)], limit=1).id,
            }
        )
        lost.with_context(**applying).write({"outbound_last_call_at": "2026-03-01 09:00:00"})
        lost.action_set_lost()
        [result] = self.post_calls(self.item("m1", phone="84951234577"))
        self.assertEqual(result["lead_id"], recent.id)

    def test_operator_by_login_else_the_salesperson(self):
        results = self.post_calls(
            self.item("o1", lead_id=self.lead_a.id, operator=self.operator.login),
            self.item("o2", lead_id=self.lead_b.id),
        )
        self.assertEqual([r["result"] for r in results], ["created", "created"])
        self.assertEqual(self.calls("o1").user_id, self.operator)
        self.assertEqual(self.calls("o2").user_id, self.salesman)

    def test_unmatched_call_attached_by_a_supervisor(self):
        [result] = self.post_calls(
            self.item("u1", phone="+7 495 555 00 00", started_at="2026-03-02T09:00:00Z", operator=self.operator.login)
        )
        self.assertEqual(result["result"], "unmatched")
        call = self.calls("u1")
        self.assertIn(call, self.env["crm.outbound.call"].search([("lead_id", "=", False)]))
        lead = self.lead_b
        wizard = Form(
            self.env["crm.outbound.call.attach"].with_user(self.supervisor).with_context(default_call_ids=call.ids)
        )
        wizard.lead_id = lead
        wizard.save().action_attach()
        self.assertEqual((call.lead_id, call.user_id, call.team_id), (lead, self.operator, self.team))
        self.assertEqual(call.status_id, self.st_no_answer)
        self.assertEqual(lead.outbound_no_answer_count, 1)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 10:00:00"))
        self.assertOneTask(lead, self.type_redial)
        [replay] = self.post_calls(self.item("u1", phone="+7 495 555 00 00"))
        self.assertEqual((replay["result"], replay["call_id"], replay["lead_id"]), ("duplicate", call.id, lead.id))
        with self.assertRaisesRegex(Exception, "unmatched"):
            call.with_user(self.supervisor)._outbound_attach(self.lead_a)

    def test_unmatched_call_with_a_status_code_gets_it_when_attached(self):
        self.post_calls(
            self.item(
                "u2",
                phone="+7 495 555 00 01",
                answered=True,
                duration=40,
                status_code="int",
                started_at="2026-03-02T09:00:00Z",
            )
        )
        call = self.calls("u2")
        call.with_user(self.supervisor)._outbound_attach(self.lead_a)
        self.assertEqual(self.lead_a.outbound_status_id, self.st_interest)
        self.assertEqual(self.lead_a.outbound_touch_count, 1)
        self.assertOneTask(self.lead_a, self.type_sell)

    def test_unique_index_turns_a_racing_delivery_into_a_duplicate(self):
        """The other delivery committed the call after this one looked for known ids:
        the unique index refuses the second insert, the item's savepoint rolls it back,
        and the rest of the batch goes on. The race's expected end is no error in the
        server's log (an ERROR "bad query" would page whoever watches it)."""
        Call = self.env["crm.outbound.call"].with_user(self.pbx)
        Call._outbound_ingest([self.item("r1", lead_id=self.lead_a.id), self.item("r3", phone="+7 495 999 99 99")])
        blind = patch.object(type(Call), "_outbound_known_calls", lambda self, external_ids: {})
        with blind, self.assertNoLogs("odoo", "ERROR"):
            results = Call._outbound_ingest(
                [
                    self.item("r1", lead_id=self.lead_a.id),
                    self.item("r2", lead_id=self.lead_b.id),
                    self.item("r3", phone="+7 495 999 99 99"),
                ]
            )
        self.assertEqual([r["result"] for r in results], ["duplicate", "created", "duplicate"])
        self.assertEqual(len(self.calls("r1", "r3")), 2)
        self.assertEqual((self.lead_a.outbound_attempt_count, self.lead_b.outbound_attempt_count), (1, 1))

    def test_the_race_is_quiet_for_its_own_thread_and_error_only(self):
        """Only this thread's refused insert of an external id is kept out of the log:
        another thread's error, or another error of this thread, is logged; entered and
        left out of order (two threads), the logger is left as it was."""
        logger = logging.getLogger("odoo.sql_db")
        filters = list(logger.filters)
        refused = f'duplicate key value violates unique constraint "{EXTERNAL_ID_CONSTRAINT}"'
        with self.assertLogs("odoo.sql_db", "ERROR") as logs, _quiet_external_id_race():
            logger.error("bad query: %s\nERROR: %s", "INSERT ours", refused)
            other = threading.Thread(target=logger.error, args=("bad query: %s\nERROR: %s", "INSERT theirs", refused))
            other.start()
            other.join()
            logger.error("bad query: %s\nERROR: %s", "UPDATE ours", "deadlock detected")
        self.assertEqual([record.args[0] for record in logs.records], ["INSERT theirs", "UPDATE ours"])
        first, second = _quiet_external_id_race(), _quiet_external_id_race()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)
        second.__exit__(None, None, None)
        self.assertEqual(logger.filters, filters)

    def test_held_call_tells_the_salesperson(self):
        """A status that would lose a lead below the playbook's minimum of attempts is
        held by the lost gate (rule 3): the notice goes to the lead's salesperson (the
        call's operator), never to the integration user whose key reported the call."""
        self.playbook.min_attempts_before_lost = 3
        self.env["crm.outbound.status"].create(
            {
                "playbook_id": self.playbook.id,
                "code": "ni",
                "name": "Not interested",
                "contact_level": "decision_maker",
                "outcome": "refusal",
                "task_timing": "none",
                "lead_action": "lost",
                "lost_reason_id": self.lost_refused.id,
            }
        )
        notices = []

        def record(users, notification_type, message, **kwargs):
            notices.append((users, notification_type, message))

        with patch.object(type(self.env["res.users"]), "_bus_send", record):
            results = self.post_calls(
                self.item("held1", lead_id=self.lead_a.id, answered=True, duration=40, status_code="ni"),
                self.item("held2", lead_id=self.lead_b.id, answered=True, duration=40, status_code="ni"),
            )
        self.assertEqual([r["result"] for r in results], ["created", "created"])
        self.assertTrue(self.lead_a.active and self.lead_b.active, "held open by the gate")
        held = [(users, message) for users, kind, message in notices if kind == "simple_notification"]
        self.assertEqual([users for users, _message in held], [self.salesman], "one notice, to the salesperson")
        self.assertIn(self.lead_a.name, held[0][1]["message"])
        self.assertIn(self.lead_b.name, held[0][1]["message"])

    def test_retried_request_sees_its_body(self):
        """Odoo runs a request again after a serialization failure (``retrying``) on
        the same WSGI request: the second try reads the body the first one consumed."""
        Controller = OutboundTelephonyController
        respond = Controller._json_response
        Call = type(self.env["crm.outbound.call"])
        ingest = Call._outbound_ingest
        tries = []

        def count_tries(model, items, source="webhook"):
            tries.append(len(items))
            return ingest(model, items, source=source)

        def fail_first_answer(controller, data, status=200):
            if len(tries) == 1:
                # After the controller's own retries: only Odoo's retry of the request can help.
                request.env.cr.execute(SERIALIZATION_FAILURE)
            return respond(controller, data, status=status)

        with (
            patch.object(Call, "_outbound_ingest", count_tries),
            patch.object(Controller, "_json_response", fail_first_answer),
            patch("random.uniform", lambda low, high: 0),
            mute_logger("odoo.service.model", "odoo.sql_db", "odoo.http"),
        ):
            results = self.post_calls(
                self.item("retry1", lead_id=self.lead_a.id), self.item("retry2", phone="+7 495 123 45 02")
            )
        self.assertEqual(tries, [2, 2], "the request ran twice, the second time with the whole body")
        self.assertEqual([r["result"] for r in results], ["created", "created"])
        self.assertEqual((self.lead_a.outbound_attempt_count, self.lead_b.outbound_attempt_count), (1, 1))

    def test_serialization_failure_runs_the_batch_again(self):
        """The controller runs a batch again at once after a serialization failure, in
        a new transaction; the failed try leaves nothing behind."""
        Call = type(self.env["crm.outbound.call"])
        ingest = Call._outbound_ingest
        tries = []

        def fail_first_try(model, items, source="webhook"):
            tries.append(len(items))
            results = ingest(model, items, source=source)
            if len(tries) == 1:
                model.env.cr.execute(SERIALIZATION_FAILURE)
            return results

        with (
            patch.object(Call, "_outbound_ingest", fail_first_try),
            patch("random.uniform", lambda low, high: 0),
            mute_logger("odoo.sql_db"),
        ):
            results = self.post_calls(self.item("again1", lead_id=self.lead_a.id))
        self.assertEqual(tries, [1, 1])
        self.assertEqual(results[0]["result"], "created", "not a duplicate of the rolled back try")
        self.assertEqual(self.lead_a.outbound_attempt_count, 1)
        self.assertEqual(len(self.calls("again1")), 1)

    def test_hostile_items_get_one_error_each(self):
        """Whatever an item holds, it gets its own result and its neighbours are
        stored: no 500 from NUL characters, unpaired surrogates, far dates, empty
        numbers or giant values, and no giant echo."""
        cases = {
            "nul_external_id": (self.item("h\x00"), "error", "NUL"),
            "surrogate_external_id": (self.item("h\ud800"), "error", "surrogate"),
            "year_1": (self.item("h-y1", started_at="0001-01-01T00:00:00+03:00"), "error", "2000"),
            "year_9999": (self.item("h-y9", started_at="9999-12-31T23:59:59-05:00"), "error", "2099"),
            "giant_external_id": (self.item("x" * 3_000_000), "error", "external_id"),
            "many_keys": ({**self.item("h-keys"), **{f"k{index}": index for index in range(1000)}}, "error", "32"),
            "nul_operator": (self.item("h-op", lead_id=self.lead_a.id, operator="op\x00"), "created", "NUL"),
            "nul_phone": (self.item("h-ph", phone="+7 495\x00"), "unmatched", "NUL"),
            "empty_phone": (self.item("h-empty", phone=""), "unmatched", "phone"),
            "surrogate_url": (
                self.item("h-url", lead_id=self.lead_a.id, recording_url="https://pbx/\udfff"),
                "created",
                "surrogate",
            ),
            "surrogate_key": ({**self.item("h-key", lead_id=self.lead_a.id), "\ud800": 1}, "created", "unknown"),
            "far_agreed_at": (
                self.item(
                    "h-agreed",
                    lead_id=self.lead_b.id,
                    answered=True,
                    status_code="cb",
                    agreed_at="0001-01-01T00:00:00Z",
                ),
                "created",
                "agreed_at",
            ),
        }
        good = {"lead_id": self.lead_b.id, "answered": True, "duration": 5}
        items = [self.item("h-good-1", **good)]
        for item, _result, _fragment in cases.values():
            items += [item, self.item(f"h-good-{len(items) + 1}", **good)]
        response = self.post({"calls": items})
        self.assertEqual(response.status_code, 200, response.text[:1000])
        self.assertLess(len(response.content), 20_000, "values are echoed shortened")
        results = response.json()["results"]
        self.assertEqual({r["result"] for r in results[::2]}, {"created"}, "the neighbours are stored")
        for (name, (_item, result, fragment)), answer in zip(cases.items(), results[1::2], strict=True):
            with self.subTest(name):
                self.assertEqual(answer["result"], result, answer)
                self.assertIn(fragment, answer["error"] or answer["reason"])
                self.assertEqual(bool(answer["call_id"]), result != "error")
        self.assertEqual(self.lead_b.outbound_attempt_count, len(cases) + 2)
        self.assertNotEqual(self.lead_b.outbound_status_id, self.st_callback, "a refused agreed_at applies no status")

    def test_deep_or_oversized_bodies(self):
        deep = '{"calls": [' + "[" * 50_000 + "]" * 50_000 + "]}"
        response = self.post(deep)
        self.assertEqual(response.status_code, 400, response.text[:500])
        self.assertIn("nested", response.json()["error"])
        big = json.dumps({"calls": [self.item("big", lead_id=self.lead_a.id, note="x" * (5 * 1024 * 1024))]})
        self.assertEqual(self.post(big).status_code, 413)

        def chunks():
            yield b'{"calls": [{"external_id": "chunked", "phone": "'
            for _index in range(80):
                yield b"1" * 65536
            yield b'"}]}'

        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        response = self.url_open(URL, data=chunks(), headers=headers, timeout=60)
        self.assertEqual(response.status_code, 413, "a chunked body is refused before it is read whole")
        self.assertFalse(self.calls("big", "chunked"))

        def small_chunks():
            body = json.dumps({"calls": [self.item("chunked-small", lead_id=self.lead_a.id)]}).encode()
            yield from (body[index : index + 7] for index in range(0, len(body), 7))

        response = self.url_open(URL, data=small_chunks(), headers=headers, timeout=60)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertEqual(response.json()["results"][0]["result"], "created", "a chunked body within the limit is read")
        self.assertEqual(len(self.calls("chunked-small")), 1)

    def test_calls_are_kept_whatever_cannot_be_applied(self):
        lost = self._new_lead("lost", "+7 495 123 45 10")
        lost.action_set_lost()
        outside = self._new_lead("outside", "+7 495 123 45 11", team_id=self.plain_team.id)
        gone = new_test_user(self.env, login="outbound_gone", groups="sales_team.group_sale_salesman")
        gone.active = False
        lead_a, lead_b = self.lead_a, self.lead_b
        results = self.post_calls(
            self.item("k1", phone="123"),
            self.item("k2", phone="*100#"),
            self.item("k3", phone="+10000000000"),
            self.item("k4", lead_id=lost.id),
            self.item("k5", lead_id=outside.id),
            self.item("k6", lead_id=lead_a.id, operator="outbound_gone"),
            self.item("k7", lead_id=lead_a.id, answered=True, duration=40, status_code="cb"),
            self.item(
                "k8",
                lead_id=lead_b.id,
                answered=True,
                duration=40,
                status_code="cb",
                agreed_at="2026-03-05T10:00:00+03:00",
            ),
            self.item("k9"),
        )
        expected = [
            ("unmatched", "123"),
            ("unmatched", "*100#"),
            ("unmatched", "+10000000000"),
            ("unmatched", "lost"),
            ("unmatched", "outbound calling"),
            ("created", "outbound_gone"),
            ("created", "agreed_at"),
            ("created", None),
            ("unmatched", "neither"),
        ]
        for result, (outcome, fragment) in zip(results, expected, strict=True):
            with self.subTest(result["external_id"]):
                self.assertEqual(result["result"], outcome, result)
                self.assertTrue(result["call_id"])
                if fragment:
                    self.assertIn(fragment, result["reason"])
                else:
                    self.assertIsNone(result["reason"])
        self.assertEqual(self.calls("k1").phone, "123", "the number as reported")
        self.assertEqual((lost.outbound_attempt_count, outside.outbound_attempt_count), (0, 0))
        self.assertFalse(self.calls("k6").user_id)
        self.assertEqual(self.calls("k7").lead_id, lead_a)
        self.assertEqual(lead_a.outbound_status_id, self.st_no_answer, "k7's status needs a date it did not give")
        self.assertEqual(lead_a.outbound_attempt_count, 2)
        self.assertEqual(
            (lead_b.outbound_status_id, lead_b.outbound_agreed_at), (self.st_callback, dt("2026-03-05 07:00:00"))
        )

    def test_won_lead_stays_won(self):
        lead = self.lead_a
        lead.action_set_won()
        before = (lead.stage_id, lead.probability, lead.active, lead.outbound_status_id, lead.outbound_next_call_at)
        results = self.post_calls(
            *(self.item(f"w{index}", lead_id=lead.id, started_at=f"2026-03-02T1{index}:00:00Z") for index in range(4))
        )
        self.assertEqual([r["result"] for r in results], ["created"] * 4)
        self.assertIn("won", results[0]["reason"])
        self.assertEqual(lead.outbound_attempt_count, 4, "stored and counted")
        after = (lead.stage_id, lead.probability, lead.active, lead.outbound_status_id, lead.outbound_next_call_at)
        self.assertEqual(after, before, "unanswered calls never move a won lead")

    def test_operator_key_may_not_post(self):
        """Only integration users post to the endpoint (DESIGN.md): an operator's own
        API key cannot report calls, for itself or for another operator."""
        response = self.post(
            {"calls": [self.item("op1", lead_id=self.lead_a.id, operator=self.operator.login)]},
            key=self._new_key(self.salesman),
        )
        self.assertEqual(response.status_code, 403)
        self.assertFalse(self.calls("op1") | self.env["crm.outbound.call"].search([("external_id", "=", "op1")]))

    def test_bad_requests(self):
        cases = [
            ("not json", "application/json", "not valid JSON"),
            (json.dumps([self.item("x")]), "application/json", '"calls"'),
            (json.dumps({"calls": [], "extra": 1}), "application/json", '"calls"'),
            (json.dumps({"calls": {"external_id": "x"}}), "application/json", "list"),
            (json.dumps({"calls": [self.item("x", lead_id=self.lead_a.id)]}), "text/plain", "Content-Type"),
        ]
        for body, content_type, fragment in cases:
            with self.subTest(body=body, content_type=content_type):
                response = self.post(body, content_type=content_type)
                self.assertEqual(response.status_code, 400)
                self.assertIn(fragment, response.json()["error"])
        self.assertFalse(self.calls("x"))

    def test_unauthenticated(self):
        for key in (False, "0123456789abcdef" * 2):
            with self.subTest(key=key):
                response = self.post({"calls": [self.item("k1", lead_id=self.lead_a.id)]}, key=key)
                self.assertEqual(response.status_code, 401)
                self.assertNotIn("Traceback", response.text)
        self.assertFalse(self.calls("k1"))

    def test_user_who_may_not_log_calls(self):
        employee = new_test_user(self.env, login="outbound_employee", groups="base.group_user")
        response = self.post({"calls": [self.item("f1", lead_id=self.lead_a.id)]}, key=self._new_key(employee))
        self.assertEqual(response.status_code, 403)
        self.assertIn("may not post calls", response.json()["error"])
        self.assertFalse(self.env["crm.outbound.call"].search([("external_id", "=", "f1")]))
        self.assertEqual(self.lead_a.outbound_attempt_count, 0)

    def test_integration_user_may_log_calls_only(self):
        lead = self.lead_a.with_user(self.pbx)
        self.assertEqual(lead.name, "Lead A", "it reads leads to match them")
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            lead.write({"name": "Renamed"})
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_model"):
            self.env["crm.outbound.status"].with_user(self.pbx).browse(self.st_interest.id).name  # noqa: B018

    def test_over_the_item_limit(self):
        response = self.post({"calls": [self.item(f"big{index}", lead_id=self.lead_a.id) for index in range(1001)]})
        self.assertEqual(response.status_code, 413)
        self.assertIn("1000", response.json()["error"])
        self.assertFalse(self.calls("big0"))

    @users("outbound_pbx")
    @warmup
    def test_query_count_of_a_batch(self):
        leads = self.env["crm.lead"].concat(
            *(self._new_lead(f"Q{index}", f"+7 495 200 00 {index:02d}") for index in range(30))
        )
        Call = self.env["crm.outbound.call"]

        def batch(prefix, batch_leads):
            return [self.item(f"{prefix}{lead.id}", phone=lead.phone) for lead in batch_leads]

        # A batch costs the same whatever its size; so does a replay.
        for name, batch_leads in (("10", leads[:10]), ("20", leads[10:30])):
            for prefix in ("new", "replay"):
                self.env.invalidate_all()
                with self.assertQueryCount(outbound_pbx=QUERIES_PER_BATCH[f"{prefix}_{name}"]):
                    results = Call._outbound_ingest(batch("q", batch_leads))
                self.assertEqual({r["result"] for r in results}, {"created" if prefix == "new" else "duplicate"})

    def test_cdr_import_twice(self):
        self._new_lead("C", "+7 495 123 45 03")
        fields = ["external_id", "phone", "call_at", "duration", "answered", "user_id", "recording_url", "status_code"]

        def import_sample():
            wizard = self.env["base_import.import"].create(
                {
                    "res_model": "crm.outbound.call",
                    "file": CDR_SAMPLE.read_bytes(),
                    "file_name": CDR_SAMPLE.name,
                    "file_type": "text/csv",
                }
            )
            options = {
                "has_headers": True,
                "quoting": '"',
                "separator": ",",
                "encoding": "utf-8",
                "datetime_format": "%Y-%m-%d %H:%M:%S",
                "date_format": "%Y-%m-%d",
                "float_thousand_separator": ",",
                "float_decimal_separator": ".",
            }
            return (
                wizard.with_user(self.supervisor)
                .with_context(tz="Europe/Moscow")
                .execute_import(fields, fields, options)
            )

        result = import_sample()
        self.assertFalse(result["messages"], result["messages"])
        calls = self.env["crm.outbound.call"].search([("source", "=", "import")])
        self.assertEqual(len(calls), 5)
        self.assertEqual(len(result["ids"]), 5)
        self.assertEqual(set(calls.mapped("external_id")), {"cdr-1", "cdr-2", "cdr-3", "cdr-4", "cdr-5"})
        first = calls.filtered(lambda call: call.external_id == "cdr-1")
        self.assertEqual((first.lead_id, first.call_at), (self.lead_a, dt("2026-03-02 09:00:00")), "Moscow time")
        self.assertEqual(self.lead_a.outbound_no_answer_count, 2)
        self.assertEqual(self.lead_a.outbound_next_call_at, dt("2026-03-02 12:30:00"), "09:30 UTC + 3 h")
        self.assertEqual(self.lead_b.outbound_status_id, self.st_interest)
        self.assertEqual(calls.filtered(lambda call: call.external_id == "cdr-4").user_id, self.operator)
        self.assertFalse(calls.filtered(lambda call: call.external_id == "cdr-5").lead_id, "unmatched")

        again = import_sample()
        self.assertFalse(again["messages"])
        self.assertEqual(self.env["crm.outbound.call"].search_count([("source", "=", "import")]), 5)
        self.assertEqual(self.lead_a.outbound_attempt_count, 2)

    def test_cdr_import_with_a_wrong_row_imports_nothing(self):
        result = (
            self.env["crm.outbound.call"]
            .with_user(self.supervisor)
            .load(
                ["external_id", "lead_id/.id", "call_at", "duration", "answered"],
                [
                    ["w1", str(self.lead_a.id), "2026-03-02 12:00:00", "10", "0"],
                    ["w2", str(self.lead_a.id), "2026-03-02 12:05:00", "minus one", "0"],
                ],
            )
        )
        self.assertFalse(result["ids"])
        self.assertEqual([m["record"] for m in result["messages"]], [1])
        self.assertIn("minus one", result["messages"][0]["message"])
        self.assertFalse(self.env["crm.outbound.call"].search([("external_id", "in", ["w1", "w2"])]))
        self.assertEqual(self.lead_a.outbound_attempt_count, 0)


# A batch goes through the bulk path in waves of distinct leads: the calls, their counters,
# each status and the chatter it writes (the tasks done, the next ones, the tracking) in a
# few queries per wave, plus a constant for matching the whole batch: 20 calls on distinct
# leads cost what 10 cost. A replay costs a constant.
QUERIES_PER_BATCH = (
    {"new_10": 50, "replay_10": 7, "new_20": 50, "replay_20": 7}
    if ODOO_19
    else {"new_10": 49, "replay_10": 7, "new_20": 49, "replay_20": 7}
)

# Hostile strings too: NUL, unpaired surrogates (json.dumps escapes them, the server
# reads them back), far dates, empty strings.
HOSTILE_TEXTS = st.sampled_from(
    ["", "\x00", "a\x00b", "\ud800", "x\udfffy", "0001-01-01T00:00:00+03:00", "9999-12-31T23:59:59-05:00", "*100#"]
)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
    | HOSTILE_TEXTS
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ITEM_KEYS = [*sorted(CALL_ITEM_KEYS), "other"]
ITEMS = st.dictionaries(
    st.sampled_from(ITEM_KEYS),
    JSON_VALUES
    | st.sampled_from(["2026-03-02T12:00:00+03:00", "+7 495 123 45 01", "https://pbx/rec.mp3", "int", "na", "cb"]),
    max_size=9,
)
# Items that can be stored: each must be stored exactly once, whatever its other fields.
STORABLE_ITEMS = st.fixed_dictionaries(
    {
        "external_id": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20).filter(
            str.strip
        ),
        "started_at": st.sampled_from(["2026-03-02T12:00:00+03:00", "2030-01-01T00:00:00Z"]),
        "duration": st.integers(0, 2**31 - 1),
        "answered": st.booleans(),
    },
    optional=dict.fromkeys(("phone", "lead_id", "operator", "status_code", "agreed_at"), JSON_VALUES | HOSTILE_TEXTS),
)


@tagged("post_install", "-at_install")
class TestOutboundTelephonyFuzz(TelephonyCase):
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(JSON_VALUES, st.fixed_dictionaries({"calls": st.lists(ITEMS | JSON_VALUES, max_size=5)})))
    def test_random_payloads_never_fail_the_server(self, payload):
        Call = self.env["crm.outbound.call"]
        before = Call.search_count([])
        response = self.post(json.dumps(payload).encode())  # a JSON string too, not a raw body
        self.assertIn(response.status_code, (200, 400, 413), response.text)
        written = Call.search_count([]) - before
        if response.status_code != 200:
            self.assertEqual(written, 0)
            return
        results = response.json()["results"]
        self.assertEqual(len(results), len(payload["calls"]))
        for result in results:
            self.assertIn(result["result"], ("created", "duplicate", "unmatched", "error"))
            self.assertEqual(bool(result["error"]), result["result"] == "error")
            self.assertEqual(
                bool(result["call_id"]),
                result["result"] in ("created", "unmatched")
                or (result["result"] == "duplicate" and bool(result["call_id"])),
            )
        self.assertEqual(written, sum(r["result"] in ("created", "unmatched") for r in results))

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(STORABLE_ITEMS, max_size=6, unique_by=lambda item: item["external_id"].strip()))
    def test_storable_items_are_stored_exactly_once(self, items):
        """An item with a valid external id and valid required fields is stored,
        whatever its optional fields hold; posted again, it is a duplicate."""
        Call = self.env["crm.outbound.call"]
        before = Call.search_count([])
        # The examples share the test's transaction: ids of their own.
        prefix = uuid.uuid4().hex
        body = {"calls": [{**item, "external_id": f"{prefix}{item['external_id']}"} for item in items]}
        first = self.post(body)
        self.assertEqual(first.status_code, 200, first.text[:1000])
        self.assertEqual(
            [r["result"] in ("created", "unmatched") for r in first.json()["results"]], [True] * len(items)
        )
        self.assertEqual(Call.search_count([]) - before, len(items))
        again = self.post(body)
        self.assertEqual([r["result"] for r in again.json()["results"]], ["duplicate"] * len(items))
        self.assertEqual(Call.search_count([]) - before, len(items))


@tagged("post_install", "-at_install")
class TestOutboundTelephonyConcurrency(HttpCase):
    """Two deliveries of one batch at once, on the server's real worker threads: the
    data is committed, so each request runs in its own transaction."""

    registry_test_mode = False

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.company.country_id = env.ref("base.ru")
            playbook = env["crm.outbound.playbook"].create({"name": "Concurrency playbook"})
            status = env["crm.outbound.status"].create(
                {
                    "playbook_id": playbook.id,
                    "code": "na",
                    "name": "No answer",
                    "outcome": "no_answer",
                    "task_timing": "cadence",
                    "activity_type_id": env.ref("crm_outbound.mail_activity_type_redial").id,
                }
            )
            env["crm.outbound.cadence.step"].create(
                [
                    {"playbook_id": playbook.id, "sequence": index, "delay": 1, "delay_unit": "hours"}
                    for index in range(5)
                ]
            )
            team = env["crm.team"].create({"name": "Concurrency team", "outbound_playbook_id": playbook.id})
            leads = env["crm.lead"].create(
                [
                    {"name": f"Concurrent {index}", "team_id": team.id, "phone": f"+7 495 300 00 {index:02d}"}
                    for index in range(5)
                ]
            )
            pbx = new_test_user(
                env, login=f"outbound_pbx_{uuid.uuid4().hex[:8]}", groups="crm_outbound.group_outbound_integration"
            )
            key = env["res.users.apikeys"].with_user(pbx).sudo()._generate(None, "PBX", None)
            self.ids = {
                "playbook": playbook.id,
                "status": status.id,
                "team": team.id,
                "leads": leads.ids,
                "pbx": pbx.id,
            }
            self.key = key
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.outbound.call"].search([("integration_user_id", "=", self.ids["pbx"])]).unlink()
            env["crm.lead"].with_context(active_test=False).browse(self.ids["leads"]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            env["crm.outbound.playbook"].browse(self.ids["playbook"]).unlink()
            env["res.users"].browse(self.ids["pbx"]).action_archive()

    def test_same_batch_twice_at_once(self):
        items = [
            {
                "external_id": f"race-{index}",
                "phone": f"+7 495 300 00 {index % 5:02d}",
                "started_at": f"2026-03-02T09:{index:02d}:00Z",
                "duration": 0,
                "answered": False,
            }
            for index in range(20)
        ]
        body = json.dumps({"calls": items})
        barrier = threading.Barrier(2)
        responses = [None, None]

        def deliver(slot):
            with requests.Session() as session:  # a connection of its own
                barrier.wait()
                responses[slot] = session.post(
                    self.base_url() + URL,
                    data=body,
                    headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
                    timeout=120,
                )

        threads = [threading.Thread(target=deliver, args=(slot,)) for slot in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for response in responses:
            self.assertEqual(response.status_code, 200, response.text)
        outcomes = list(zip(*(response.json()["results"] for response in responses), strict=True))
        for first, second in outcomes:
            self.assertEqual(sorted([first["result"], second["result"]]), ["created", "duplicate"], (first, second))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            calls = env["crm.outbound.call"].search([("integration_user_id", "=", self.ids["pbx"])])
            self.assertEqual(sorted(calls.mapped("external_id")), sorted(item["external_id"] for item in items))
            leads = env["crm.lead"].browse(self.ids["leads"])
            self.assertEqual(leads.mapped("outbound_attempt_count"), [4] * 5, "each call counted once")
            self.assertEqual(leads.mapped("outbound_no_answer_count"), [4] * 5)
            self.assertTrue(
                all(lead.outbound_next_call_at == lead.outbound_last_call_at + timedelta(hours=1) for lead in leads)
            )

    def test_four_clients_on_overlapping_leads(self):
        """Four PBX clients post different batches at once on the same leads: the
        losers of each race are run again by Odoo with their body, every call is
        stored once and every lead counts its calls."""
        clients, rounds, size = 4, 3, 25
        barrier = threading.Barrier(clients)
        responses = {}

        def batch(client, round_):
            return [
                {
                    "external_id": f"ov-{client}-{round_}-{index}",
                    "phone": f"+7 495 300 00 {index % 5:02d}",
                    "started_at": f"2026-03-02T{10 + round_:02d}:{client * 10 + index // 5:02d}:00Z",
                    "duration": 40 if index % 2 else 0,
                    # Answered calls break the unanswered streaks: the cadence never closes a lead.
                    "answered": bool(index % 2),
                }
                for index in range(size)
            ]

        def deliver(client):
            with requests.Session() as session:
                barrier.wait()
                for round_ in range(rounds):
                    responses[client, round_] = session.post(
                        self.base_url() + URL,
                        data=json.dumps({"calls": batch(client, round_)}),
                        headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
                        timeout=300,
                    )

        threads = [threading.Thread(target=deliver, args=(client,)) for client in range(clients)]
        with mute_logger("odoo.service.model"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for key, response in sorted(responses.items()):
            self.assertEqual(response.status_code, 200, (key, response.text[:500]))
            self.assertEqual({r["result"] for r in response.json()["results"]}, {"created"}, key)
        self.assertEqual(len(responses), clients * rounds)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            calls = env["crm.outbound.call"].search([("integration_user_id", "=", self.ids["pbx"])])
            self.assertEqual(len(calls), clients * rounds * size)
            self.assertEqual(len(set(calls.mapped("external_id"))), clients * rounds * size, "none doubled")
            leads = env["crm.lead"].browse(self.ids["leads"])
            self.assertEqual(
                [lead.outbound_attempt_count for lead in leads], [len(lead.outbound_call_ids) for lead in leads]
            )
            self.assertEqual(leads.mapped("outbound_attempt_count"), [clients * rounds * size // 5] * 5)
