from odoo.tests import HttpCase, tagged

from .common import OutboundCase


@tagged("post_install", "-at_install")
class TestOutboundSupervisorUi(OutboundCase, HttpCase):
    """Every supervisor screen in real Chromium, on calls of today and calls dated at the
    edge of the allowed range (2100-12-31 23:59:59) and outside it (9999-12-31)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.team.member_ids = [(4, cls.admin.id)]
        leads = cls._new_leads(4, user_id=cls.admin.id)
        for lead, status in zip(
            leads, (cls.st_no_answer, cls.st_interest, cls.st_no_answer, cls.st_interest), strict=True
        ):
            lead.with_user(cls.admin).outbound_log_call({"status_id": status.id, "duration": 95})
        calls = leads.outbound_call_ids.sorted("id")
        calls[2].sudo().write({"call_at": "2100-12-31 23:59:59"})
        calls[3].sudo().write({"call_at": "9999-12-31 12:00:00"})
        cls.env.flush_all()

    def test_kpi_pivot_and_graphs(self):
        for xmlid, tour in (
            ("crm_outbound_call_report_action", "crm_outbound_kpi_pivot_tour"),
            ("crm_outbound_call_report_action_team", "crm_outbound_kpi_graph_tour"),
        ):
            with self.subTest(xmlid):
                self.start_tour(f"/odoo/action-crm_outbound.{xmlid}", tour, login="admin")

    def test_supervisor_screens(self):
        for xmlid in (
            "crm_outbound_call_report_action_today",
            "crm_outbound_call_report_action_client_hour",
            "crm_outbound_call_report_action_base",
            "crm_lead_action_outbound_lost_below_minimum_week",
            "crm_lead_action_outbound_not_called_today",
            "crm_lead_action_outbound_redial_overdue",
            "crm_lead_action_outbound_lost_below_minimum",
        ):
            with self.subTest(xmlid):
                self.start_tour(
                    f"/odoo/action-crm_outbound.{xmlid}", "crm_outbound_supervisor_screen_tour", login="admin"
                )
