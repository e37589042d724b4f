from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.crm_outbound_call import HOUR_SHIFT
from ..models.crm_outbound_status import CONTACT_LEVELS, OUTCOMES

HOURS = [(f"{hour:02d}", f"{hour:02d}:00") for hour in range(24)]
# Calls outside the dates the telephony contract accepts (2000-2100) are kept, but the
# report shows them without a date: one call dated 9999-12-31 would otherwise overflow
# Python's dates in every graph by day.
FIRST_DAY, END_DAY = "2000-01-01", "2101-01-01"


class CrmOutboundCallReport(models.Model):
    """Operator KPIs (seeds 000, 001, 002): one row per call, with measures that add up
    in pivots and graphs by operator, team, day and hour.

    Day and hour are the operator's local ones. A lead closed (lost or won) counts once,
    on its last call: "Calls per Closed Lead" averages the closed leads' call counts. A
    won lead counts as a won client, with its expected revenue, on its last result call
    before the win: the operator who produced the result gets the client.

    An hour of work is one local hour of one operator with at least one call (seed 001:
    results and calls "per hour"); it counts on its first call, and the paid time of a
    day on the day's first call (crm.outbound.call's first_of_hour and first_of_day),
    so that hours and paid time are sums like every other measure: the hours of the
    teams add up to the total, and an hour split between two teams counts for the team
    of its first call. The per-hour measures and the rates divide the group's sums
    (_read_group_select)."""

    _name = "crm.outbound.call.report"
    _description = "Outbound Call Analysis"
    _auto = False
    _rec_name = "call_at"
    _order = "call_at desc"

    call_at = fields.Datetime("Call Time", readonly=True)
    call_date = fields.Date("Day", readonly=True, help="In the operator's time zone.")
    call_hour = fields.Selection(HOURS, "Hour", readonly=True, help="In the operator's time zone.")
    client_hour = fields.Selection(
        HOURS, "Client's Local Hour", readonly=True, help="In the client's time zone (the lead's), else the operator's."
    )
    user_id = fields.Many2one("res.users", "Operator", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    playbook_id = fields.Many2one("crm.outbound.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    status_id = fields.Many2one("crm.outbound.status", readonly=True)
    contact_level = fields.Selection(CONTACT_LEVELS, readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    is_touch = fields.Boolean("Successful Touch", readonly=True)
    # The calling base the lead came from (seed 000: the base decides most no-answers).
    source_id = fields.Many2one("utm.source", readonly=True)
    medium_id = fields.Many2one("utm.medium", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    won_date = fields.Date("Won On", readonly=True, help="The day the lead was won, on its winning call.")
    # Measures
    call_count = fields.Integer("Calls", readonly=True)
    answered_count = fields.Integer("Answered Calls", readonly=True)
    touch_count = fields.Integer("Successful Touches", readonly=True)
    result_count = fields.Integer("Results", readonly=True)
    duration = fields.Integer("Talk Time (s)", readonly=True)
    handling_time = fields.Float(
        "Average Handling Time (s)",
        readonly=True,
        aggregator="avg",
        digits=(16, 0),
        help="The average duration of answered calls, in seconds.",
    )
    closed_lead_count = fields.Integer("Closed Leads", readonly=True)
    calls_per_closed_lead = fields.Float(
        "Calls per Closed Lead",
        readonly=True,
        aggregator="avg",
        help="How many calls the leads closed (lost or won) by these calls took, on average.",
    )
    won_count = fields.Integer(
        "Won Clients", readonly=True, help="Leads won, each on the last result call before its win."
    )
    won_revenue = fields.Monetary(
        "Revenue Won",
        readonly=True,
        currency_field="currency_id",
        help="The expected revenue of the leads won, credited to the operator of the last result call before the win.",
    )
    work_hours = fields.Integer(
        "Hours of Work",
        readonly=True,
        help="The local hours (in the operator's time zone) in which the operator made at least one call.",
    )
    # Ratios of the group's sums (_read_group_select); empty on a single call.
    results_per_hour = fields.Float(
        "Results per Hour", readonly=True, aggregator="avg", help="Results divided by hours of work."
    )
    calls_per_hour = fields.Float(
        "Calls per Hour of Work", readonly=True, aggregator="avg", help="Calls divided by hours of work."
    )
    won_per_hour = fields.Float(
        "Clients per Hour", readonly=True, aggregator="avg", help="Won clients divided by hours of work."
    )
    utilisation = fields.Float(
        "Utilisation (%)", readonly=True, aggregator="avg", help="Talk time as a share of the hours of work."
    )
    no_answer_rate = fields.Float(
        "No Answer Rate (%)", readonly=True, aggregator="avg", help="The share of calls nobody picked up."
    )
    paid_hours = fields.Float(
        readonly=True,
        aggregator="sum",
        help="The paid hours per day of the sales team member, once for each day the operator made calls.",
    )
    work_paid_ratio = fields.Float(
        "Work over Paid Time (%)", readonly=True, aggregator="avg", help="Hours of work as a share of paid hours."
    )
    paid_cost = fields.Float(
        readonly=True,
        aggregator="sum",
        help="Paid hours times the member's hourly cost, in the company's currency.",
    )
    cost_per_won = fields.Float(
        "Cost per Won Client", readonly=True, aggregator="avg", help="Paid cost divided by won clients."
    )

    def _query(self):
        in_range = SQL("(call.call_at >= %s AND call.call_at < %s)", FIRST_DAY, END_DAY)
        # The operator's local hour, stored on the call (operator_hour): hours from
        # 2000-01-01 00:00 local, so that the day, the hour and the hours of work are
        # integer arithmetic on one column, with no time zone resolved per call.
        hour = SQL("(CASE WHEN %s THEN call.operator_hour END)", in_range)
        day_number = SQL("((%s + %s) / 24 - %s)", hour, HOUR_SHIFT, HOUR_SHIFT // 24)
        # The client's time zone (the lead's), else the operator's current one.
        client_at = SQL("(call.call_at AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(client_tz.name, tz.name, 'UTC'))")
        # The call that closed its lead (its last call) and the one that won it (the
        # last result call before the win) are marked on the calls themselves
        # (crm.outbound.call._outbound_mark_closings): no KPI reads the leads.
        closed = SQL("(call.closed_lead_calls IS NOT NULL)")
        won = SQL("(call.won_at IS NOT NULL)")
        return SQL(
            """
            SELECT call.id,
                   CASE WHEN %(in_range)s THEN call.call_at END AS call_at,
                   DATE '2000-01-01' + %(day_number)s AS call_date,
                   lpad(mod(%(hour)s + %(hour_shift)s, 24)::text, 2, '0') AS call_hour,
                   CASE WHEN %(in_range)s THEN to_char(%(client_at)s, 'HH24') END AS client_hour,
                   call.user_id,
                   call.team_id,
                   call.playbook_id,
                   call.company_id,
                   company.currency_id,
                   call.lead_id,
                   call.status_id,
                   status.contact_level,
                   status.outcome,
                   call.is_touch,
                   lead.source_id,
                   lead.medium_id,
                   lead.campaign_id,
                   CASE WHEN %(won)s AND %(in_range)s
                        THEN (call.won_at AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(tz.name, 'UTC'))::date
                   END AS won_date,
                   1 AS call_count,
                   COALESCE(call.answered, FALSE)::int AS answered_count,
                   COALESCE(call.is_touch, FALSE)::int AS touch_count,
                   COALESCE(status.is_result, FALSE)::int AS result_count,
                   COALESCE(call.duration, 0) AS duration,
                   CASE WHEN call.answered THEN COALESCE(call.duration, 0) END AS handling_time,
                   %(closed)s::int AS closed_lead_count,
                   call.closed_lead_calls AS calls_per_closed_lead,
                   %(won)s::int AS won_count,
                   COALESCE(call.won_revenue, 0) AS won_revenue,
                   (call.first_of_hour IS TRUE AND call.user_id IS NOT NULL AND %(in_range)s)::int AS work_hours,
                   -- each day paid once, at the highest of the operator's memberships
                   CASE WHEN call.first_of_day AND %(in_range)s
                        THEN round(COALESCE(pay.paid_hours, 0)::numeric, 2)::float ELSE 0 END AS paid_hours,
                   CASE WHEN call.first_of_day AND %(in_range)s
                        THEN round((COALESCE(pay.paid_hours, 0) * COALESCE(pay.hourly_cost, 0))::numeric, 2)::float
                        ELSE 0 END AS paid_cost,
                   NULL::float AS results_per_hour,
                   NULL::float AS calls_per_hour,
                   NULL::float AS won_per_hour,
                   NULL::float AS utilisation,
                   NULL::float AS no_answer_rate,
                   NULL::float AS work_paid_ratio,
                   NULL::float AS cost_per_won
              FROM crm_outbound_call AS call
         LEFT JOIN res_company AS company ON company.id = call.company_id
              -- every join is on a unique key: PostgreSQL drops those a query does not read
         LEFT JOIN res_users AS operator ON operator.id = call.user_id
         LEFT JOIN res_partner AS partner ON partner.id = operator.partner_id
         LEFT JOIN %(zones)s AS tz ON tz.name = partner.tz
         LEFT JOIN crm_outbound_status AS status ON status.id = call.status_id
         LEFT JOIN crm_lead AS lead ON lead.id = call.lead_id
         LEFT JOIN %(zones)s AS client_tz ON client_tz.name = lead.outbound_tz
         LEFT JOIN (SELECT user_id, max(outbound_paid_hours) AS paid_hours, max(outbound_hourly_cost) AS hourly_cost
                      FROM crm_team_member
                     WHERE active
                  GROUP BY user_id) AS pay ON pay.user_id = call.user_id
            """,
            in_range=in_range,
            hour=hour,
            day_number=day_number,
            client_at=client_at,
            closed=closed,
            won=won,
            zones=SQL("(SELECT DISTINCT name FROM pg_timezone_names)"),
            hour_shift=HOUR_SHIFT,
        )

    def _read_group_select(self, aggregate_spec, query):
        """The rates are not sums of the rows: they divide the group's sums."""
        fname = aggregate_spec.split(":")[0]
        ratios = self._ratios(query)
        if fname not in ratios:
            return super()._read_group_select(aggregate_spec, query)
        return ratios[fname]

    def _ratios(self, query):
        def total(name):
            return SQL("SUM(%s)", self._field_to_sql(self._table, name, query))

        def ratio(numerator, denominator, factor=1):
            return SQL("(%s)::float * %s / NULLIF(%s, 0)", numerator, factor, denominator)

        hours = total("work_hours")
        return {
            "results_per_hour": ratio(total("result_count"), hours),
            "calls_per_hour": ratio(total("call_count"), hours),
            "won_per_hour": ratio(total("won_count"), hours),
            "utilisation": ratio(total("duration"), SQL("%s * 3600", hours), 100),
            "no_answer_rate": ratio(SQL("COUNT(*) - %s", total("answered_count")), SQL("COUNT(*)"), 100),
            "work_paid_ratio": ratio(hours, total("paid_hours"), 100),
            "cost_per_won": ratio(total("paid_cost"), total("won_count")),
        }

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
