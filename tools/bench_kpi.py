# Run by tools/bench_kpi inside `odoo-bin shell` (``env`` is given); writes nothing.
import os
import statistics
import time

from odoo.tools import SQL

calls = int(os.environ.get("CALLS", "1000000"))
Report = env["crm.outbound.call.report"]  # noqa: F821
cr = Report.env.cr
users = Report.env["res.users"].search([("share", "=", False)], limit=20).ids
teams = Report.env["crm.team"].search([("outbound_playbook_id", "!=", False)])
statuses = teams.outbound_playbook_id.status_ids.ids
leads = Report.env["crm.lead"].with_context(active_test=False).search([("team_id", "in", teams.ids)]).ids
assert users and teams and statuses and leads, "needs crm_outbound's demo data"
started = time.perf_counter()
cr.execute(
    SQL(
        """
        INSERT INTO crm_outbound_call (lead_id, user_id, team_id, company_id, call_at, duration, answered,
                                       is_touch, status_id, source)
        SELECT (%(leads)s)[1 + mod(g, cardinality(%(leads)s))],
               (%(users)s)[1 + mod(g, cardinality(%(users)s))],
               (%(teams)s)[1 + mod(g, cardinality(%(teams)s))],
               1,
               now() AT TIME ZONE 'UTC' - make_interval(secs => mod(g::bigint * 7919, 90 * 86400)::float),
               mod(g * 7, 300),
               mod(g, 3) != 0,
               mod(g * 7, 300) > 30,
               (%(statuses)s)[1 + mod(g, cardinality(%(statuses)s))],
               'import'
          FROM generate_series(1, %(calls)s) AS g
        """,
        leads=leads,
        users=users,
        teams=teams.ids,
        statuses=statuses,
        calls=calls,
    )
)
cr.execute("ANALYZE crm_outbound_call")
print(f"inserted {calls} calls in {time.perf_counter() - started:.1f} s")

month_start = time.strftime("%Y-%m-01")
measures = [
    "call_count:sum",
    "answered_count:sum",
    "touch_count:sum",
    "result_count:sum",
    "handling_time:avg",
    "calls_per_closed_lead:avg",
]
for label, domain in (("this month", [("call_date", ">=", month_start)]), ("all calls", [])):
    timings = []
    for _run in range(3):
        Report.env.invalidate_all()
        started = time.perf_counter()
        groups = Report._read_group(domain, ["user_id"], measures)
        timings.append(time.perf_counter() - started)
    rows = sum(group[1] for group in groups)
    print(f"default pivot, {label}: {rows} calls, median {statistics.median(timings):.2f} s of {timings}")
cr.rollback()
