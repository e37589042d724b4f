from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .common import OutboundCase, dt

VLADIVOSTOK = "+7 423 222 00 01"  # UTC+10
KALININGRAD = "+7 4012 22 00 01"  # UTC+2, no DST
MOSCOW = "+7 495 222 00 01"  # UTC+3
BERLIN = "+49 30 2222 0001"  # UTC+1, +2 in summer
RUSSIAN_MOBILE = "+7 916 222 00 01"  # every zone of Russia


@tagged("post_install", "-at_install")
class TestOutboundLocalTime(OutboundCase):
    """DESIGN.md rule 7: the client's time zone, the calling window and callable now."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.playbook.write({"call_window_start": 9.0, "call_window_end": 21.0})

    def lead(self, phone, **vals):
        return self._new_leads(phone=phone, **vals)

    def log(self, lead, status, **vals):
        return lead.with_user(self.salesman).outbound_log_call({"status_id": status.id, **vals})

    def test_time_zone_of_the_contact_then_the_number_then_the_team(self):
        partner = self.env["res.partner"].create({"name": "Client in Vladivostok", "tz": "Asia/Vladivostok"})
        self.assertEqual(self.lead(MOSCOW, partner_id=partner.id).outbound_tz, "Asia/Vladivostok")
        self.assertEqual(self.lead(VLADIVOSTOK).outbound_tz, "Asia/Vladivostok")
        self.assertEqual(self.lead(MOSCOW).outbound_tz, "Europe/Moscow")
        # phonenumbers says "Europe/Bucharest" (DST) for Kaliningrad: the Russian zone wins.
        self.assertEqual(self.lead(KALININGRAD).outbound_tz, "Europe/Kaliningrad")
        self.assertEqual(self.lead(BERLIN).outbound_tz, "Europe/Berlin")
        # No number, or one without a zone: the team's (here its salesperson's, Moscow).
        self.assertEqual(self.lead(False).outbound_tz, "Europe/Moscow")
        self.assertEqual(self.lead("+1 555 010 0001").outbound_tz, "Europe/Moscow")
        # A mobile number of many zones: the team's when it may be there, else the capital's.
        self.assertEqual(self.lead(RUSSIAN_MOBILE).outbound_tz, "Europe/Moscow")
        vladivostok_user = new_test_user(
            self.env, login="vl_salesman", groups="sales_team.group_sale_salesman", tz="Asia/Vladivostok"
        )
        self.assertEqual(self.lead(RUSSIAN_MOBILE, user_id=vladivostok_user.id).outbound_tz, "Asia/Vladivostok")
        berlin_user = new_test_user(
            self.env, login="de_salesman", groups="sales_team.group_sale_salesman", tz="Europe/Berlin"
        )
        self.assertEqual(self.lead(RUSSIAN_MOBILE, user_id=berlin_user.id).outbound_tz, "Europe/Moscow")
        # The number changes, the zone follows; the operator may set it by hand.
        lead = self.lead(MOSCOW)
        lead.phone = VLADIVOSTOK
        self.assertEqual(lead.outbound_tz, "Asia/Vladivostok")
        lead.outbound_tz = "Asia/Yakutsk"
        self.assertEqual(lead.outbound_tz, "Asia/Yakutsk")

    def test_local_time_is_shown(self):
        with freeze_time("2026-03-02 12:00:00"):  # a Monday
            self.assertEqual(self.lead(VLADIVOSTOK).outbound_local_time, "Mon 22:00")
            self.assertEqual(self.lead(KALININGRAD).outbound_local_time, "Mon 14:00")

    def test_redial_at_night_moves_to_the_next_morning_in_the_clients_time(self):
        cases = [
            # phone, call time (UTC), due after +1 h, due after +3 h (next morning 9:00 local)
            (VLADIVOSTOK, "2026-03-02 09:30:00", "2026-03-02 10:30:00", "2026-03-02 23:00:00"),
            (MOSCOW, "2026-03-02 16:30:00", "2026-03-02 17:30:00", "2026-03-03 06:00:00"),
            (KALININGRAD, "2026-03-02 17:30:00", "2026-03-02 18:30:00", "2026-03-03 07:00:00"),
        ]
        for phone, call_at, first_due, second_due in cases:
            with self.subTest(phone=phone):
                lead = self.lead(phone)
                with freeze_time(call_at):
                    self.log(lead, self.st_no_answer)
                self.assertEqual(lead.outbound_next_call_at, dt(first_due), "20:30 local: inside the window")
                with freeze_time(first_due):
                    self.log(lead, self.st_no_answer)
                self.assertEqual(lead.outbound_next_call_at, dt(second_due), "23:30 local: the next 9:00")
                self.assertOneTask(lead)

    def test_window_follows_daylight_saving_time(self):
        lead = self.lead(BERLIN)
        # Saturday 28 March 2026, 20:30 CET; the clocks go forward that night.
        with freeze_time("2026-03-28 19:30:00"):
            self.log(lead, self.st_no_answer, call_at="2026-03-28 17:30:00")
            self.assertEqual(lead.outbound_next_call_at, dt("2026-03-28 18:30:00"), "19:30 CET")
            self.log(lead, self.st_no_answer)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-29 07:00:00"), "Sunday 9:00 CEST, not 08:00 UTC")
        # In winter the same 9:00 is 08:00 UTC.
        winter = self.lead(BERLIN)
        with freeze_time("2026-01-10 19:30:00"):
            self.log(winter, self.st_interest, duration=60)  # +1 day: Sunday 20:30 CET
            self.assertEqual(winter.outbound_next_call_at, dt("2026-01-11 19:30:00"))
            self.playbook.call_window_end = 18.0
            self.log(winter, self.st_interest, duration=60)
        self.assertEqual(winter.outbound_next_call_at, dt("2026-01-12 08:00:00"), "Monday 9:00 CET")

    def test_weekdays_only(self):
        self.playbook.write({"call_window_end": 18.0, "call_sat": False, "call_sun": False})
        lead = self.lead(MOSCOW)
        with freeze_time("2026-03-06 14:30:00"):  # Friday 17:30 Moscow
            self.log(lead, self.st_no_answer)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-09 06:00:00"), "Monday 9:00 Moscow")

    def test_window_and_team_calling_hours_together(self):
        calendar = self.env["resource.calendar"].create(
            {
                "name": "Moscow office",
                "tz": "Europe/Moscow",
                "attendance_ids": [
                    Command.create({"name": f"Day {day}", "dayofweek": str(day), "hour_from": 9, "hour_to": 18})
                    for day in range(7)
                ],
            }
        )
        self.team.outbound_calendar_id = calendar
        lead = self.lead(VLADIVOSTOK)
        # 15:00 Moscow, 22:00 in Vladivostok: the client sleeps until 9:00 (02:00 Moscow),
        # the team starts at 9:00 Moscow (16:00 in Vladivostok).
        with freeze_time("2026-03-02 11:00:00"):
            self.log(lead, self.st_no_answer)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-03 06:00:00"))
        # A holiday of the team's calendar is skipped too.
        calendar.write(
            {
                "leave_ids": [
                    Command.create(
                        {
                            "name": "Holiday",
                            "date_from": dt("2026-03-03 21:00:00"),
                            "date_to": dt("2026-03-04 20:59:59"),
                        }
                    )
                ]
            }
        )
        with freeze_time("2026-03-03 11:00:00"):
            self.log(lead, self.st_no_answer)
        self.assertEqual(lead.outbound_next_call_at, dt("2026-03-05 06:00:00"), "after the holiday on the 4th")
        # On the holiday the team's leads are not callable now, even when due.
        with freeze_time("2026-03-03 11:00:00"):
            due = self.lead(MOSCOW)
        Lead = self.env["crm.lead"].with_user(self.salesman)
        for moment, expected in (("2026-03-04 09:00:00", Lead), ("2026-03-05 09:00:00", due)):
            with freeze_time(moment):
                self.assertEqual(Lead.search([("id", "=", due.id), ("outbound_callable_now", "=", True)]), expected)

    def test_agreed_time_outside_the_window_is_kept_with_a_warning(self):
        lead = self.lead(VLADIVOSTOK)
        with freeze_time("2026-03-02 01:00:00"):
            self.log(lead, self.st_callback, agreed_at="2026-03-02 12:30:00")  # 22:30 in Vladivostok
            self.assertEqual(lead.outbound_next_call_at, dt("2026-03-02 12:30:00"))
            self.assertTrue(lead.outbound_outside_window)
            self.log(lead, self.st_callback, agreed_at="2026-03-02 02:00:00")
            self.assertFalse(lead.outbound_outside_window)

    def test_callable_now(self):
        Lead = self.env["crm.lead"].with_user(self.salesman)
        with freeze_time("2026-03-02 06:00:00"):
            far_east, moscow = self.lead(VLADIVOSTOK), self.lead(MOSCOW)
            later = self.lead(MOSCOW)
            self.log(later, self.st_interest, duration=60)  # due tomorrow
        leads = far_east | moscow | later
        # 12:00 UTC: 22:00 in Vladivostok, 15:00 in Moscow.
        with freeze_time("2026-03-02 12:00:00"):
            leads.invalidate_recordset()
            self.assertEqual(Lead.search([("id", "in", leads.ids), ("outbound_callable_now", "=", True)]), moscow)
            self.assertEqual(
                Lead.search([("id", "in", leads.ids), ("outbound_callable_now", "=", False)]), far_east | later
            )
            self.assertEqual(leads.mapped("outbound_callable_now"), [False, True, False])
            self.assertEqual(far_east.outbound_callable_at, dt("2026-03-02 23:00:00"), "tomorrow 9:00 local")
            self.assertFalse(moscow.outbound_callable_at)
        # 23:30 UTC: 9:30 in Vladivostok, 2:30 in Moscow.
        with freeze_time("2026-03-02 23:30:00"):
            leads.invalidate_recordset()
            self.assertEqual(Lead.search([("id", "in", leads.ids), ("outbound_callable_now", "=", True)]), far_east)
            self.assertEqual(moscow.outbound_callable_at, dt("2026-03-03 06:00:00"))

    def test_redial_notifications_wait_for_the_clients_window(self):
        with freeze_time("2026-03-02 06:00:00"):
            lead = self.lead(VLADIVOSTOK, name="Far east lead")
        Lead = self.env["crm.lead"]
        with freeze_time("2026-03-02 12:00:00"):  # 22:00 in Vladivostok
            Lead._cron_outbound_redial_queue()
            self.assertFalse(lead.outbound_due_notified_at, "not callable now: not announced")
        with freeze_time("2026-03-02 23:05:00"):  # 9:05
            Lead._cron_outbound_redial_queue()
            self.assertEqual(lead.outbound_due_notified_at, lead.outbound_next_call_at)

    def test_window_must_be_a_span_of_a_day(self):
        Playbook = self.env["crm.outbound.playbook"]
        with self.assertRaisesRegex(ValidationError, "21.0-9.0"):
            Playbook.create({"name": "Night", "call_window_start": 21.0, "call_window_end": 9.0})
        days = dict.fromkeys(
            ("call_mon", "call_tue", "call_wed", "call_thu", "call_fri", "call_sat", "call_sun"), False
        )
        with self.assertRaisesRegex(ValidationError, "at least one calling day"):
            Playbook.create({"name": "Never", **days})

    def test_seed_windows(self):
        b2b = self.env.ref("crm_outbound.playbook_b2b_cold")
        self.assertEqual(
            (b2b.call_window_start, b2b.call_window_end, b2b.call_sat, b2b.call_sun), (9, 18, False, False)
        )
        for xmlid in ("crm_outbound.playbook_trial_lesson", "crm_outbound.playbook_basic"):
            playbook = self.env.ref(xmlid)
            self.assertEqual((playbook.call_window_start, playbook.call_window_end, playbook.call_sun), (9, 21, True))
