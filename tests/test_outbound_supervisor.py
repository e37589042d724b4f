import re
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo.tests import Form, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..models.compat import graph_read_group
from .common import OutboundCase, dt


def _day(value):
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else value


@tagged("post_install", "-at_install")
class TestOutboundReportBounds(OutboundCase):
    """The KPI report's periods are bounded on both sides, and its graphs by day stand
    a call at the edge of the allowed dates and one far outside them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env, login="outbound_bounds_supervisor", groups="sales_team.group_sale_salesman_all_leads", tz="UTC"
        )
        cls.operator = new_test_user(
            cls.env, login="outbound_bounds_op", groups="sales_team.group_sale_salesman", tz="UTC"
        )
        cls.team.member_ids = [(4, cls.operator.id)]
        cls.dates = {
            "last_month": "2026-02-27 10:00:00",
            "monday": "2026-03-02 10:00:00",
            "today": "2026-03-04 10:00:00",
            "next_week": "2026-03-09 10:00:00",
            "next_month": "2026-04-01 10:00:00",
            "next_quarter": "2026-07-01 10:00:00",
            "edge": "2100-12-31 23:59:59",
            "odd": "9999-12-31 12:00:00",
        }
        leads = cls._new_leads(len(cls.dates), user_id=cls.operator.id)
        cls.call_by_name = {}
        for lead, (name, at) in zip(leads, cls.dates.items(), strict=True):
            with freeze_time("2026-03-04 10:00:00"):
                call_id = lead.with_user(cls.operator).outbound_log_call({"status_id": cls.st_no_answer.id})[0]
            # Behind the telephony's validation: data that came from elsewhere (written
            # as the superuser, so that the stored local hour follows).
            cls.env["crm.outbound.call"].sudo().browse(call_id).write({"call_at": at})
            cls.call_by_name[call_id] = name
        cls.env.invalidate_all()

    def _report(self, **context):
        return self.env["crm.outbound.call.report"].with_user(self.supervisor).with_context(**context)

    def _filter_domains(self, today):
        arch = self.env.ref("crm_outbound.crm_outbound_call_report_view_search").arch
        context = {"context_today": lambda: today, "relativedelta": relativedelta}
        return {
            node.get("name"): safe_eval(node.get("domain"), context)
            for node in etree.fromstring(arch).iter("filter")
            if "call_date" in (node.get("domain") or "")
        }

    def test_every_period_is_bounded(self):
        domains = self._filter_domains(date(2026, 3, 4))
        self.assertEqual(set(domains), {"today", "this_week", "this_month", "this_quarter"})
        found = {
            name: sorted(
                self.call_by_name[row.id] for row in self._report().search([*domain, ("team_id", "=", self.team.id)])
            )
            for name, domain in domains.items()
        }
        self.assertEqual(
            found,
            {
                "today": ["today"],
                "this_week": ["monday", "today"],
                "this_month": ["monday", "next_week", "today"],
                "this_quarter": ["last_month", "monday", "next_week", "today"],
            },
        )

    def test_graphs_by_day_stand_odd_dates(self):
        """The edge of the allowed range counts on its day; a date out of range has none."""
        for xmlid in ("crm_outbound_call_report_action", "crm_outbound_call_report_action_team"):
            action = self.env["ir.actions.act_window"]._for_xml_id(f"crm_outbound.{xmlid}")
            context = safe_eval(action["context"], {"uid": self.supervisor.id})
            context.pop("search_default_this_month")  # every call, as a supervisor who clears the filter
            report = self._report(**context)
            for groupby in (["call_date:day", "team_id"], ["call_date:month"], ["call_at:day"], ["won_date:day"]):
                groups = graph_read_group(report, [("team_id", "=", self.team.id)], groupby, ["call_count:sum"])
                self.assertEqual(
                    sum(group.get("call_count:sum", group.get("call_count")) for group in groups),
                    len(self.dates),
                    groupby,
                )
        by_day = {
            _day(day): count
            for day, count in self._report()._read_group(
                [("team_id", "=", self.team.id)], ["call_date:day"], ["call_count:sum"]
            )
        }
        self.assertEqual(by_day["2100-12-31"], 1, "the last allowed second is a day like any other")
        self.assertEqual(by_day[False], 1, "9999-12-31 is counted, without a day")
        self.assertEqual(len(by_day), len(self.dates))

    def test_graphs_do_not_fill_a_century(self):
        """A line graph from 2026 to 2100 would fill 27,000 empty days: the report's
        graphs show the days with calls."""
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_outbound.crm_outbound_call_report_action_team")
        context = safe_eval(action["context"], {"uid": self.supervisor.id})
        context.pop("search_default_this_month")
        groups = graph_read_group(
            self._report(**context), [("team_id", "=", self.team.id)], ["call_date:day"], ["call_count:sum"]
        )
        self.assertEqual(len(groups), len(self.dates))

    def test_handling_time_in_seconds(self):
        """412 seconds read 412 seconds, not 412 hours (float_time)."""
        field = self.env["crm.outbound.call.report"]._fields["handling_time"]
        self.assertIn("(s)", field.string)
        for view in ("crm_outbound_call_report_view_pivot", "crm_outbound_call_report_view_list"):
            arch = etree.fromstring(self.env.ref(f"crm_outbound.{view}").arch)
            self.assertFalse(arch.xpath("//field[@widget='float_time']"), view)


@tagged("post_install", "-at_install")
class TestOutboundTargets(OutboundCase):
    """The first days' target and today's list skip leads waiting for a day the client
    agreed to; the overdue list holds redials only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env, login="outbound_target_supervisor", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.playbook.write({"attempts_per_day": 2, "first_days": 2, "overdue_grace": 2})

    def _list(self, xmlid):
        action = self.env["ir.actions.act_window"]._for_xml_id(f"crm_outbound.{xmlid}")
        Lead = self.env["crm.lead"].with_user(self.supervisor)
        return Lead.search([*safe_eval(action["domain"]), ("team_id", "=", self.team.id)])

    def test_agreed_day_ahead(self):
        opened = dt("2026-03-03 06:00:00")  # first days: 3 and 4 March in Moscow
        waiting, short = self._new_leads(2, date_open=opened)
        with freeze_time("2026-03-03 07:00:00"):
            waiting.with_user(self.salesman).outbound_log_call(
                {"status_id": self.st_callback.id, "duration": 40, "agreed_at": "2026-03-09 07:00:00"}
            )
            short.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with freeze_time("2026-03-04 08:00:00"):
            self.env["crm.lead"]._cron_outbound_discipline()
            self.env.invalidate_all()
            self.assertEqual(self._list("crm_lead_action_outbound_not_called_today"), short)
            self.assertFalse(waiting.with_user(self.supervisor).outbound_below_daily_target)
            self.assertTrue(short.with_user(self.supervisor).outbound_below_daily_target)
        self.assertEqual(short.outbound_first_days_target, "missed", "3 March had one call of two")
        self.assertEqual(waiting.outbound_first_days_target, "met", "the client asked for 9 March")

    def test_agreement_replaced_by_a_later_call(self):
        """The wait ends with the next call, which may have agreed nothing."""
        lead = self._new_leads(date_open=dt("2026-03-03 06:00:00"))
        with freeze_time("2026-03-03 07:00:00"):
            lead.with_user(self.salesman).outbound_log_call(
                {"status_id": self.st_callback.id, "duration": 40, "agreed_at": "2026-03-09 07:00:00"}
            )
        with freeze_time("2026-03-04 07:00:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
            self.assertTrue(lead.with_user(self.supervisor).outbound_below_daily_target)
        with freeze_time("2026-03-05 08:00:00"):
            self.env["crm.lead"]._cron_outbound_discipline()
        self.assertEqual(lead.outbound_first_days_target, "missed", "4 March: one call of two, nothing agreed")

    @freeze_time("2026-03-10 12:00:00")
    def test_redials_overdue_are_redials(self):
        redial, sale = self._new_leads(2, date_open=dt("2026-03-01 06:00:00"))
        with freeze_time("2026-03-10 06:00:00"):
            redial.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with freeze_time("2026-03-08 06:00:00"):
            sale.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id, "duration": 60})
        self.assertTrue(self.pending(sale).date_deadline < date(2026, 3, 10), "the sale task is late too")
        self.assertEqual(self._list("crm_lead_action_outbound_redial_overdue"), redial)
        self.assertFalse(sale.outbound_redial_overdue)
        self.assertTrue(redial.outbound_redial_overdue)


@tagged("post_install", "-at_install")
class TestOutboundSeedKpis(OutboundCase):
    """Seed 001's KPIs and seed 000's base quality against figures computed by hand.

    Moscow operator (UTC+3, team A: 8 paid hours a day at 10 an hour), 2 March:
      09:00 no answer (0 s), 09:30 interested (120 s), 10:10 won (300 s, revenue 1,000),
      all on a lead from the "Cold base" source: 3 calls, 2 hours of work, 1 won client.
    UTC operator (team B: 6 paid hours at 20), 2 March, leads from "Web forms":
      10:00 interested (60 s), then a salesperson wins that lead at 11:00 (revenue 500):
      the client is the operator's; 10:20 and 12:05 no answer on a client in Tokyo (UTC+9).
      3 calls, 2 hours of work, 1 won client.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env, login="outbound_seed_supervisor", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.utc_operator = new_test_user(
            cls.env, login="outbound_seed_utc", groups="sales_team.group_sale_salesman", tz="UTC"
        )
        cls.st_won = cls._new_won_status()
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Outbound team B",
                "outbound_playbook_id": cls.playbook.id,
                "member_ids": [(4, cls.utc_operator.id)],
            }
        )
        Member = cls.env["crm.team.member"]
        Member.search([("user_id", "=", cls.salesman.id)]).write({"outbound_paid_hours": 8, "outbound_hourly_cost": 10})
        Member.search([("user_id", "=", cls.utc_operator.id)]).write(
            {"outbound_paid_hours": 6, "outbound_hourly_cost": 20}
        )
        cold = cls.env["utm.source"].create({"name": "Cold base"})
        web = cls.env["utm.source"].create({"name": "Web forms"})
        cls.cold, cls.web = cold, web
        tokyo = cls.env["res.partner"].create({"name": "Client in Tokyo", "tz": "Asia/Tokyo"})
        moscow = cls.salesman
        lead1 = cls._new_leads(source_id=cold.id, expected_revenue=1000)
        lead2 = cls._new_leads(
            source_id=web.id, expected_revenue=500, team_id=cls.team_b.id, user_id=cls.utc_operator.id
        )
        lead3 = cls._new_leads(
            source_id=web.id, partner_id=tokyo.id, team_id=cls.team_b.id, user_id=cls.utc_operator.id
        )
        cls._log(moscow, lead1, "2026-03-02 06:00:00", cls.st_no_answer, 0)
        cls._log(moscow, lead1, "2026-03-02 06:30:00", cls.st_interest, 120)
        cls._log(moscow, lead1, "2026-03-02 07:10:00", cls.st_won, 300)
        cls._log(cls.utc_operator, lead2, "2026-03-02 10:00:00", cls.st_interest, 60)
        cls._log(cls.utc_operator, lead3, "2026-03-02 10:20:00", cls.st_no_answer, 0)
        cls._log(cls.utc_operator, lead3, "2026-03-02 12:05:00", cls.st_no_answer, 0)
        with freeze_time("2026-03-02 11:00:00"):
            lead2.action_set_won()

    @classmethod
    def _log(cls, user, lead, at, status, duration):
        with freeze_time(at):
            lead.with_user(user).outbound_log_call({"status_id": status.id, "duration": duration})

    MEASURES = (
        "call_count:sum",
        "work_hours:sum",
        "won_count:sum",
        "won_revenue:sum",
        "utilisation:avg",
        "won_per_hour:avg",
        "paid_hours:sum",
        "work_paid_ratio:avg",
        "paid_cost:sum",
        "cost_per_won:avg",
    )

    def _figures(self, groupby, measures=MEASURES):
        Report = self.env["crm.outbound.call.report"].with_user(self.supervisor)
        groups = Report._read_group(
            [("team_id", "in", (self.team | self.team_b).ids)], [groupby] if groupby else [], list(measures)
        )
        width = 1 if groupby else 0
        return {
            (_day(group[0]) if groupby else None): tuple(
                round(value, 2) if isinstance(value, float) else value for value in group[width:]
            )
            for group in groups
        }

    def test_per_operator(self):
        self.assertEqual(
            self._figures("user_id"),
            {
                # calls, hours, won, revenue, utilisation %, clients/h, paid h, work/paid %, cost, cost/client
                self.salesman: (3, 2, 1, 1000.0, 5.83, 0.5, 8.0, 25.0, 80.0, 80.0),
                self.utc_operator: (3, 2, 1, 500.0, 0.83, 0.5, 6.0, 33.33, 120.0, 120.0),
            },
        )

    def test_per_team_and_total(self):
        self.assertEqual(
            self._figures("team_id"),
            {
                self.team: (3, 2, 1, 1000.0, 5.83, 0.5, 8.0, 25.0, 80.0, 80.0),
                self.team_b: (3, 2, 1, 500.0, 0.83, 0.5, 6.0, 33.33, 120.0, 120.0),
            },
        )
        self.assertEqual(self._figures(None), {None: (6, 4, 2, 1500.0, 3.33, 0.5, 14.0, 28.57, 200.0, 100.0)})

    def test_revenue_by_won_day(self):
        self.assertEqual(
            self._figures("won_date:day", ("won_count:sum", "won_revenue:sum")),
            {False: (0, 0.0), "2026-03-02": (2, 1500.0)},
        )

    def test_paid_once_a_day_in_two_teams(self):
        """A member of two teams is paid once a day, at the higher of his figures."""
        self.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        self.env["crm.team.member"].create(
            {
                "crm_team_id": self.team_b.id,
                "user_id": self.salesman.id,
                "outbound_paid_hours": 4,
                "outbound_hourly_cost": 12,
            }
        )
        self.assertEqual(self._figures("user_id", ("paid_hours:sum", "paid_cost:sum"))[self.salesman], (8.0, 96.0))

    def test_base_quality_by_source(self):
        self.assertEqual(
            self._figures("source_id", ("call_count:sum", "no_answer_rate:avg", "result_count:sum")),
            {self.cold: (3, 33.33, 2), self.web: (3, 66.67, 1)},
        )
        Report = self.env["crm.outbound.call.report"].with_user(self.supervisor)
        mix = Report._read_group([("source_id", "=", self.web.id)], ["outcome"], ["call_count:sum"])
        self.assertEqual(dict(mix), {"interest": 1, "no_answer": 2})

    def test_no_answer_by_clients_hour(self):
        """The client's time zone (the lead's: the contact's, else the phone's): the
        Moscow numbers' calls at 06:00, 06:30, 07:10 and 10:00 UTC, Tokyo's at 10:20
        and 12:05 UTC."""
        self.assertEqual(
            self._figures("client_hour", ("call_count:sum", "no_answer_rate:avg")),
            {"09": (2, 50.0), "10": (1, 0.0), "13": (1, 0.0), "19": (1, 100.0), "21": (1, 100.0)},
        )


@tagged("post_install", "-at_install")
class TestOutboundPlaybookForm(OutboundCase):
    """The playbook form an admin edits: statuses that read, codes editable in place,
    descriptions that do not repeat figures the playbook holds elsewhere."""

    def test_delay_only_where_it_applies(self):
        self.assertFalse(self.st_no_answer.delay_display, "the cadence holds the redials' delays")
        self.assertFalse(self.st_refused.delay_display, "no task, no delay")
        self.assertEqual(self.st_interest.delay_display, "+1 d")
        self.assertFalse(self.code_other.delay_display, "the status's delay applies")
        self.assertEqual(self.code_present.delay_display, "+1 mo")

    def test_comment_codes_editable_in_place(self):
        arch = etree.fromstring(self.env.ref("crm_outbound.crm_outbound_playbook_view_form").arch)
        (codes,) = arch.xpath("//field[@name='comment_code_ids']")
        self.assertFalse(codes.get("readonly"))
        self.assertEqual(codes.xpath("list")[0].get("editable"), "bottom")
        (statuses,) = arch.xpath("//field[@name='status_ids']/list")
        shown = [field for field in statuses.iter("field") if field.get("optional") != "hide"]
        self.assertLessEqual(len(shown), 9, "a status opens in its own form for the rest")
        with Form(self.playbook.with_user(self.manager)) as form:
            with form.comment_code_ids.new() as line:
                line.status_id = self.st_no_answer
                line.name = "Busy"
        self.assertEqual(self.st_no_answer.comment_code_ids.mapped("name"), ["Busy"])

    def test_descriptions_leave_delays_to_the_settings(self):
        pattern = re.compile(r"\d+ (minute|hour|day|week|month|call)s?\b")
        playbooks = self.env["crm.outbound.playbook"].search([("id", "!=", self.playbook.id)])
        texts = [playbooks.mapped("description"), playbooks.status_ids.mapped("description")]
        stale = [text for batch in texts for text in batch if text and pattern.search(text)]
        self.assertFalse(stale)


@tagged("post_install", "-at_install")
class TestOutboundReportStoredHours(OutboundCase):
    """The report reads the operator's local hour stored on each call (operator_hour),
    and finds a won lead's winning call when it reads: both must hold whatever path
    stored the call, and whatever happens to the lead afterwards.

    The Moscow salesman (UTC+3) calls at 06:10 UTC on 2 March: 09:00-10:00 local."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supervisor = new_test_user(
            cls.env, login="outbound_stored_supervisor", groups="sales_team.group_sale_salesman_all_leads"
        )
        cls.pbx = new_test_user(cls.env, login="outbound_stored_pbx", groups="crm_outbound.group_outbound_integration")
        cls.st_won = cls._new_won_status()

    def _report(self, domain, groupby, measures):
        Report = self.env["crm.outbound.call.report"].with_user(self.supervisor)
        return Report._read_group([("team_id", "=", self.team.id), *domain], groupby, measures)

    def _local(self, calls):
        """{call id: (local day, local hour)} as the report shows them."""
        rows = self.env["crm.outbound.call.report"].search_read([("id", "in", calls.ids)], ["call_date", "call_hour"])
        return {row["id"]: (str(row["call_date"]), row["call_hour"]) for row in rows}

    def test_every_path_stores_the_local_hour(self):
        leads = self._new_leads(5)
        # The dialog.
        with freeze_time("2026-03-02 06:10:00"):
            self.env["crm.lead.log.call"].with_user(self.salesman).create(
                {"lead_ids": [(6, 0, leads[0].ids)], "status_id": self.st_no_answer.id}
            ).action_log_call()
        # The public method, one lead and several at once.
        with freeze_time("2026-03-02 06:20:00"):
            leads[1].with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
            leads[2:4].with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        # Telephony: the operator's login, the time with its offset.
        self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [
                {
                    "external_id": "stored-1",
                    "started_at": "2026-03-02T09:30:00+03:00",
                    "duration": 10,
                    "answered": True,
                    "lead_id": leads[4].id,
                    "operator": self.salesman.login,
                }
            ]
        )
        # A CDR import by a supervisor, in his time zone.
        result = (
            self.env["crm.outbound.call"]
            .with_user(self.supervisor)
            .with_context(tz="Europe/Moscow")
            .load(
                ["external_id", "lead_id/.id", "call_at", "duration", "answered", "user_id"],
                [["stored-2", str(leads[4].id), "2026-03-02 09:40:00", "0", "0", self.salesman.login]],
            )
        )
        self.assertFalse(result["messages"], result["messages"])
        calls = leads.outbound_call_ids
        self.assertEqual(len(calls), 6)
        self.assertEqual(set(calls.mapped("user_id")), {self.salesman})
        self.assertEqual(set(self._local(calls).values()), {("2026-03-02", "09")})
        self.assertEqual(set(calls.mapped("operator_hour")), {(date(2026, 3, 2) - date(2000, 1, 1)).days * 24 + 9})
        self.assertEqual(self._report([("id", "in", calls.ids)], [], ["call_count:sum", "work_hours:sum"]), [(6, 1)])

    def test_an_operator_who_moves_keeps_his_hours(self):
        """The hours are those of the operator's time zone when he called: a time zone
        changed later (he moved, or fixed it) does not move the hours he worked."""
        lead = self._new_leads()
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.salesman.tz = "America/New_York"
        with freeze_time("2026-03-02 15:10:00"):  # 10:10 in New York
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.env.flush_all()
        self.assertEqual(
            sorted(self._local(lead.outbound_call_ids).values()), [("2026-03-02", "09"), ("2026-03-02", "10")]
        )
        self.assertEqual(
            self._report([("lead_id", "=", lead.id)], [], ["call_count:sum", "work_hours:sum"]),
            [(2, 2)],
            "two hours of work: 09:00 in Moscow and 10:00 in New York",
        )

    def _won(self, leads):
        return {
            group[0]: group[1:]
            for group in self._report(
                [("lead_id", "in", leads.ids)], ["lead_id"], ["won_count:sum", "won_revenue:sum", "result_count:sum"]
            )
        }

    def test_won_later_reopened_and_won_again(self):
        """The winning call follows the lead: won after the call, moved back to an open
        stage, won again: the report says so each time."""
        lead = self._new_leads(expected_revenue=700)
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        with freeze_time("2026-03-02 08:00:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        self.assertEqual(self._won(lead), {lead: (0, 0.0, 1)}, "open: nobody has won it")
        with freeze_time("2026-03-03 10:00:00"):
            lead.action_set_won()
        self.assertEqual(self._won(lead), {lead: (1, 700.0, 1)}, "won the next day: the result call gets it")
        self.env.flush_all()
        winner = self.env["crm.outbound.call.report"].search([("lead_id", "=", lead.id), ("won_count", "=", 1)])
        self.assertEqual(winner.status_id, self.st_interest)
        lead.stage_id = self.env["crm.stage"].search([("is_won", "=", False)], limit=1)
        self.assertEqual(self._won(lead), {lead: (0, 0.0, 1)}, "reopened: no client")
        with freeze_time("2026-03-04 10:00:00"):
            lead.action_set_won()
        self.assertEqual(self._won(lead), {lead: (1, 700.0, 1)})

    def test_an_hour_counts_on_its_first_call(self):
        """An hour of work is counted once, on its first call: an hour split between
        two teams counts for the team of its first call, so the teams' hours add up to
        the operator's; a call reported later with an earlier time takes the mark."""
        self.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        other = self.env["crm.team"].create(
            {
                "name": "Outbound other team",
                "outbound_playbook_id": self.playbook.id,
                "member_ids": [(4, self.salesman.id)],
            }
        )
        here, there = self._new_leads(), self._new_leads(team_id=other.id)
        with freeze_time("2026-03-02 06:30:00"):
            here.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with freeze_time("2026-03-02 06:40:00"):
            there.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        Report = self.env["crm.outbound.call.report"].with_user(self.supervisor)
        teams = (self.team | other).ids
        by_team = dict(Report._read_group([("team_id", "in", teams)], ["team_id"], ["work_hours:sum"]))
        self.assertEqual(by_team, {self.team: 1, other: 0})
        self.assertEqual(Report._read_group([("team_id", "in", teams)], [], ["work_hours:sum"]), [(1,)])
        self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [
                {
                    "external_id": "earlier",
                    "started_at": "2026-03-02T06:05:00Z",
                    "duration": 5,
                    "answered": True,
                    "lead_id": there.id,
                    "operator": self.salesman.login,
                }
            ]
        )
        by_team = dict(Report._read_group([("team_id", "in", teams)], ["team_id"], ["work_hours:sum"]))
        self.assertEqual(by_team, {self.team: 0, other: 1}, "the earlier call, reported later, starts the hour")
        calls = (here | there).outbound_call_ids
        self.assertEqual(len(calls.filtered("first_of_hour")), 1)
        self.assertEqual(len(calls.filtered("first_of_day")), 1)

    def _closing(self, leads):
        """{lead: (closed leads, calls per closed lead, won clients, revenue)}"""
        return {
            group[0]: group[1:]
            for group in self._report(
                [("lead_id", "in", leads.ids)],
                ["lead_id"],
                ["closed_lead_count:sum", "calls_per_closed_lead:avg", "won_count:sum", "won_revenue:sum"],
            )
        }

    def test_a_call_after_the_win_carries_the_closing(self):
        """An unanswered call on a won lead is its last call now: it closes the lead
        (with one call more); the win stays on the result call before it."""
        lead = self._new_leads(expected_revenue=400)
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        with freeze_time("2026-03-02 07:00:00"):
            lead.action_set_won()
        self.assertEqual(self._closing(lead), {lead: (1, 1.0, 1, 400.0)})
        self.env["crm.outbound.call"].with_user(self.pbx)._outbound_ingest(
            [
                {
                    "external_id": "after-win",
                    "started_at": "2026-03-02T08:00:00Z",
                    "duration": 0,
                    "answered": False,
                    "lead_id": lead.id,
                }
            ]
        )
        self.assertEqual(lead.outbound_attempt_count, 2)
        self.assertEqual(self._closing(lead), {lead: (1, 2.0, 1, 400.0)})
        closing = self.env["crm.outbound.call.report"].search(
            [("lead_id", "=", lead.id), ("closed_lead_count", "=", 1)]
        )
        self.assertEqual(closing.call_at, dt("2026-03-02 08:00:00"), "the call after the win")

    def test_revenue_changed_after_the_win(self):
        lead = self._new_leads(expected_revenue=400)
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        lead.action_set_won()
        lead.expected_revenue = 650
        self.assertEqual(self._closing(lead), {lead: (1, 1.0, 1, 650.0)})

    def test_lost_then_restored(self):
        lead = self._new_leads()
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_no_answer.id})
        with freeze_time("2026-03-02 07:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        with freeze_time("2026-03-02 08:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_refused.id, "note": "No"})
        self.assertFalse(lead.active)
        self.assertEqual(self._closing(lead), {lead: (1, 3.0, 0, 0.0)})
        lead.action_unarchive()
        self.assertEqual(self._closing(lead), {lead: (0, False, 0, 0.0)}, "open again: nothing closed")

    def test_tied_last_calls_close_once(self):
        lead = self._new_leads()
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        lead.action_set_won()
        self.assertEqual(self._closing(lead), {lead: (1, 2.0, 1, 0.0)})

    def test_marks_rebuilt_for_every_lead(self):
        """The upgrade's pass over every lead gives back marks lost or copied wrongly."""
        lead = self._new_leads(expected_revenue=90)
        with freeze_time("2026-03-02 06:10:00"):
            lead.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        lead.action_set_won()
        Call = self.env["crm.outbound.call"]
        Call.flush_model()
        self.env.cr.execute(
            "UPDATE crm_outbound_call SET closed_lead_calls = NULL, won_at = NULL, won_revenue = NULL "
            "WHERE lead_id = %s",
            [lead.id],
        )
        Call.invalidate_model()
        self.assertEqual(self._closing(lead), {lead: (0, False, 0, 0.0)})
        Call._outbound_mark_closings()
        self.assertEqual(self._closing(lead), {lead: (1, 1.0, 1, 90.0)})

    def test_won_after_a_merge(self):
        """Merging moves the calls: the surviving lead's win goes to the last result call
        of all of them, and the calls keep their hours."""
        first = self._new_leads(name="Merge A", expected_revenue=300)
        second = self._new_leads(name="Merge B", expected_revenue=300)
        with freeze_time("2026-03-02 06:10:00"):
            first.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        with freeze_time("2026-03-02 07:10:00"):
            second.with_user(self.salesman).outbound_log_call({"status_id": self.st_interest.id})
        calls = (first | second).outbound_call_ids
        merged = (first | second)._merge_opportunity()
        self.assertEqual(merged.outbound_call_ids, calls)
        with freeze_time("2026-03-02 08:00:00"):
            merged.action_set_won()
        self.env.flush_all()
        winners = self.env["crm.outbound.call.report"].search([("id", "in", calls.ids), ("won_count", "=", 1)])
        self.assertEqual(winners.call_at, dt("2026-03-02 07:10:00"), "the later result call")
        self.assertEqual(sorted(self._local(calls).values()), [("2026-03-02", "09"), ("2026-03-02", "10")])
