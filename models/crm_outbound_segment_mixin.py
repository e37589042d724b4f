"""The lead's segment of the calling base and routing by segment (DESIGN.md rule 5, issue 7)."""

import heapq
from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL

from .compat import domain_and, domain_or
from .crm_outbound_segment_route import SEGMENTS

# Writing these on a lead can change its segment or its partner's leads' segments.
SEGMENT_TRIGGER_FIELDS = {"stage_id", "partner_id", "date_closed", "active", "company_id"}


class CrmOutboundSegmentMixin(models.AbstractModel):
    """The lead's segment of the calling base and Route by Segment, for ``crm.lead``."""

    _name = "crm.outbound.segment.mixin"
    _description = "Outbound Segments of Leads"

    outbound_segment = fields.Selection(
        SEGMENTS,
        string="Segment",
        index=True,
        readonly=True,
        copy=False,
        default="never_called",
        help="The lead's part of the calling base: the partner's purchases first, then the "
        "lead's call history (DESIGN.md rule 5).",
    )
    outbound_segment_mine = fields.Boolean(
        "My Team's Segments",
        compute="_compute_outbound_segment_mine",
        search="_search_outbound_segment_mine",
        help="The lead's segment is served by the role of a sales team you belong to (as member or "
        "leader), through its company's segment routing. Without such a team, every lead is yours.",
    )

    @api.depends("outbound_segment", "company_id")
    @api.depends_context("uid", "company")
    def _compute_outbound_segment_mine(self):
        mine = self.filtered_domain(self._outbound_segment_mine_domain())
        for lead in self:
            lead.outbound_segment_mine = lead in mine

    def _search_outbound_segment_mine(self, operator, value):
        return self._outbound_boolean_search(
            "outbound_segment_mine", operator, value, self._outbound_segment_mine_domain
        )

    @api.model
    def _outbound_segment_mine_domain(self):
        """The leads of the segments the current user's teams serve; every lead when the
        user is in no team with a role. Leads without a company follow the routing of
        the current company."""
        mine = self._outbound_my_segments()
        if mine is None:
            return []
        return domain_or(
            [
                ("company_id", "in", [company_id, False] if company_id == self.env.company.id else [company_id]),
                ("outbound_segment", "in", sorted(segments)),
            ]
            for company_id, segments in mine.items()
        )

    @api.model
    def _outbound_my_segments(self):
        """{company id: segments} that the roles of the current user's sales teams serve,
        or None when the user is in no team with a role: the call lists then show every lead."""
        teams = (
            self.env["crm.team"]
            .sudo()
            .search(
                [
                    ("outbound_role", "!=", False),
                    "|",
                    ("member_ids", "in", [self.env.uid]),
                    ("user_id", "=", self.env.uid),
                ]
            )
        )
        roles = set(teams.mapped("outbound_role"))
        if not roles:
            return None
        routes = self.env["crm.outbound.segment.route"].sudo().search([("role", "in", sorted(roles))])
        mine = defaultdict(set)
        for route in routes:
            mine[route.company_id.id].add(route.segment)
        return dict(mine)

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._outbound_update_segments()
        return leads

    def write(self, vals):
        partners = self._outbound_segment_partners() if SEGMENT_TRIGGER_FIELDS & set(vals) else None
        res = super().write(vals)
        if partners is not None:
            # A won (or un-won) opportunity changes every lead of its commercial partner.
            partners |= self._outbound_segment_partners()
            self._outbound_leads_of_partners(partners)._outbound_update_segments()
        return res

    def _outbound_segment_partners(self):
        return self.sudo().partner_id.commercial_partner_id

    def _outbound_leads_of_partners(self, partners):
        if not partners:
            return self
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.flush_model(["partner_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.id FROM crm_lead AS lead
                  JOIN res_partner AS partner ON partner.id = lead.partner_id
                 WHERE partner.commercial_partner_id = ANY(%s)
                """,
                list(partners.ids),
            )
        )
        return self | self.browse([row[0] for row in self.env.cr.fetchall()])

    def _outbound_segment_query(self, lead_ids):
        """The segment of each lead of ``lead_ids``, as rows (lead id, segment)."""
        now = fields.Datetime.now()
        default_months = self.env.company.outbound_lapse_months or 6
        return SQL(
            """
            WITH l AS (
                SELECT lead.id, partner.commercial_partner_id AS commercial_id, lead.outbound_outcome,
                       %(now)s - make_interval(months => COALESCE(company.outbound_lapse_months, %(months)s))
                           AS cutoff
                  FROM crm_lead AS lead
             LEFT JOIN res_partner AS partner ON partner.id = lead.partner_id
             LEFT JOIN res_company AS company ON company.id = lead.company_id
                 WHERE lead.id = ANY(%(ids)s)
            ), purchase AS (
                SELECT partner.commercial_partner_id AS commercial_id, max(won.date_closed) AS last_at
                  FROM crm_lead AS won
                  JOIN crm_stage AS stage ON stage.id = won.stage_id AND stage.is_won
                  JOIN res_partner AS partner ON partner.id = won.partner_id
                 WHERE partner.commercial_partner_id IN (SELECT commercial_id FROM l)
                   AND won.date_closed IS NOT NULL
                   AND won.active
              GROUP BY 1
            ), event AS (
                SELECT call.lead_id, call.outcome, call.call_at AS at
                  FROM crm_outbound_call AS call
                 WHERE call.lead_id = ANY(%(ids)s) AND call.outcome IN ('hook', 'interest', 'refusal')
             UNION ALL
                -- The current status counts as the latest event (a status set without a call).
                SELECT l.id, l.outbound_outcome, 'infinity'::timestamp
                  FROM l WHERE l.outbound_outcome IN ('hook', 'interest', 'refusal')
            ), refusal AS (
                SELECT event.lead_id, max(event.at) AS last_at FROM event
                 WHERE event.outcome = 'refusal' GROUP BY 1
            ), before AS (
                SELECT refusal.lead_id,
                       bool_or(event.outcome = 'interest') AS interest,
                       bool_or(event.outcome = 'hook') AS hook
                  FROM refusal
             LEFT JOIN event ON event.lead_id = refusal.lead_id AND event.at < refusal.last_at
              GROUP BY 1
            )
            SELECT l.id,
                   CASE WHEN purchase.last_at >= l.cutoff THEN 'active_customer'
                        WHEN purchase.last_at IS NOT NULL THEN 'lapsed_customer'
                        WHEN before.interest THEN 'special_offer_refused'
                        WHEN before.hook THEN 'offer_refused'
                        WHEN before.lead_id IS NOT NULL THEN 'refused_early'
                        ELSE 'never_called' END
              FROM l
         LEFT JOIN purchase ON purchase.commercial_id = l.commercial_id
         LEFT JOIN before ON before.lead_id = l.id
            """,
            now=now,
            months=default_months,
            ids=list(lead_ids),
        )

    def _outbound_update_segments(self):
        """Recompute the segment of the leads of ``self`` in one grouped UPDATE."""
        if not self.ids:
            return
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["crm.stage"].flush_model(["is_won"])
        self.env["crm.outbound.call"].flush_model(["lead_id", "outcome", "call_at"])
        self.env["res.company"].flush_model(["outbound_lapse_months"])
        self.flush_model(["partner_id", "stage_id", "date_closed", "active", "company_id", "outbound_outcome"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead AS lead SET outbound_segment = computed.segment
                  FROM (%s) AS computed(id, segment)
                 WHERE lead.id = computed.id AND lead.outbound_segment IS DISTINCT FROM computed.segment
                """,
                self._outbound_segment_query(self.ids),
            )
        )
        self.invalidate_model(["outbound_segment"])

    @api.model
    def _cron_outbound_segments(self, batch_size=1000):
        """Move the customers whose last purchase left the N months to lapsed."""

        def update(rows):
            self.with_context(active_test=False).browse([row[0] for row in rows])._outbound_update_segments()

        customers = self.with_context(active_test=False)._outbound_locked_leads_query(
            [("outbound_segment", "=", "active_customer")]
        )
        self._outbound_run_in_batches(customers, update, batch_size)

    @api.model
    def _outbound_init_segments(self, batch_size=10000):
        """Compute the segment of every lead (install)."""
        self.env.cr.execute("SELECT id FROM crm_lead ORDER BY id")
        ids = [row[0] for row in self.env.cr.fetchall()]
        for start in range(0, len(ids), batch_size):
            self.browse(ids[start : start + batch_size])._outbound_update_segments()

    # ------------------------------------------------------------
    # Routing by role
    # ------------------------------------------------------------

    @api.model
    def _outbound_misrouted_domain(self):
        """Misrouted (DESIGN.md rule 5): leads not won (open or lost: refusals are the
        win-back team's base, seed 003) whose team's role is not the one their company
        routes their segment to. Leads of sales teams outside outbound calling (no role,
        no playbook) stay where they are."""
        routes = self.env["crm.outbound.segment.route"].sudo().search([("role", "!=", False)])
        wrong_team = domain_or(
            [
                ("company_id", "=", route.company_id.id),
                ("outbound_segment", "=", route.segment),
                "|",
                ("team_id", "=", False),
                ("team_id.outbound_role", "!=", route.role),
            ]
            for route in routes
        )
        outbound_team = [
            "|",
            "|",
            ("team_id", "=", False),
            ("team_id.outbound_role", "!=", False),
            ("team_id.outbound_playbook_id", "!=", False),
        ]
        not_won = ["|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]
        return domain_and([not_won, outbound_team, wrong_team])

    @api.model
    def _cron_outbound_route_segments(self, batch_size=1000):
        """Route by Segment over the whole base."""

        def route(rows):
            self.browse([row[0] for row in rows])._outbound_route_by_segment()

        misrouted = self.with_context(active_test=False)._outbound_locked_leads_query(self._outbound_misrouted_domain())
        self._outbound_run_in_batches(misrouted, route, batch_size)

    def action_outbound_route_by_segment(self):
        """Route by Segment on the selected leads; for supervisors and managers, since it moves
        leads between teams. Returns a notification with the number of leads moved."""
        self._outbound_check_routing_right()
        moved = self._outbound_route_by_segment()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if moved else "info",
                "message": _("%(count)s lead(s) moved to a team of their segment's role.", count=len(moved)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _outbound_check_routing_right(self):
        self._outbound_check_supervisor(_("Route by Segment (it moves leads between teams)"))

    def _outbound_route_by_segment(self):
        """Move the misrouted leads of ``self`` (``_outbound_misrouted_domain``) to a team
        of their segment's role in their company, and to the salesperson of those teams
        with the fewest open leads (round-robin on the load). Returns the moved leads."""
        leads = self.filtered_domain(self._outbound_misrouted_domain())
        role_by_segment = self.env["crm.outbound.segment.route"]._outbound_role_by_segment(leads.company_id)
        to_move = defaultdict(lambda: self.browse())
        for lead in leads:
            to_move[lead.company_id, role_by_segment[lead.company_id.id, lead.outbound_segment]] |= lead
        if not to_move:
            return self.browse()
        teams = (
            self.env["crm.team"]
            .sudo()
            .search(
                [
                    ("outbound_role", "in", list({role for _company, role in to_move})),
                    ("company_id", "in", [*leads.company_id.ids, False]),
                ]
            )
        )
        # Each salesperson once per (company, role), in the first team of that role that has them.
        candidates = defaultdict(dict)
        for team in teams:
            users = team.member_ids or team.user_id
            for company, role in to_move:
                if team.outbound_role == role and team.company_id in (company, self.env["res.company"]):
                    for user in users or self.env["res.users"]:
                        candidates[company, role].setdefault(user.id, team)
                    if not users:
                        candidates[company, role].setdefault(False, team)
        user_ids = [uid for by_user in candidates.values() for uid in by_user if uid]
        load = defaultdict(int)
        if user_ids:
            rows = (
                self.env["crm.lead"]
                .sudo()
                ._read_group(
                    [("user_id", "in", user_ids), ("active", "=", True), ("stage_id.is_won", "=", False)],
                    ["user_id"],
                    ["__count"],
                )
            )
            load.update({user.id: count for user, count in rows})
        moves = defaultdict(list)
        for key, key_leads in to_move.items():
            heap = [(load[uid], uid or 0, team.id) for uid, team in candidates[key].items()]
            if not heap:
                continue
            heapq.heapify(heap)
            for lead in key_leads:
                count, uid, team_id = heapq.heappop(heap)
                moves[team_id, uid].append(lead.id)
                heapq.heappush(heap, (count + 1, uid, team_id))
        moved = self.browse()
        bodies = {}
        Team = self.env["crm.team"]
        for (team_id, uid), lead_ids in moves.items():
            group = self.browse(lead_ids)
            team = Team.browse(team_id)
            for lead in group:
                bodies[lead.id] = Markup("<p>%s</p>") % _(
                    "Routed by segment (%(segment)s): %(old_team)s → %(team)s, %(old_user)s → %(user)s.",
                    segment=dict(self._fields["outbound_segment"]._description_selection(self.env)).get(
                        lead.outbound_segment
                    ),
                    old_team=lead.team_id.display_name or _("no team"),
                    team=team.display_name,
                    old_user=lead.user_id.display_name or _("nobody"),
                    user=self.env["res.users"].browse(uid).display_name or _("nobody"),
                )
            moved |= group
        # A bulk assignment, as Odoo's own lead assignment does it: no mail per lead.
        quiet = self.with_context(mail_auto_subscribe_no_notify=True)
        for (team_id, uid), lead_ids in moves.items():
            quiet.browse(lead_ids).write({"team_id": team_id, "user_id": uid or False})
        if moved:
            moved._message_log_batch(bodies)
        return moved
