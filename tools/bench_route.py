# Run by tools/bench_route inside `odoo-bin shell` (``env`` is given); writes nothing.
import os
import threading
import time

# commit_progress() must not commit the batches: everything is rolled back at the end.
threading.current_thread().testing = True
Lead = env["crm.lead"]  # noqa: F821
cr = Lead.env.cr
count = int(os.environ.get("LEADS", "10000"))
playbook = Lead.env["crm.outbound.playbook"].search([], limit=1)
users = Lead.env["res.users"].search([("share", "=", False)], limit=6)
Team = Lead.env["crm.team"]
cold = Team.create({"name": "Bench cold", "outbound_role": "cold", "outbound_playbook_id": playbook.id})
win_back = Team.create(
    [
        {
            "name": f"Bench win-back {index}",
            "outbound_role": "win_back",
            "outbound_playbook_id": playbook.id,
            "member_ids": [(4, user.id) for user in users[index * 3 : index * 3 + 3]],
        }
        for index in range(2)
    ]
)
partner = Lead.env["res.partner"].create({"name": "Bench lapsed customer", "is_company": True})
started = time.perf_counter()
leads = Lead.create([{"name": f"Bench {index}", "team_id": cold.id, "user_id": users[0].id} for index in range(count)])
# Lapsed customers, without creating the old won deal for each.
cr.execute("UPDATE crm_lead SET outbound_segment = 'lapsed_customer' WHERE id = ANY(%s)", [leads.ids])
Lead.env.invalidate_all()
print(f"created {count} leads in {time.perf_counter() - started:.1f} s")

batches = []
original = Lead.__class__._outbound_route_by_segment


def measured(self):
    before, started = cr.sql_log_count, time.perf_counter()
    moved = original(self)
    Lead.env.flush_all()
    batches.append((len(self), cr.sql_log_count - before, time.perf_counter() - started))
    return moved


Lead.__class__._outbound_route_by_segment = measured
try:
    started = time.perf_counter()
    Lead._cron_outbound_route_segments()
    total = time.perf_counter() - started
finally:
    Lead.__class__._outbound_route_by_segment = original
routed = Lead.search_count([("id", "in", leads.ids), ("team_id", "in", win_back.ids)])
print(f"routed {routed} of {count} leads in {total:.1f} s, {len(batches)} batches")
for size, queries, seconds in batches:
    print(f"  batch of {size}: {queries} queries, {seconds:.1f} s")
cr.rollback()
