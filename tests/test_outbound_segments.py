from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, users, warmup
from odoo.tools.safe_eval import safe_eval

from ..models.compat import ODOO_19
from .common import OutboundCase


class TestOutboundSegments(OutboundCase):
    """Seed 003: the base split by its history, each part served by one role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.st_hook = cls.env["crm.outbound.status"].create(
            {
                "playbook_id": cls.playbook.id,
                "sequence": 5,
                "code": "hook",
                "name": "Standard offer sent",
                "contact_level": "decision_maker",
                "outcome": "hook",
                "activity_type_id": cls.type_sell.id,
                "task_timing": "delay",
                "delay": 2,
                "delay_unit": "days",
            }
        )
        cls.won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        cls.company = cls.env.company

    def _customer(self, name, bought_at=None):
        """A company partner and one of its contacts; with ``bought_at``, a won deal then."""
        partner = self.env["res.partner"].create({"name": name, "is_company": True})
        contact = self.env["res.partner"].create({"name": f"{name} buyer", "parent_id": partner.id})
        if bought_at:
            with freeze_time(bought_at):
                deal = self.env["crm.lead"].create(
                    {"name": f"{name} deal", "type": "opportunity", "partner_id": partner.id}
                )
                deal.action_set_won()
        return contact

    def _call(self, lead, *statuses, at="2026-03-02 09:00:00"):
        for status in statuses:
            with freeze_time(at):
                lead.outbound_log_call({"status_id": status.id, "note": "called"})

    def test_segments_of_each_history(self):
        with freeze_time("2026-03-01 09:00:00"):
            leads = self._new_leads(7)
            recent = self._customer("Recent", bought_at="2026-01-10 10:00:00")
            old = self._customer("Old", bought_at="2025-06-10 10:00:00")
            leads[5].partner_id = recent
            leads[6].partner_id = old
        self._call(leads[1], self.st_no_answer)
        self._call(leads[2], self.st_refused)
        self._call(leads[3], self.st_hook, self.st_refused)
        self._call(leads[4], self.st_hook, self.st_interest, self.st_refused)
        # Purchases come first, whatever the calls.
        self._call(leads[5], self.st_refused)
        self._call(leads[6], self.st_hook)
        leads.invalidate_recordset()
        self.assertEqual(
            leads.with_context(active_test=False).mapped("outbound_segment"),
            [
                "never_called",
                "never_called",
                "refused_early",
                "offer_refused",
                "special_offer_refused",
                "active_customer",
                "lapsed_customer",
            ],
        )
        Lead = self.env["crm.lead"].with_context(active_test=False)
        self.assertEqual(Lead.search([("id", "in", leads.ids), ("outbound_segment", "=", "offer_refused")]), leads[3])
        groups = dict(Lead._read_group([("id", "in", leads.ids)], ["outbound_segment"], ["__count"]))
        self.assertEqual(groups["never_called"], 2)

    def test_segment_follows_a_new_purchase(self):
        with freeze_time("2026-03-01 09:00:00"):
            contact = self._customer("Buyer")
            lead = self._new_leads(1, partner_id=contact.id)
            self.assertEqual(lead.outbound_segment, "never_called")
            deal = self.env["crm.lead"].create(
                {"name": "Deal", "type": "opportunity", "partner_id": contact.commercial_partner_id.id}
            )
            deal.action_set_won()
        self.assertEqual(lead.outbound_segment, "active_customer")

    def test_customers_lapse_over_time(self):
        contact = self._customer("Buyer", bought_at="2026-01-15 10:00:00")
        with freeze_time("2026-02-01 09:00:00"):
            lead = self._new_leads(1, partner_id=contact.id)
        self.assertEqual(lead.outbound_segment, "active_customer")
        with freeze_time("2026-07-10 03:00:00"):
            self.env["crm.lead"]._cron_outbound_segments()
        lead.invalidate_recordset()
        self.assertEqual(lead.outbound_segment, "active_customer")
        with freeze_time("2026-07-16 03:00:00"):
            self.env["crm.lead"]._cron_outbound_segments()
        lead.invalidate_recordset()
        self.assertEqual(lead.outbound_segment, "lapsed_customer")
        # N is a company setting.
        self.company.outbound_lapse_months = 12
        with freeze_time("2026-07-16 03:00:00"):
            lead._outbound_update_segments()
        self.assertEqual(lead.outbound_segment, "active_customer")

    def test_role_mapping_defaults_and_edit(self):
        Route = self.env["crm.outbound.segment.route"]
        mapping = Route._outbound_role_by_segment(self.company)
        self.assertEqual(
            {segment: mapping[self.company.id, segment] for _company, segment in mapping},
            {
                "never_called": "cold",
                "refused_early": "cold",
                "offer_refused": "cold",
                "special_offer_refused": "win_back",
                "lapsed_customer": "win_back",
                "active_customer": "account_service",
            },
        )
        Route.search([("company_id", "=", self.company.id), ("segment", "=", "offer_refused")]).role = "win_back"
        self.assertEqual(Route._outbound_role_by_segment(self.company)[self.company.id, "offer_refused"], "win_back")


class TestOutboundRouting(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.outbound_role = "cold"
        cls.closers = [
            new_test_user(cls.env, login=f"closer{index}", groups="sales_team.group_sale_salesman")
            for index in range(2)
        ]
        cls.win_back = cls.env["crm.team"].create(
            {
                "name": "Win-back",
                "outbound_role": "win_back",
                "outbound_playbook_id": cls.playbook.id,
                "member_ids": [(4, user.id) for user in cls.closers],
            }
        )
        cls.service = cls.env["crm.team"].create(
            {"name": "Account service", "outbound_role": "account_service", "member_ids": [(4, cls.manager.id)]}
        )
        partner = cls.env["res.partner"].create({"name": "Lapsed", "is_company": True})
        with freeze_time("2025-01-10 10:00:00"):
            deal = cls.env["crm.lead"].create(
                {"name": "Old deal", "type": "opportunity", "partner_id": partner.id, "team_id": cls.plain_team.id}
            )
            deal.action_set_won()
        cls.lapsed_partner = partner

    def test_route_with_load_balancing(self):
        # closer0 already carries three open leads (two here, one settled below), closer1 none.
        self.env["crm.lead"].create(
            [
                {"name": f"Busy {index}", "team_id": self.win_back.id, "user_id": self.closers[0].id}
                for index in range(2)
            ]
        )
        leads = self._new_leads(4, partner_id=self.lapsed_partner.id)
        cold = self._new_leads(1)
        settled = self._new_leads(1, partner_id=self.lapsed_partner.id, team_id=self.win_back.id)
        settled.user_id = self.closers[0]
        outsider = self._new_leads(1, partner_id=self.lapsed_partner.id, team_id=self.plain_team.id)
        self.assertEqual(set(leads.mapped("outbound_segment")), {"lapsed_customer"})
        tasks_before = {lead: self.assertOneTask(lead) for lead in leads}
        notices = self.env["mail.message"].search_count([("message_type", "=", "user_notification")])
        moved = (leads | cold | settled | outsider)._outbound_route_by_segment()
        self.assertEqual(
            self.env["mail.message"].search_count([("message_type", "=", "user_notification")]),
            notices,
            "a bulk assignment, as Odoo's lead assignment: no mail per lead or task",
        )
        self.assertEqual(moved, leads)
        self.assertEqual(set(leads.mapped("team_id")), {self.win_back})
        per_user = {user: len(leads.filtered(lambda lead, user=user: lead.user_id == user)) for user in self.closers}
        # Round-robin on the load: closer1 takes two to catch up, then one each.
        self.assertEqual(per_user, {self.closers[0]: 1, self.closers[1]: 3})
        for lead in leads:
            task = self.assertOneTask(lead)
            self.assertEqual(task, tasks_before[lead], "the pending task follows the lead")
            self.assertEqual(task.user_id, lead.user_id)
            note = lead.message_ids[:1]
            self.assertIn("Routed by segment", str(note.body))
            self.assertIn("Win-back", str(note.body))
        # Already with the right role: untouched, no note.
        self.assertEqual(cold.team_id, self.team)
        # A sales team outside outbound calling (no role, no playbook) keeps its leads.
        self.assertEqual(outsider.team_id, self.plain_team)
        self.assertEqual((settled.team_id, settled.user_id), (self.win_back, self.closers[0]))
        self.assertFalse(any("Routed by segment" in str(body) for body in (cold | settled).message_ids.mapped("body")))

    @users("__system__")
    @warmup
    def test_query_count_of_routing(self):
        # As the routing cron does it, batch by batch: 50 leads cost what 5 cost (Odoo's
        # tracking of the new team and salesperson is written for the batch at once).
        for size, queries in ((5, 64 if ODOO_19 else 61), (50, 64 if ODOO_19 else 61)):
            leads = self._new_leads(size, partner_id=self.lapsed_partner.id).with_env(self.env)
            self.env.flush_all()
            self.env.invalidate_all()
            with self.assertQueryCount(__system__=queries):
                moved = leads._outbound_route_by_segment()
            self.assertEqual(moved, leads)

    def test_route_follows_the_edited_mapping_and_the_cron(self):
        lead = self._new_leads(1, partner_id=self.lapsed_partner.id)
        self.env["crm.outbound.segment.route"].search(
            [("company_id", "=", self.env.company.id), ("segment", "=", "lapsed_customer")]
        ).role = "account_service"
        self.env["crm.lead"]._cron_outbound_route_segments()
        self.assertEqual((lead.team_id, lead.user_id), (self.service, self.manager))
        self.assertIn("Routed by segment", str(lead.message_ids[:1].body))

    def test_action_route_by_segment(self):
        lead = self._new_leads(1, partner_id=self.lapsed_partner.id)
        action = lead.action_outbound_route_by_segment()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(lead.team_id, self.win_back)

    def test_route_by_segment_is_for_supervisors(self):
        lead = self._new_leads(1, partner_id=self.lapsed_partner.id)
        leader = new_test_user(self.env, login="route_leader", groups="sales_team.group_sale_salesman_all_leads")
        route_action = self.env.ref("crm_outbound.crm_lead_route_action")
        Actions = self.env["ir.actions.actions"]

        def bound(user):
            return [action["id"] for action in Actions.with_user(user).get_bindings("crm.lead").get("action", [])]

        # A salesperson neither sees the action nor may run it.
        self.assertNotIn(route_action.id, bound(self.salesman))
        with self.assertRaisesRegex(AccessError, r"Route by Segment .* needs the right .*User: All Documents"):
            lead.with_user(self.salesman).action_outbound_route_by_segment()
        self.assertEqual(lead.team_id, self.team)
        # A team leader does, through the dialog the Action menu opens.
        self.assertIn(route_action.id, bound(leader))
        self.assertIn(route_action.id, bound(self.manager))
        context = safe_eval(route_action.context, {"active_ids": lead.ids})
        wizard = Form(self.env["crm.lead.route"].with_user(leader).with_context(**context)).save()
        self.assertEqual(wizard.lead_count, 1)
        action = wizard.action_route_apply()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(lead.team_id, self.win_back)


class TestOutboundCallLists(OutboundCase):
    """Seed 003: each role's team calls its own segments, by default."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "sales_team.group_sale_salesman"
        cls.cold_user = new_test_user(cls.env, login="cold_caller", groups=groups)
        cls.win_back_leader = new_test_user(cls.env, login="win_back_leader", groups=groups)
        cls.service_user = new_test_user(cls.env, login="service_user", groups=groups)
        Team = cls.env["crm.team"]
        Team.create({"name": "Cold", "outbound_role": "cold", "member_ids": [(4, cls.cold_user.id)]})
        # A leader, not a member: leading a team gives its role too.
        Team.create({"name": "Win-back", "outbound_role": "win_back", "user_id": cls.win_back_leader.id})
        Team.create({"name": "Service", "outbound_role": "account_service", "member_ids": [(4, cls.service_user.id)]})
        # Unassigned leads, which every salesperson may read.
        cls.leads = cls._new_leads(6, user_id=False)
        cls.by_segment = {}
        for lead, segment in zip(
            cls.leads,
            [
                "never_called",
                "refused_early",
                "offer_refused",
                "special_offer_refused",
                "lapsed_customer",
                "active_customer",
            ],
            strict=True,
        ):
            lead._outbound_write_facts({"outbound_segment": segment})
            cls.by_segment[segment] = lead

    def _segments_seen(self, user, mine=True):
        leads = (
            self.env["crm.lead"]
            .with_user(user)
            .search([("id", "in", self.leads.ids), ("outbound_segment_mine", "=", mine)])
        )
        return set(leads.mapped("outbound_segment"))

    def test_each_role_sees_its_segments(self):
        expected = {
            self.cold_user: {"never_called", "refused_early", "offer_refused"},
            self.win_back_leader: {"special_offer_refused", "lapsed_customer"},
            self.service_user: {"active_customer"},
        }
        for user, segments in expected.items():
            with self.subTest(user=user.login):
                self.assertEqual(self._segments_seen(user), segments)
                self.assertEqual(self._segments_seen(user, mine=False), set(self.by_segment) - segments)
                flags = {lead.outbound_segment: lead.outbound_segment_mine for lead in self.leads.with_user(user)}
                self.assertEqual({segment for segment, flag in flags.items() if flag}, segments)

    def test_the_mapping_decides(self):
        self.env["crm.outbound.segment.route"].search(
            [("company_id", "=", self.env.company.id), ("segment", "=", "offer_refused")]
        ).role = "win_back"
        self.assertEqual(
            self._segments_seen(self.win_back_leader), {"offer_refused", "special_offer_refused", "lapsed_customer"}
        )
        self.assertEqual(self._segments_seen(self.cold_user), {"never_called", "refused_early"})

    def test_a_user_without_a_role_sees_every_segment(self):
        # The salesperson's team has a playbook but no role.
        self.assertEqual(self._segments_seen(self.salesman), set(self.by_segment))
        self.assertEqual(self._segments_seen(self.salesman, mine=False), set())
        self.assertTrue(all(self.leads.with_user(self.salesman).mapped("outbound_segment_mine")))

    def test_call_lists_turn_the_filter_on(self):
        for xmlid in ("crm_outbound.crm_lead_action_outbound", "crm_outbound.crm_lead_action_call_now"):
            with self.subTest(xmlid):
                action = self.env.ref(xmlid)
                context = safe_eval(action.context, {"active_ids": [], "uid": self.env.uid})
                self.assertEqual(context.get("search_default_outbound_segment_mine"), 1)
                arch = self.env["crm.lead"].get_view(action.search_view_id.id, "search")["arch"]
                (flt,) = etree.fromstring(arch).xpath("//filter[@name='outbound_segment_mine']")
                self.assertEqual(flt.get("domain"), "[('outbound_segment_mine', '=', True)]")
