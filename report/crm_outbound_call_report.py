from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.crm_outbound_status import CONTACT_LEVELS, OUTCOMES

# The per-hour measures and the measure each one divides by the hours of work.
RATIOS = {"results_per_hour": "result_count", "calls_per_hour": "call_count"}
HOURS = [(f"{hour:02d}", f"{hour:02d}:00") for hour in range(24)]


class CrmOutboundCallReport(models.Model):
    """Operator KPIs (seeds 000, 001, 002): one row per call, with measures that add up
    in pivots and graphs by operator, team, day and hour.

    Day and hour are the operator's local ones. A lead closed (lost or won) counts once,
    on its last call: "Calls per Closed Lead" averages the closed leads' call counts.

    An hour of work is one local hour of one operator with at least one call (seed 001:
    results and calls "per hour"). A group counts the hours in which its calls were
    made, so an hour split between two teams counts for each and once in the total; the
    per-hour measures divide the group's sums by its hours."""

    _name = "crm.outbound.call.report"
    _description = "Outbound Call Analysis"
    _auto = False
    _rec_name = "call_at"
    _order = "call_at desc"

    call_at = fields.Datetime("Call Time", readonly=True)
    call_date = fields.Date("Day", readonly=True, help="In the operator's time zone.")
    call_hour = fields.Selection(HOURS, "Hour", readonly=True, help="In the operator's time zone.")
    user_id = fields.Many2one("res.users", "Operator", readonly=True)
    team_id = fields.Many2one("crm.team", "Sales Team", readonly=True)
    playbook_id = fields.Many2one("crm.outbound.playbook", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    status_id = fields.Many2one("crm.outbound.status", readonly=True)
    contact_level = fields.Selection(CONTACT_LEVELS, readonly=True)
    outcome = fields.Selection(OUTCOMES, readonly=True)
    is_touch = fields.Boolean("Successful Touch", readonly=True)
    # Measures
    call_count = fields.Integer("Calls", readonly=True)
    answered_count = fields.Integer("Answered Calls", readonly=True)
    touch_count = fields.Integer("Successful Touches", readonly=True)
    result_count = fields.Integer("Results", readonly=True)
    duration = fields.Integer("Talk Time (s)", readonly=True)
    handling_time = fields.Float(
        "Average Handling Time (s)", readonly=True, aggregator="avg", help="The average duration of answered calls."
    )
    closed_lead_count = fields.Integer("Closed Leads", readonly=True)
    calls_per_closed_lead = fields.Float(
        "Calls per Closed Lead",
        readonly=True,
        aggregator="avg",
        help="How many calls the leads closed (lost or won) by these calls took, on average.",
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

    def _query(self):
        # The operator's time zone, if PostgreSQL knows it (a bad name would break the view).
        local_at = SQL("(call.call_at AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(tz.name, 'UTC'))")
        closed = SQL("(lead.id IS NOT NULL AND (lead.active IS NOT TRUE OR stage.is_won IS TRUE))")
        return SQL(
            """
            SELECT call.id,
                   call.call_at,
                   %(local_at)s::date AS call_date,
                   to_char(%(local_at)s, 'HH24') AS call_hour,
                   call.user_id,
                   call.team_id,
                   call.playbook_id,
                   call.company_id,
                   call.lead_id,
                   call.status_id,
                   status.contact_level,
                   status.outcome,
                   call.is_touch,
                   1 AS call_count,
                   COALESCE(call.answered, FALSE)::int AS answered_count,
                   COALESCE(call.is_touch, FALSE)::int AS touch_count,
                   COALESCE(status.is_result, FALSE)::int AS result_count,
                   COALESCE(call.duration, 0) AS duration,
                   CASE WHEN call.answered THEN COALESCE(call.duration, 0) END AS handling_time,
                   %(closed)s::int AS closed_lead_count,
                   CASE WHEN %(closed)s THEN lead.outbound_attempt_count END AS calls_per_closed_lead,
                   (call.user_id IS NOT NULL)::int AS work_hours,
                   date_trunc('hour', %(local_at)s) AS work_slot,
                   NULL::float AS results_per_hour,
                   NULL::float AS calls_per_hour
              FROM crm_outbound_call AS call
         LEFT JOIN res_users AS operator ON operator.id = call.user_id
         LEFT JOIN res_partner AS partner ON partner.id = operator.partner_id
         LEFT JOIN pg_timezone_names AS tz ON tz.name = partner.tz
         LEFT JOIN crm_outbound_status AS status ON status.id = call.status_id
              -- the lead's last call carries its closing
         LEFT JOIN crm_lead AS lead ON lead.id = call.lead_id AND lead.outbound_last_call_at = call.call_at
         LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
            """,
            local_at=local_at,
            closed=closed,
        )

    def _read_group_select(self, aggregate_spec, query):
        """Hours of work count the group's distinct (operator, local hour) pairs, and the
        per-hour measures divide the group's results or calls by them."""
        fname = aggregate_spec.split(":")[0]
        if fname != "work_hours" and fname not in RATIOS:
            return super()._read_group_select(aggregate_spec, query)
        # Sorting a million calls for the distinct pairs costs about what a sum does; a
        # first-call-of-the-hour flag per row (a subquery per call) cost 5 to 20 times more.
        hours = SQL(
            "COUNT(DISTINCT (%s, %s)) FILTER (WHERE %s IS NOT NULL)",
            self._field_to_sql(self._table, "user_id", query),
            SQL.identifier(self._table, "work_slot"),
            self._field_to_sql(self._table, "user_id", query),
        )
        if fname == "work_hours":
            return hours
        return SQL(
            "SUM(%s)::float / NULLIF(%s, 0)",
            self._field_to_sql(self._table, RATIOS[fname], query),
            hours,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query()))
