from collections import defaultdict
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, RedirectWarning, UserError
from odoo.tools import SQL, format_datetime, split_every
from odoo.tools.sql import create_index

from .compat import commit_progress, domain_and, domain_not, domain_or, equality_search_values

# The keys ``outbound_log_call`` takes (DESIGN.md, public interface).
LOG_CALL_KEYS = {"status_id", "comment_code_id", "note", "duration", "call_at", "agreed_at", "recording_url"}
# Writing these can make a lead start or stop needing a task (DESIGN.md rule 1).
TASK_TRIGGER_FIELDS = {"team_id", "active", "stage_id", "type"}
# Changes that move a lead's closing or win onto another call, or off its calls.
CLOSING_TRIGGER_FIELDS = {"active", "stage_id", "expected_revenue", "date_closed"}
# Team leaders and sales managers (who imply it): the lost gate's override, routing, the CDR import.
SUPERVISOR_GROUP = "sales_team.group_sale_salesman_all_leads"
# The tracking messages of a batch of leads, created together (CrmLead._message_track).
DEFERRED_TRACKING_LOGS = "crm_outbound.tracking_logs"
# What the lost gate records on a lead lost below the minimum (DESIGN.md rule 3).
LOST_MARK_FIELDS = (
    "outbound_lost_improperly",
    "outbound_lost_override",
    "outbound_lost_override_reason",
    "outbound_lost_override_user_id",
)
# Facts derived from the calls and the module's rules (DESIGN.md rule 6): users read them,
# only the module's own code writes them (``_outbound_write_facts``).
FACT_FIELDS = (
    "outbound_attempt_count",
    "outbound_attempts_date",
    "outbound_attempts_day_count",
    "outbound_no_answer_count",
    "outbound_touch_count",
    "outbound_last_call_at",
    "outbound_next_call_at",
    "outbound_due_notified_at",
    "outbound_overdue_reported_at",
    "outbound_first_days_target",
    *LOST_MARK_FIELDS,
    "outbound_network_head_id",
    "outbound_segment",
)


class _OwnWrite:
    """The value of the ``crm_outbound_applying`` context key while the module's own
    code writes: an RPC caller sends JSON values only, so it can never claim to be the
    module's own code by sending this key."""

    __slots__ = ()

    def __repr__(self):
        return "<crm_outbound's own write>"


OWN_WRITE = _OwnWrite()


def own_write(records):
    """``records`` for the module's own code: writes of facts allowed, the rules not
    applied again by the overrides of ``crm.lead`` and ``mail.activity`` (the one
    recursion guard, see ``OWN_WRITE``)."""
    return records.with_context(crm_outbound_applying=OWN_WRITE)


def is_own_write(records):
    """Whether the module's own code is at work on ``records`` (see ``own_write``)."""
    return records.env.context.get("crm_outbound_applying") is OWN_WRITE


FIRST_DAYS_STATES = [("ongoing", "In Progress"), ("met", "Met"), ("missed", "Missed")]
# Why a candidate is a network sibling, in the order the finder's query returns them.
SIBLING_REASONS = ("company", "phone", "email", "website")
# Marking network siblings writes and logs this many leads at a time.
NETWORK_BATCH_SIZE = 1000


def _only_creates(commands):
    """Whether ``commands`` are all ORM create commands ``(0, 0, values)``."""
    return bool(commands) and all(
        isinstance(command, list | tuple) and len(command) == 3 and command[0] == 0 for command in commands
    )


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = [
        "crm.lead",
        "crm.outbound.segment.mixin",
        "crm.outbound.local.time.mixin",
        "crm.outbound.do.not.call.mixin",
        "crm.outbound.session.mixin",
    ]

    outbound_playbook_id = fields.Many2one(related="team_id.outbound_playbook_id", store=True, index=True)
    outbound_status_id = fields.Many2one(
        "crm.outbound.status",
        index=True,
        tracking=True,
        copy=False,
        domain="[('playbook_id', '=', outbound_playbook_id)]",
        group_expand="_read_group_outbound_status_ids",
    )
    outbound_status_code = fields.Char(related="outbound_status_id.code", string="Status Code")
    outbound_status_color = fields.Integer(related="outbound_status_id.color", string="Status Color")
    outbound_outcome = fields.Selection(related="outbound_status_id.outcome", store=True, string="Outcome")
    outbound_contact_level = fields.Selection(
        related="outbound_status_id.contact_level", store=True, string="Contact Level"
    )
    outbound_is_final = fields.Boolean(related="outbound_status_id.is_final", store=True, string="Final Status")
    outbound_agreed_date_label = fields.Char(related="outbound_status_id.agreed_date_label")
    outbound_comment_code_id = fields.Many2one(
        "crm.outbound.comment.code",
        string="Comment Code",
        copy=False,
        tracking=True,
        domain="[('status_id', '=', outbound_status_id)]",
    )
    outbound_comment = fields.Text(copy=False)
    outbound_agreed_at = fields.Datetime("Agreed Date", copy=False, help="The date agreed with the client.")
    # Calls and their counters, kept up to date by outbound_log_call in grouped SQL.
    outbound_call_ids = fields.One2many("crm.outbound.call", "lead_id", string="Calls")
    outbound_call_count = fields.Integer("Calls Logged", compute="_compute_outbound_call_count")
    outbound_attempt_count = fields.Integer("Call Attempts", readonly=True, copy=False)
    outbound_attempts_date = fields.Date(
        "Day of the Last Attempt", readonly=True, copy=False, help="In the operator's time zone."
    )
    outbound_attempts_day_count = fields.Integer("Attempts on That Day", readonly=True, copy=False)
    outbound_attempts_today = fields.Integer(
        "Attempts Today", compute="_compute_outbound_attempts_today", search="_search_outbound_attempts_today"
    )
    outbound_no_answer_count = fields.Integer(
        "Unanswered in a Row", readonly=True, copy=False, help="The current streak of unanswered calls (Н1, Н2…)."
    )
    outbound_no_answer_label = fields.Char("No-Answer Streak", compute="_compute_outbound_no_answer_label")
    outbound_touch_count = fields.Integer("Successful Touches", readonly=True, copy=False)
    outbound_last_call_at = fields.Datetime("Last Call", readonly=True, copy=False, index=True)
    outbound_next_call_at = fields.Datetime("Next Call", readonly=True, copy=False, index=True)
    outbound_call_due = fields.Boolean(
        "Due Now", compute="_compute_outbound_call_due", search="_search_outbound_call_due"
    )
    # The due time the redial queue cron last told the operator / the team leader about,
    # so that each due time is announced once and a new one re-arms the announcement.
    outbound_due_notified_at = fields.Datetime(readonly=True, copy=False)
    outbound_overdue_reported_at = fields.Datetime(readonly=True, copy=False)
    # Calling discipline (DESIGN.md rule 3): the first days' daily target, the lost gate.
    outbound_daily_target = fields.Integer(related="outbound_playbook_id.attempts_per_day", string="Daily Target")
    outbound_first_days_start = fields.Date(
        "First Days From",
        compute="_compute_outbound_first_days",
        store=True,
        help="The local day (team's time zone) the lead was created or assigned.",
    )
    outbound_first_days_end = fields.Date(
        "First Days Until", compute="_compute_outbound_first_days", store=True, index="btree_not_null"
    )
    outbound_first_days_target = fields.Selection(
        FIRST_DAYS_STATES,
        string="First Days Target",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Whether the lead got its daily attempts on each of its first days: met, missed (a past day "
        "fell short), or still in progress.",
    )
    outbound_below_daily_target = fields.Boolean(
        "Below Today's Target",
        compute="_compute_outbound_below_daily_target",
        search="_search_outbound_below_daily_target",
        help="In its first days, and called fewer times today than the playbook asks.",
    )
    outbound_task_broken = fields.Boolean(
        "Without Exactly One Task",
        compute="_compute_outbound_task_broken",
        search="_search_outbound_task_broken",
        help="An open lead of a playbook team with no pending task or several (DESIGN.md rule 1).",
    )
    outbound_redial_overdue = fields.Boolean(
        "Redial Overdue",
        compute="_compute_outbound_redial_overdue",
        search="_search_outbound_redial_overdue",
        help="The next call is late by more than the playbook's overdue grace.",
    )
    outbound_lost_improperly = fields.Boolean(
        "Lost Improperly",
        readonly=True,
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="Marked lost with fewer call attempts than the playbook's minimum, in a playbook that only flags.",
    )
    outbound_lost_override = fields.Boolean(
        "Lost by Override",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A supervisor marked it lost below the minimum of call attempts.",
    )
    outbound_lost_override_reason = fields.Text("Override Reason", readonly=True, copy=False)
    outbound_lost_override_user_id = fields.Many2one("res.users", "Overridden By", readonly=True, copy=False)
    # Network siblings (DESIGN.md rule 4): the lead that got the result, and the keys that
    # find the other organisations of its network through indexed equality lookups.
    outbound_network_head_id = fields.Many2one(
        "crm.lead",
        string="Network Head",
        index="btree_not_null",
        tracking=True,
        copy=False,
        readonly=True,
        ondelete="set null",
        help="The lead of the same network that got the result; this lead was marked as its sibling.",
    )
    outbound_network_sibling_ids = fields.One2many(
        "crm.lead",
        "outbound_network_head_id",
        string="Network Siblings",
        readonly=True,
        context={"active_test": False},
    )
    outbound_network_sibling_count = fields.Integer(
        "Network Sibling Count", compute="_compute_outbound_network_sibling_count"
    )
    outbound_network_partner_id = fields.Many2one(
        "res.partner",
        string="Network Company",
        compute="_compute_outbound_network_partner_id",
        store=True,
        index="btree_not_null",
        help="The parent company of the lead's company: leads that share it are organisations of one network.",
    )
    outbound_website_domain = fields.Char(
        "Website Domain", compute="_compute_outbound_website_domain", store=True, index="btree_not_null"
    )
    outbound_network_unmarked = fields.Boolean(
        "Unmarked Network Siblings",
        compute="_compute_outbound_network_unmarked",
        search="_search_outbound_network_unmarked",
        help="The lead got a result and other organisations of its network are still to be marked.",
    )

    def init(self):
        res = super().init()
        # The Outbound kanban reads each status column in next-call order: without this
        # index, a column with few leads walks the whole next-call index (README, Benchmark).
        create_index(
            self.env.cr,
            "crm_lead_outbound_status_next_call_idx",
            self._table,
            ["outbound_status_id", "outbound_next_call_at", "id"],
            where="outbound_status_id IS NOT NULL",
        )
        return res

    # ------------------------------------------------------------
    # COMPUTE / SEARCH
    # ------------------------------------------------------------

    def _outbound_today(self):
        return fields.Date.context_today(self)

    @api.depends("outbound_call_ids")
    def _compute_outbound_call_count(self):
        counts = dict(
            self.env["crm.outbound.call"]._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
        )
        for lead in self:
            lead.outbound_call_count = counts.get(lead._origin, 0)

    @api.depends("outbound_attempts_date", "outbound_attempts_day_count")
    @api.depends_context("tz")
    def _compute_outbound_attempts_today(self):
        today = self._outbound_today()
        for lead in self:
            lead.outbound_attempts_today = (
                lead.outbound_attempts_day_count if lead.outbound_attempts_date == today else 0
            )

    def _search_outbound_attempts_today(self, operator, value):
        today = self._outbound_today()
        equality = equality_search_values(operator, value)
        if equality:
            positive, values = equality
            operator, value = ("in" if positive else "not in"), list(values)
            zero_matches = (0 in values) == positive
        elif operator in ("<", "<=", ">", ">=") and isinstance(value, int):
            zero_matches = {"<": 0 < value, "<=": 0 <= value, ">": 0 > value, ">=": 0 >= value}[operator]
        else:
            raise UserError(
                _("Attempts Today cannot be searched with %(operator)s %(value)s.", operator=operator, value=value)
            )
        domain = ["&", ("outbound_attempts_date", "=", today), ("outbound_attempts_day_count", operator, value)]
        if zero_matches:
            # Leads not called today have 0 attempts today.
            not_today = ["|", ("outbound_attempts_date", "=", False), ("outbound_attempts_date", "!=", today)]
            domain = ["|", *not_today, *domain]
        return domain

    @api.depends("outbound_next_call_at")
    def _compute_outbound_call_due(self):
        due = self.filtered_domain(self._outbound_due_domain())
        for lead in self:
            lead.outbound_call_due = lead in due

    def _search_outbound_call_due(self, operator, value):
        return self._outbound_boolean_search("outbound_call_due", operator, value, self._outbound_due_domain)

    @api.depends("outbound_no_answer_count")
    def _compute_outbound_no_answer_label(self):
        for lead in self:
            count = lead.outbound_no_answer_count
            lead.outbound_no_answer_label = _("N%(count)s", count=count) if count else False

    @api.depends("date_open", "create_date", "team_id", "user_id", "outbound_playbook_id.first_days")
    def _compute_outbound_first_days(self):
        now = fields.Datetime.now()
        for lead in self:
            days = lead.outbound_playbook_id.first_days
            if not days:
                lead.outbound_first_days_start = lead.outbound_first_days_end = False
                continue
            start = lead._outbound_local_day(lead.date_open or lead.create_date or now)
            lead.outbound_first_days_start = start
            lead.outbound_first_days_end = start + timedelta(days=days - 1)

    @api.depends(
        "outbound_first_days_end",
        "outbound_attempts_today",
        "outbound_daily_target",
        "active",
        "outbound_is_final",
        "outbound_agreed_at",
        "outbound_status_id.task_timing",
    )
    @api.depends_context("tz")
    def _compute_outbound_below_daily_target(self):
        below = self.filtered_domain(self._outbound_below_daily_target_domain())
        for lead in self:
            lead.outbound_below_daily_target = lead in below

    def _search_outbound_below_daily_target(self, operator, value):
        return self._outbound_boolean_search(
            "outbound_below_daily_target", operator, value, self._outbound_below_daily_target_domain
        )

    def _outbound_not_waiting_domain(self):
        """Leads that are not waiting for a later day the client agreed to (a status
        that waits for the agreed date, the date after today in the user's time zone):
        no calling target asks for calls before the day the client asked for."""
        tomorrow = self._outbound_today() + timedelta(days=1)
        tz = pytz.timezone(self.env.context.get("tz") or "UTC")
        tomorrow_at = tz.localize(datetime.combine(tomorrow, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        return [
            "|",
            "|",
            ("outbound_agreed_at", "=", False),
            ("outbound_agreed_at", "<", tomorrow_at),
            ("outbound_status_id.task_timing", "!=", "agreed"),
        ]

    def _outbound_redial_domain(self):
        """Leads whose next task is a redial (not a callback, a sale or a reminder)."""
        redial = self.env.ref("crm_outbound.mail_activity_type_redial", raise_if_not_found=False)
        return [("outbound_status_id.activity_type_id", "=", redial.id if redial else False)]

    @api.depends(
        "outbound_next_call_at",
        "outbound_playbook_id.overdue_grace",
        "active",
        "outbound_is_final",
        "outbound_status_id.activity_type_id",
    )
    def _compute_outbound_redial_overdue(self):
        overdue = self.filtered_domain(self._outbound_overdue_domain())
        for lead in self:
            lead.outbound_redial_overdue = lead in overdue

    def _search_outbound_redial_overdue(self, operator, value):
        return self._outbound_boolean_search("outbound_redial_overdue", operator, value, self._outbound_overdue_domain)

    @api.depends(
        "outbound_playbook_id", "active", "outbound_is_final", "stage_id.is_won", "outbound_status_id.lead_action"
    )
    def _compute_outbound_task_broken(self):
        governed = self._origin.filtered_domain(self._outbound_governed_domain())
        counts = dict(
            self.env["mail.activity"]
            .sudo()
            ._read_group([("res_model", "=", self._name), ("res_id", "in", governed.ids)], ["res_id"], ["__count"])
        )
        for lead in self:
            lead.outbound_task_broken = lead._origin in governed and counts.get(lead._origin.id) != 1

    def _search_outbound_task_broken(self, operator, value):
        return self._outbound_boolean_search("outbound_task_broken", operator, value, self._outbound_task_broken_domain)

    @api.model
    def _outbound_boolean_search(self, field_name, operator, value, true_domain):
        """The domain of the search ``(field_name, operator, value)`` on a boolean field
        whose true value is the domain ``true_domain()``, called only when needed."""
        equality = equality_search_values(operator, value)
        if not equality:
            raise UserError(
                _(
                    "%(field)s cannot be searched with %(operator)s %(value)s: search it with = or != True or False.",
                    field=self._fields[field_name]._description_string(self.env),
                    operator=operator,
                    value=value,
                )
            )
        positive, values = equality
        wanted = {bool(v) for v in values} if positive else {True, False} - {bool(v) for v in values}
        if len(wanted) != 1:
            return [] if wanted else [("id", "=", False)]
        domain = true_domain()
        return domain if wanted == {True} else domain_not(domain)

    # ------------------------------------------------------------
    # RULES: each written once, as a domain (STYLE.md "One definition per rule")
    # ------------------------------------------------------------

    @api.model
    def _outbound_governed_domain(self):
        """Governed (DESIGN.md rule 1): the leads that must have exactly one pending task,
        open leads of a playbook team that are not in a final status."""
        return [
            ("outbound_playbook_id", "!=", False),
            ("active", "=", True),
            ("outbound_is_final", "=", False),
            # A won lead keeps a task only when its status won it and asks for more
            # (004: a client's next task is the renewal).
            "|",
            "|",
            ("stage_id", "=", False),
            ("stage_id.is_won", "=", False),
            ("outbound_status_id.lead_action", "=", "won"),
        ]

    @api.model
    def _outbound_task_broken_domain(self):
        """Governed leads with no pending task or several: what the repair cron repairs."""
        broken = self._search(self._outbound_governed_domain())
        broken.add_where(self._outbound_task_broken_sql())
        return [("id", "in", broken)]

    @api.model
    def _outbound_task_broken_sql(self):
        """The SQL condition, over ``crm_lead``, that a governed lead has not exactly one
        pending task: no field holds the count (it is the activities' own)."""
        # Our own SQL: the ORM flushes the fields of a domain, not these.
        self.env["mail.activity"].flush_model(["res_model", "res_id", "active"])
        return SQL(
            """(SELECT count(*) FROM mail_activity AS activity
                 WHERE activity.res_model = %s AND activity.res_id = %s AND activity.active) != 1""",
            self._name,
            SQL.identifier(self._table, "id"),
        )

    @api.model
    def _outbound_due_domain(self):
        """Due (DESIGN.md rule 2): the time of the next call has come."""
        return [("outbound_next_call_at", "<=", fields.Datetime.now())]

    @api.model
    def _outbound_overdue_domain(self):
        """Overdue (DESIGN.md rule 3): the next call is late by more than its playbook's
        overdue grace."""
        now = fields.Datetime.now()
        return self._outbound_per_playbook_domain(
            lambda playbook: [
                ("outbound_next_call_at", "<=", now - timedelta(hours=playbook.overdue_grace)),
                *self._outbound_redial_domain(),
            ]
        )

    @api.model
    def _outbound_below_daily_target_domain(self):
        """Below today's target (DESIGN.md rule 3): in its first days, called fewer times
        today than its playbook asks."""
        today = self._outbound_today()
        return self._outbound_per_playbook_domain(
            lambda playbook: [
                ("outbound_first_days_end", ">=", today),
                ("outbound_attempts_today", "<", playbook.attempts_per_day),
                *self._outbound_not_waiting_domain(),
            ]
        )

    @api.model
    def _outbound_per_playbook_domain(self, playbook_domain):
        """The open leads (active, not in a final status) of each playbook that match
        ``playbook_domain(playbook)``: for rules whose threshold is a playbook setting."""
        playbooks = self.env["crm.outbound.playbook"].with_context(active_test=False).search([])
        matching = domain_or(
            [("outbound_playbook_id", "=", playbook.id), *playbook_domain(playbook)] for playbook in playbooks
        )
        return domain_and([[("active", "=", True), ("outbound_is_final", "=", False)], matching])

    @api.model
    def _outbound_network_result_domain(self):
        """The leads whose network siblings are to be marked (DESIGN.md rule 4): open
        leads whose status is a result. Which of them have siblings still to mark is the
        sibling finder's answer (``_outbound_sibling_query``)."""
        return [("active", "=", True), ("outbound_status_id.is_result", "=", True)]

    @api.depends("outbound_network_sibling_ids")
    def _compute_outbound_network_sibling_count(self):
        # Siblings may be archived: the seed's network status marks them lost.
        counts = dict(
            self.with_context(active_test=False)._read_group(
                [("outbound_network_head_id", "in", self._origin.ids)], ["outbound_network_head_id"], ["__count"]
            )
        )
        for lead in self:
            lead.outbound_network_sibling_count = counts.get(lead._origin, 0)

    @api.depends("partner_id.commercial_partner_id.parent_id.commercial_partner_id")
    def _compute_outbound_network_partner_id(self):
        for lead in self:
            company = lead.partner_id.commercial_partner_id
            # A branch (a company of its own) under a head company belongs to the head's network.
            lead.outbound_network_partner_id = company.parent_id.commercial_partner_id or company

    @api.depends("website")
    def _compute_outbound_website_domain(self):
        for lead in self:
            lead.outbound_website_domain = self._outbound_url_domain(lead.website)

    @api.model
    def _outbound_url_domain(self, url):
        """The host of ``url``, lower case, without ``www.``: ``https://www.Acme.ru/shop`` → ``acme.ru``."""
        url = (url or "").strip()
        if not url:
            return False
        try:
            host = urlsplit(url if "//" in url else f"//{url}").hostname
        except ValueError:
            return False
        if not host or "." not in host:
            return False
        return host.removeprefix("www.")

    def _compute_outbound_network_unmarked(self):
        results = self.filtered_domain(self._outbound_network_result_domain())
        unmarked = results._outbound_with_unmarked_siblings()
        for lead in self:
            lead.outbound_network_unmarked = lead in unmarked

    def _search_outbound_network_unmarked(self, operator, value):
        return self._outbound_boolean_search(
            "outbound_network_unmarked", operator, value, self._outbound_network_unmarked_domain
        )

    @api.model
    def _outbound_network_unmarked_domain(self):
        results = self._search(self._outbound_network_result_domain())
        results.order = None
        query = self._outbound_sibling_query(results.select(), unmarked_only=True)
        return [("id", "in", [row[0] for row in self.env.execute_query(query.select(SQL("DISTINCT pairs.src_id")))])]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model
    def _read_group_outbound_status_ids(self, statuses, domain):
        """Show every status of the playbooks in view as a kanban column, in catalog
        order, even when no lead has it yet."""
        playbook_id = self.env.context.get("crm_outbound_playbook_id")
        if playbook_id:
            playbook_ids = [playbook_id]
        else:
            playbook_ids = [
                playbook.id for [playbook] in self._read_group(domain, ["outbound_playbook_id"]) if playbook
            ]
        return statuses.search(["|", ("id", "in", statuses.ids), ("playbook_id", "in", playbook_ids)])

    # Not on team_id: a lead that changes teams leaves a status of its old playbook
    # behind (write), it does not fail.
    @api.constrains("outbound_status_id", "outbound_comment_code_id")
    def _check_outbound_status(self):
        for lead in self:
            lead.outbound_status_id._check_in_playbook(lead.outbound_playbook_id)
            lead.outbound_comment_code_id._check_in_status(lead.outbound_status_id)

    @api.onchange("outbound_status_id")
    def _onchange_outbound_status_id(self):
        if self.outbound_comment_code_id.status_id != self.outbound_status_id:
            self.outbound_comment_code_id = False

    @api.model_create_multi
    def create(self, vals_list):
        own = self._outbound_is_own()
        if not own:
            self._outbound_check_facts(vals_list)
        leads = super().create(vals_list)
        if not own:
            # A lead imported or created lost enters its playbook lost: the gate holds it.
            leads.filtered(lambda lead: not lead.active)._outbound_pass_lost_gate(entering=True)
            with_status = leads.filtered("outbound_status_id")
            for status, status_leads in with_status.grouped("outbound_status_id").items():
                status_leads._outbound_apply_status(status, status_leads.outbound_comment_code_id[:1])
            (leads - with_status)._outbound_ensure_task()
        # A lead never called must be in progress too, so the nightly cron can find it missed.
        leads.filtered("outbound_first_days_start")._outbound_update_first_days()
        return leads

    def write(self, vals):
        if self._outbound_is_own():
            # The module's own code applies the rules itself (see OWN_WRITE).
            res = super().write(self._outbound_restore_vals(vals))
            self._outbound_mark_closing_calls(vals)
            return res
        self._outbound_check_facts([vals])
        self._outbound_gate_archive(vals)
        vals = self._outbound_restore_vals(vals)
        lost_outside = self._outbound_lost_outside_playbooks(vals)
        self._outbound_leave_status_for_team(vals)
        res = super().write(vals)
        lost_outside._outbound_gate_entering_lost()
        self._outbound_leave_status_for_salesperson(vals)
        self._outbound_apply_written_status(vals)
        self._outbound_follow_salesperson(vals)
        self._outbound_restart_first_days(vals)
        self._outbound_mark_closing_calls(vals)
        return res

    # Each step of write(), in the order it runs: the lost gate and what a write changes
    # before Odoo writes, then the rules the written values trigger.

    def _outbound_gate_archive(self, vals):
        # Every route to lost archives the lead (the lost dialog, action_set_lost, a lost
        # status, the archive action, an import): the lost gate sits here, before anything else.
        if "active" in vals and not vals["active"]:
            self.filtered("active")._outbound_pass_lost_gate(lost_reason_id=vals.get("lost_reason_id"))

    def _outbound_restore_vals(self, vals):
        """``vals``, with the lost marks cleared when it restores a lost lead of ``self``."""
        if vals.get("active") and not all(self.mapped("active")):
            # A restored lead is no longer lost: its marks would count it in the lists.
            return {**vals, **dict.fromkeys(LOST_MARK_FIELDS, False)}
        return vals

    def _outbound_lost_outside_playbooks(self, vals):
        """The lost leads of ``self`` that ``vals`` may move into a playbook team."""
        if {"team_id", "user_id"} & set(vals):
            return self.filtered(lambda lead: not lead.active and not lead.outbound_playbook_id)
        return self.browse()

    def _outbound_gate_entering_lost(self):
        # A lost lead moved from outside outbound calling into a playbook team enters it
        # lost: the gate holds it as if it were lost there (no detour round the gate).
        self.filtered(lambda lead: not lead.active)._outbound_pass_lost_gate(entering=True)

    def _outbound_leave_status_for_team(self, vals):
        # A status belongs to one playbook: leads moved to a team with another playbook
        # (or none) leave their status behind instead of failing the consistency check.
        if "team_id" in vals and "outbound_status_id" not in vals:
            self._outbound_clear_foreign_status(self.env["crm.team"].browse(vals["team_id"]).outbound_playbook_id)

    def _outbound_leave_status_for_salesperson(self, vals):
        # Odoo moves a lead to its new salesperson's team when the old one lacks them.
        if "user_id" in vals and "team_id" not in vals:
            for playbook, leads in self.grouped("outbound_playbook_id").items():
                leads._outbound_clear_foreign_status(playbook)

    def _outbound_apply_written_status(self, vals):
        # A status written by hand (a form, a list, an import) is applied: its cadence, its
        # outcome, its task. Other changes may make a lead start or stop needing a task.
        if "outbound_status_id" in vals:
            status = self.env["crm.outbound.status"].browse(vals["outbound_status_id"])
            code = self.env["crm.outbound.comment.code"].browse(vals.get("outbound_comment_code_id"))
            self._outbound_apply_status(status, code, agreed_at=vals.get("outbound_agreed_at"))
        elif TASK_TRIGGER_FIELDS & set(vals):
            self._outbound_ensure_task()

    def _outbound_follow_salesperson(self, vals):
        # The task follows the lead; the new salesperson hears of the lead from Odoo's
        # assignment notice, not once more for its task.
        if "user_id" in vals:
            self._outbound_pending_tasks().with_context(mail_activity_quick_update=True).write(
                {"user_id": vals["user_id"] or self.env.uid}
            )

    def _outbound_restart_first_days(self, vals):
        # A new assignment starts new first days.
        if {"user_id", "team_id", "date_open"} & set(vals):
            self._outbound_update_first_days()

    def _outbound_mark_closing_calls(self, vals):
        # Lost, won, reopened or a new revenue: the calls that closed and won the leads
        # say so (the KPI report reads them there).
        if CLOSING_TRIGGER_FIELDS & set(vals):
            self.env["crm.outbound.call"]._outbound_mark_closings(self.filtered("outbound_last_call_at"))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_outbound_calls(self):
        # Deleting a lead would delete its calls (DESIGN.md rule 6: nobody deletes them).
        if self.env.su:
            return
        counts = dict(
            self.env["crm.outbound.call"].sudo()._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
        )
        if counts:
            lead, count = next(iter(counts.items()))
            raise UserError(
                _(
                    "Lead %(lead)s has %(count)s logged calls, and calls are never deleted: mark it lost, "
                    "archive it or merge it into another lead instead.",
                    lead=lead.display_name,
                    count=count,
                )
            )

    def _outbound_is_own(self):
        """Whether the module's own code is writing (see ``OWN_WRITE``)."""
        return is_own_write(self)

    def _outbound_own(self):
        """``self`` for the module's own writes: facts allowed, no write side effects."""
        return own_write(self)

    def _outbound_write_facts(self, vals):
        """The one writer of the facts of ``FACT_FIELDS`` (counters, streaks, flags,
        marks, segment, next call…), which users may only read."""
        return self._outbound_own().write(vals)

    @api.model
    def _outbound_fact_fields(self):
        return set(FACT_FIELDS)

    @api.model
    def _outbound_check_facts(self, vals_list):
        """Refuse a user's values for the facts the module derives from the calls."""
        facts = self._outbound_fact_fields()
        written = sorted({fname for vals in vals_list for fname in vals if fname in facts})
        if written:
            labels = ", ".join(f"{self._fields[fname]._description_string(self.env)} ({fname})" for fname in written)
            raise AccessError(
                _(
                    "%(fields)s cannot be written: counters, streaks, flags and marks are facts that the "
                    "module derives from the logged calls. Log a call (or ask a supervisor to override the "
                    "lost gate) instead.",
                    fields=labels,
                )
            )

    def _merge_dependences(self, opportunities):
        # The calls of the merged leads are the surviving lead's history now (DESIGN.md rule 6).
        calls = self.env["crm.outbound.call"].sudo().search([("lead_id", "in", opportunities.ids)])
        calls.write({"lead_id": self.id})
        res = super()._merge_dependences(opportunities)
        self._outbound_recount_calls()
        return res

    def _merge_opportunity(self, user_id=False, team_id=False, auto_unlink=True, max_length=5):
        open_leads = self.filtered(lambda lead: lead.active and lead.outbound_playbook_id)
        merged = super()._merge_opportunity(
            user_id=user_id, team_id=team_id, auto_unlink=auto_unlink, max_length=max_length
        )
        if open_leads and not merged.active:
            # Open leads merged into a lost one end lost: the gate holds the merge too.
            merged._outbound_pass_lost_gate(entering=True)
        return merged

    # Odoo logs the tracking message of each lead on its own (``_message_log``: its
    # author, reply-to and INSERTs, 5 ms a lead); a call applied to a thousand leads at
    # once changes their status together. Their tracking messages are still built by
    # Odoo's own ``_message_log``, then created in one batch, their tracked values in
    # another (``_mail_track`` gives them as create commands).
    def _message_track(self, fields_iter, initial_values_dict):
        deferred = self.env.cr.precommit.data
        if len(self) < 2 or DEFERRED_TRACKING_LOGS in deferred:
            return super()._message_track(fields_iter, initial_values_dict)
        deferred[DEFERRED_TRACKING_LOGS] = values_list = []
        try:
            # Only our own _message_log defers: not a caller's context (an RPC client's).
            tracking = super(CrmLead, self.with_context(crm_outbound_defer_message=False))._message_track(
                fields_iter, initial_values_dict
            )
        finally:
            del deferred[DEFERRED_TRACKING_LOGS]
        if values_list:
            # Their tracked values too: Odoo creates each message's on its own.
            commands = [
                values.pop("tracking_value_ids") if _only_creates(values.get("tracking_value_ids")) else []
                for values in values_list
            ]
            messages = self.sudo()._message_create(values_list)
            self.env["mail.tracking.value"].sudo().create(
                [
                    {**command[2], "mail_message_id": message.id}
                    for message, message_commands in zip(messages, commands, strict=True)
                    for command in message_commands
                ]
            )
        return tracking

    def _message_log(self, **kwargs):
        if DEFERRED_TRACKING_LOGS not in self.env.cr.precommit.data or not kwargs.get("tracking_value_ids"):
            return super()._message_log(**kwargs)
        return super(CrmLead, self.with_context(crm_outbound_defer_message=True))._message_log(**kwargs)

    def _message_create(self, values_list):
        if self.env.context.get("crm_outbound_defer_message") and DEFERRED_TRACKING_LOGS in self.env.cr.precommit.data:
            self.env.cr.precommit.data[DEFERRED_TRACKING_LOGS].extend(values_list)
            return self.env["mail.message"].sudo()
        return super()._message_create(values_list)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_lost(self, **additional_values):
        if self._outbound_is_own():  # through _outbound_set_lost, past the gate
            return super().action_set_lost(**additional_values)
        self._outbound_check_facts([additional_values])
        res = self._outbound_set_lost(additional_values.get("lost_reason_id") or False)
        others = {key: value for key, value in additional_values.items() if key != "lost_reason_id"}
        if others:
            self.write(others)
        return res

    def action_outbound_lost_override(self):
        """Open the supervisor's dialog that marks these leads lost below the minimum."""
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_outbound.crm_lead_lost_override_action")
        action["context"] = {"default_lead_ids": self.ids}
        return action

    def action_outbound_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_outbound.crm_outbound_call_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"default_lead_id": self.id, "create": False}
        return action

    def action_outbound_log_call(self):
        """Open the Log call dialog for these leads."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Log Call"),
            "res_model": "crm.lead.log.call",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    def action_outbound_network_mark(self):
        """Open the Mark network siblings dialog for these leads."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Mark Network Siblings"),
            "res_model": "crm.lead.network.mark",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": self.ids},
        }

    def action_outbound_network_siblings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Network Siblings of %(lead)s", lead=self.display_name),
            "res_model": "crm.lead",
            "view_mode": "list,kanban,form",
            "domain": [("outbound_network_head_id", "=", self.id)],
            # The seed's network status marks the siblings lost, which archives them.
            "context": {"create": False, "active_test": False},
        }

    def action_outbound_network_head(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "view_mode": "form",
            "res_id": self.outbound_network_head_id.id,
        }

    # ------------------------------------------------------------
    # BUSINESS: calls
    # ------------------------------------------------------------

    def outbound_log_call(self, vals):
        """Log one call on each lead of ``self`` and apply its status (DESIGN.md).

        :param dict vals: ``status_id`` (required), ``comment_code_id``, ``note``,
            ``duration`` (seconds, default 0), ``call_at`` (UTC, default now),
            ``agreed_at`` (the date the status asks for), ``recording_url``
        :return: the ids of the new ``crm.outbound.call`` records
        :raise UserError/ValidationError: on wrong input, before anything is written
        """
        if not self:
            return []
        # Calls are created by the module: the user must be one who may work the leads.
        self.check_access("write")
        return self._outbound_log_call(vals).ids

    def _outbound_log_call(self, vals, operator=None, source="manual"):
        """``outbound_log_call`` on behalf of ``operator`` (a user, default the
        current one) from ``source``: the Log call dialog, RPC and demo data."""
        if not self:
            return self.env["crm.outbound.call"]
        if isinstance(operator, int):
            operator = self.env["res.users"].browse(operator)
        call = self._outbound_check_call_vals(vals)
        return self._outbound_log_checked_call(call, operator=operator, source=source)

    def _outbound_log_checked_call(
        self, call, extra_vals=None, unmatched=None, operator=None, source="manual", apply_status=True
    ):
        """Log the call ``call`` (as ``_outbound_check_call_vals`` returns it) on each
        lead of ``self``: count it, then apply its status when it has one.

        Telephony reports answered calls without a status: they count as an attempt
        (and a touch) and leave the status for the operator to set. A status that loses
        a lead below its playbook's minimum of attempts is held by the lost gate: the
        call is kept and counted all the same (DESIGN.md rules 3 and 6).

        :param dict extra_vals: more values of the new calls (telephony's external id)
        :param unmatched: a stored call without a lead, which becomes the call of the
            single lead of ``self`` instead of a new one
        :param operator: the user who made the call (default: the current user)
        :param str source: a key of ``CALL_SOURCES``
        :param bool apply_status: False to only store and count the call (telephony
            applies the status on its own, so that a refused status keeps the call)
        :return: the ``crm.outbound.call`` records
        """
        vals_list = [
            {**self._prepare_call_vals(lead, call, operator=operator, source=source), **(extra_vals or {})}
            for lead in self
        ]
        if unmatched:
            self.ensure_one()
            unmatched.ensure_one()
            # A logged call is locked for users (its write()); attaching is ours to do.
            unmatched.sudo().write(vals_list[0])
            calls = unmatched.with_env(self.env)
        else:
            calls = self.env["crm.outbound.call"]._outbound_create(vals_list)
        self._outbound_count_calls(calls)
        self._outbound_update_first_days()
        if call["status"] and apply_status:
            self._outbound_apply_call_status(
                call["status"],
                call["code"],
                comment=call["note"],
                agreed_at=call["agreed_at"],
                base_at=call["call_at"],
                calls=calls,
            )
        return calls

    def _outbound_apply_call_status(self, status, code, comment=None, agreed_at=None, base_at=None, calls=None):
        """Apply the status of a logged call (``calls``, one per lead) to the leads of
        ``self``; the lost gate holds those it would lose below the minimum open with
        their next attempt (DESIGN.md rules 3 and 6). ``base_at``: as for
        ``_outbound_apply_status``. A won lead keeps its status, stage and task when
        the call went unanswered: the call is counted, and its operator told."""
        unmoved = self._outbound_unmoved_by(status)
        if unmoved:
            unmoved._outbound_tell_unmoved(status, calls)
        leads = self - unmoved
        held = leads._outbound_held_by_gate(status)
        if leads - held:
            (leads - held)._outbound_apply_status(status, code, comment=comment, agreed_at=agreed_at, base_at=base_at)
        if held:
            held._outbound_keep_open(status, base_at, comment, calls)

    def _outbound_unmoved_by(self, status, reported=False):
        """The leads of ``self`` that a call with ``status`` does not move: a won lead
        is not reopened, redialled or lost by an unanswered call (DESIGN.md rule 6: a
        won lead stays won); nor, when telephony reports the call (``reported``), is a
        lead in a final status. An operator who calls a lead in a final status (one
        restored from lost) and gets no answer moves it on purpose."""
        if status.outcome != "no_answer":
            return self.browse()
        return self.filtered(lambda lead: lead.stage_id.is_won or (reported and lead.outbound_is_final))

    def _outbound_tell_unmoved(self, status, calls=None):
        """Tell the operators of ``calls`` that their leads in ``self`` kept their
        status (``_outbound_unmoved_by``)."""
        lines = {
            lead: _(
                "%(lead)s is won: it keeps its status; the call (%(status)s) is logged and counted.",
                lead=lead.display_name,
                status=status.display_name,
            )
            for lead in self
        }
        self._outbound_warn_operators(lines, calls, _("Status kept"))

    def _outbound_warn_operators(self, lines, calls, title, sticky=False, supervisor_line=None):
        """Send each operator one warning with the ``lines`` ({lead: text}) of their
        leads (the first five): the operator of the lead's call in ``calls``, else its
        salesperson, never the integration user whose key reported the call.
        ``supervisor_line`` ends the warning of a supervisor."""
        operator_by_lead = {call.lead_id: call.user_id for call in calls or ()}
        lines_by_operator = defaultdict(list)
        for lead, line in lines.items():
            lines_by_operator[operator_by_lead.get(lead) or lead.user_id or self.env.user].append(line)
        for operator, operator_lines in lines_by_operator.items():
            more = len(operator_lines) - 5
            shown = operator_lines[:5] + ([f"(+{more})"] if more > 0 else [])
            if supervisor_line and self._outbound_is_supervisor(operator):
                shown.append(supervisor_line)
            operator._bus_send(
                "simple_notification",
                {"type": "warning", "sticky": sticky, "title": title, "message": "\n".join(shown)},
            )

    def _outbound_held_by_gate(self, status):
        """The leads of ``self`` that ``status`` would mark lost below the minimum of
        call attempts, in a playbook that blocks such losses."""
        if status.lead_action != "lost" or status.lost_gate_exempt:
            return self.browse()
        return (
            self.filtered("active")
            ._outbound_below_minimum()
            .filtered(lambda lead: lead.outbound_playbook_id.lost_gate_mode == "block")
        )

    def _outbound_keep_open(self, status, base_at, note=None, calls=None):
        """The lost gate held the leads of ``self``: their call is logged with ``status``
        and counted, and each lead stays open with its next attempt, due after the
        redial cadence's next delay. Its operator is told how many attempts remain."""
        now = fields.Datetime.now()
        next_at_by_lead = {
            lead: lead._outbound_next_attempt_at(
                (base_at.get(lead.id) if isinstance(base_at, dict) else base_at) or now
            )
            for lead in self
        }
        self._outbound_replace_task(next_at_by_lead, feedback=note or status.display_name)
        bodies, lines = {}, {}
        for lead in self:
            minimum = lead.outbound_playbook_id.min_attempts_before_lost
            message = _(
                "The call is logged as %(status)s, but lead %(lead)s stays open: it has %(count)s call attempts "
                "and its playbook asks for %(minimum)s before a lead may be marked lost. %(remaining)s attempts "
                "remain; the next call is due %(next)s.",
                status=status.display_name,
                lead=lead.display_name,
                count=lead.outbound_attempt_count,
                minimum=minimum,
                remaining=minimum - lead.outbound_attempt_count,
                next=format_datetime(lead.env, next_at_by_lead[lead], dt_format="short"),
            )
            bodies[lead.id] = Markup("<p>%s</p>") % message
            lines[lead] = message
        self._message_log_batch(bodies=bodies)
        self._outbound_warn_operators(
            lines,
            calls,
            _("Not lost yet"),
            sticky=True,
            supervisor_line=_("As a supervisor you may mark it lost with Override, giving a reason."),
        )

    def _outbound_next_attempt_at(self, base_at):
        """When the lead's next attempt is due after a call at ``base_at`` that did not
        close it: after the redial cadence's delay for its current streak."""
        self.ensure_one()
        steps = self.outbound_playbook_id.cadence_step_ids
        if steps:
            step = steps[min(max(self.outbound_no_answer_count, 1), len(steps)) - 1]
            due = base_at + step._get_delay()
        else:
            due = base_at + timedelta(days=1)
        return self.team_id._outbound_next_working_time(due)

    def _outbound_check_call_vals(self, vals, status_required=True):
        """Validate the values of ``outbound_log_call`` for every lead of ``self``;
        return them parsed, with records for ids. Without ``status_required``, a call
        may come without a status (an answered call reported by telephony)."""
        if not isinstance(vals, dict):
            raise UserError(_("outbound_log_call takes a dictionary of values, not %(value)r.", value=vals))
        unknown = set(vals) - LOG_CALL_KEYS
        if unknown:
            raise UserError(
                _(
                    "outbound_log_call does not know the keys %(keys)s; it takes %(allowed)s.",
                    keys=", ".join(sorted(unknown)),
                    allowed=", ".join(sorted(LOG_CALL_KEYS)),
                )
            )
        if status_required and not vals.get("status_id"):
            raise UserError(_("A call needs its status (status_id)."))
        status = self._outbound_browse_id("crm.outbound.status", "status_id", vals["status_id"])
        code = self._outbound_browse_id("crm.outbound.comment.code", "comment_code_id", vals.get("comment_code_id"))
        for lead in self:
            if not lead.outbound_playbook_id:
                raise UserError(
                    _(
                        "Lead %(lead)s is not in a sales team with an outbound playbook: no call can be logged on it.",
                        lead=lead.display_name,
                    )
                )
            status._check_in_playbook(lead.outbound_playbook_id)
        code._check_in_status(status)
        note = (vals.get("note") or "").strip()
        if (status.comment_required or code.comment_required) and not note:
            raise UserError(
                _(
                    "Status %(status)s needs a comment: write it in the note.",
                    status=code.name if code.comment_required else status.display_name,
                )
            )
        duration = self.env["crm.outbound.call"]._outbound_check_duration(vals.get("duration") or 0)
        call_at = self._outbound_parse_datetime("call_at", vals.get("call_at")) or fields.Datetime.now()
        agreed_at = self._outbound_parse_datetime("agreed_at", vals.get("agreed_at"))
        self._outbound_check_agreed_at(agreed_at, call_at)
        if status.task_timing == "agreed" and not agreed_at and not code.override_delay:
            raise UserError(
                _(
                    "Status %(status)s asks for a date (%(label)s): give it as agreed_at.",
                    status=status.display_name,
                    label=status.agreed_date_label,
                )
            )
        return {
            "status": status,
            "code": code,
            "note": note,
            "duration": duration,
            "call_at": call_at,
            "agreed_at": agreed_at,
            "recording_url": vals.get("recording_url") or False,
            "answered": status.outcome != "no_answer",
        }

    def _outbound_browse_id(self, model, key, value):
        """The record of ``model`` whose id is ``value`` (an empty one for none); a
        record the module already read (telephony resolves a batch's statuses at once)
        is taken as it is: JSON-RPC cannot pass one, so a user's value is still checked."""
        if not value:
            return self.env[model]
        if isinstance(value, models.BaseModel) and value._name == model:
            return value
        record = self.env[model].browse(value).exists() if isinstance(value, int) and value > 0 else None
        if not record:
            raise UserError(_("%(key)s = %(value)r is not an existing %(model)s.", key=key, value=value, model=model))
        return record

    def _outbound_parse_datetime(self, key, value):
        if not value:
            return False
        try:
            moment = fields.Datetime.to_datetime(value)
        except (ValueError, TypeError):
            raise UserError(
                _("%(key)s = %(value)r is not a date and time (UTC, 'YYYY-MM-DD HH:MM:SS').", key=key, value=value)
            ) from None
        return self.env["crm.outbound.call"]._outbound_check_moment(key, moment)

    @api.model
    def _prepare_call_vals(self, lead, call, operator=None, source="manual"):
        """The values of the call ``call`` on ``lead`` (none for a call kept without a
        lead), made by ``operator`` (default the current user; an empty recordset for
        none) and reported by ``source``."""
        status = call["status"]
        return {
            "lead_id": lead.id,
            "partner_id": lead.partner_id.id,
            "user_id": operator.id if operator is not None else self.env.uid,
            "team_id": lead.team_id.id,
            "playbook_id": lead.outbound_playbook_id.id,
            "company_id": (lead.company_id or self.env.company).id,
            "call_at": call["call_at"],
            "duration": call["duration"],
            "answered": call["answered"],
            # Nobody picked up: the ringing time is no conversation.
            "is_touch": bool(
                lead and call["answered"] and call["duration"] > lead.outbound_playbook_id.touch_threshold
            ),
            "status_id": status.id,
            "comment_code_id": call["code"].id,
            "note": call["note"] or False,
            "agreed_at": call["agreed_at"],
            "recording_url": call["recording_url"],
            "source": source,
        }

    def _outbound_count_calls(self, calls):
        """Add ``calls`` to their leads' counters in one grouped UPDATE.

        At most one call per lead: the streak and the day counter depend on the order."""
        rows = []
        for call in calls:
            tz = pytz.timezone(call.user_id.tz or self.env.user.tz or "UTC")
            local_day = pytz.utc.localize(call.call_at).astimezone(tz).date()
            rows.append(
                SQL(
                    "(%s, %s, %s, %s::date, %s::timestamp)",
                    call.lead_id.id,
                    call.answered,
                    call.is_touch,
                    local_day,
                    call.call_at,
                )
            )
        counters = [
            "outbound_attempt_count",
            "outbound_touch_count",
            "outbound_no_answer_count",
            "outbound_attempts_date",
            "outbound_attempts_day_count",
            "outbound_last_call_at",
        ]
        self.flush_recordset(counters)
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead AS lead SET
                    outbound_attempt_count = COALESCE(lead.outbound_attempt_count, 0) + 1,
                    outbound_touch_count = COALESCE(lead.outbound_touch_count, 0) + c.touch::int,
                    outbound_no_answer_count =
                        CASE WHEN c.answered THEN 0 ELSE COALESCE(lead.outbound_no_answer_count, 0) + 1 END,
                    outbound_attempts_day_count = CASE WHEN lead.outbound_attempts_date = c.day
                        THEN COALESCE(lead.outbound_attempts_day_count, 0) + 1 ELSE 1 END,
                    outbound_attempts_date = GREATEST(lead.outbound_attempts_date, c.day),
                    outbound_last_call_at = GREATEST(lead.outbound_last_call_at, c.call_at)
                FROM (VALUES %s) AS c(lead_id, answered, touch, day, call_at)
                WHERE lead.id = c.lead_id
                """,
                SQL(", ").join(rows),
            )
        )
        self.invalidate_recordset(counters)
        # Computed fields that depend on the counters (attempts today) must recompute.
        self.modified(counters)
        # A call on a lead already lost or won (an unanswered call on a won lead) is
        # its last call now: it carries the closing.
        closed = self.filtered(lambda lead: not lead.active or lead.stage_id.is_won)
        self.env["crm.outbound.call"]._outbound_mark_closings(closed)

    def _outbound_recount_calls(self):
        """Count the calls of the leads of ``self`` again from scratch (after a merge
        brought them another lead's calls)."""
        self.env["crm.outbound.call"].flush_model()
        calls = self.env["crm.outbound.call"].sudo().search([("lead_id", "in", self.ids)], order="call_at, id")
        for lead in self:
            lead_calls = calls.filtered(lambda call, lead=lead: call.lead_id == lead)
            facts = {
                "outbound_attempt_count": len(lead_calls),
                "outbound_touch_count": len(lead_calls.filtered("is_touch")),
                "outbound_no_answer_count": 0,
                "outbound_last_call_at": max(lead_calls.mapped("call_at"), default=False),
                "outbound_attempts_date": False,
                "outbound_attempts_day_count": 0,
            }
            for call in lead_calls:
                facts["outbound_no_answer_count"] = 0 if call.answered else facts["outbound_no_answer_count"] + 1
                tz = pytz.timezone(call.user_id.tz or self.env.user.tz or "UTC")
                day = pytz.utc.localize(call.call_at).astimezone(tz).date()
                if day == facts["outbound_attempts_date"]:
                    facts["outbound_attempts_day_count"] += 1
                elif not facts["outbound_attempts_date"] or day > facts["outbound_attempts_date"]:
                    facts["outbound_attempts_date"], facts["outbound_attempts_day_count"] = day, 1
            lead._outbound_write_facts(facts)
        self.env["crm.outbound.call"]._outbound_mark_closings(self)
        self._outbound_update_first_days()
        self._outbound_update_segments()

    # ------------------------------------------------------------
    # BUSINESS: calling discipline (DESIGN.md rule 3)
    # ------------------------------------------------------------

    def _outbound_local_day(self, at):
        """The day of the naive UTC datetime ``at`` in the lead's team's time zone."""
        self.ensure_one()
        tz = pytz.timezone(self.team_id._outbound_tz(self.user_id))
        return pytz.utc.localize(at).astimezone(tz).date()

    def _outbound_set_lost(self, lost_reason_id=False, status=None, override_reason=None, exhausted=False):
        """Mark the leads of ``self`` lost with ``lost_reason_id``, through the lost gate.

        :param status: the lost status the leads get, offered again by the override dialog
        :param str override_reason: a supervisor's reason for losing them below the minimum
        :param bool exhausted: the playbook's own redial cadence closes them (no operator
            decides): the gate does not hold them
        """
        if not exhausted:
            self._outbound_pass_lost_gate(lost_reason_id=lost_reason_id, status=status, override_reason=override_reason)
        # The gate has decided: the archive itself is the module's own write.
        return self._outbound_own().action_set_lost(lost_reason_id=lost_reason_id)

    def _outbound_below_minimum(self):
        """The leads of ``self`` (about to be) lost with fewer call attempts than their
        playbook's minimum, in a status that does not exempt them, with no mark yet."""
        return self.filtered(
            lambda lead: (
                lead.outbound_playbook_id
                and not lead.stage_id.is_won
                and not lead.outbound_status_id.lost_gate_exempt
                and not lead.outbound_lost_override
                and not lead.outbound_lost_improperly
                and lead.outbound_attempt_count < lead.outbound_playbook_id.min_attempts_before_lost
            )
        )

    def _outbound_pass_lost_gate(self, lost_reason_id=False, status=None, override_reason=None, entering=False):
        """Check the leads of ``self``, about to be marked lost, against their playbook's
        minimum of call attempts (DESIGN.md rule 3), and record what the gate lets through.

        Below the minimum, an operator is refused (block mode); a supervisor is sent to
        the override dialog unless ``override_reason`` is given; code running as
        superuser is not refused, the loss is flagged. In flag mode every loss is let
        through and flagged. Flags and overrides are stored and logged with their author.

        :param bool entering: the leads are lost already and enter a playbook (moved
            from a team without one, imported, created or merged lost): an operator is
            refused, anyone else's move is flagged
        """
        below = self._outbound_below_minimum()
        if not below:
            return
        if override_reason:
            self._outbound_check_supervisor(_("Marking a lead lost below the minimum of call attempts"))
            below._outbound_mark_lost_below_minimum(override_reason=override_reason)
            return
        flagged = below.filtered(lambda lead: lead.outbound_playbook_id.lost_gate_mode == "flag")
        blocked = below - flagged
        supervisor = self._outbound_is_supervisor()
        if blocked and (self.env.su or (entering and supervisor)):
            flagged, blocked = below, blocked.browse()
        if blocked:
            message = "\n".join(
                _(
                    "Lead %(lead)s has %(count)s call attempts; at least %(minimum)s are needed before it may be "
                    "marked lost.",
                    lead=lead.display_name,
                    count=lead.outbound_attempt_count,
                    minimum=lead.outbound_playbook_id.min_attempts_before_lost,
                )
                for lead in blocked[:10]
            )
            if not supervisor:
                raise UserError(_("%(message)s\nCall it again, or ask your supervisor.", message=message))
            action = self.env.ref("crm_outbound.crm_lead_lost_override_action")
            raise RedirectWarning(
                _("%(message)s\nAs a supervisor you may override the rule, giving a reason.", message=message),
                action.id,
                _("Override"),
                {
                    "default_lead_ids": blocked.ids,
                    "default_lost_reason_id": lost_reason_id or False,
                    "default_status_id": status.id if status else False,
                },
            )
        flagged._outbound_mark_lost_below_minimum()

    def _outbound_mark_lost_below_minimum(self, override_reason=None):
        """Record that the leads of ``self`` are lost below the minimum: overridden by a
        supervisor for ``override_reason``, else lost improperly. Both are logged on the
        lead with their author."""
        if override_reason:
            self._outbound_write_facts(
                {
                    "outbound_lost_override": True,
                    "outbound_lost_override_reason": override_reason,
                    "outbound_lost_override_user_id": self.env.uid,
                }
            )
        else:
            self._outbound_write_facts({"outbound_lost_improperly": True})
        bodies = {}
        for lead in self:
            args = {
                "user": self.env.user.name,
                "count": lead.outbound_attempt_count,
                "minimum": lead.outbound_playbook_id.min_attempts_before_lost,
            }
            if override_reason:
                bodies[lead.id] = Markup("<p>%s</p><p>%s</p>") % (
                    _(
                        "Marked lost by %(user)s with %(count)s of the %(minimum)s call attempts required: "
                        "the lost gate was overridden.",
                        **args,
                    ),
                    _("Reason: %(reason)s", reason=override_reason),
                )
            else:
                bodies[lead.id] = Markup("<p>%s</p>") % _(
                    "Lost improperly: marked lost by %(user)s with %(count)s of the %(minimum)s call attempts "
                    "required.",
                    **args,
                )
        self._message_log_batch(bodies=bodies)

    @api.model
    def _outbound_is_supervisor(self, user=None):
        """Whether ``user`` is a supervisor (a team leader or a sales manager); by
        default the current user, superuser code counting as one."""
        if user is None:
            return self.env.su or self.env.user.has_group(SUPERVISOR_GROUP)
        return user.has_group(SUPERVISOR_GROUP)

    @api.model
    def _outbound_supervisor_group(self):
        return self.env.ref(SUPERVISOR_GROUP).sudo()

    @api.model
    def _outbound_check_supervisor(self, action):
        """Raise ``AccessError`` unless the user is a supervisor (a team leader or a sales
        manager); ``action`` says what they tried."""
        if not self._outbound_is_supervisor():
            raise AccessError(
                _(
                    "%(action)s needs the right %(group)s (team leaders and sales managers): ask your supervisor.",
                    action=action,
                    group=self._outbound_supervisor_group().full_name,
                )
            )

    def outbound_override_lost(self, reason, lost_reason_id=None, status_id=None):
        """Mark the leads of ``self`` lost below their playbook's minimum of call
        attempts, as a supervisor: the override and ``reason`` are stored and logged.

        :param str reason: why the rule does not apply (required)
        :param int lost_reason_id: the ``crm.lost.reason`` to set
        :param int status_id: a status whose action is lost, to set as well
        """
        self._outbound_check_supervisor(_("Marking a lead lost below the minimum of call attempts"))
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Give the reason for overriding the minimum of call attempts."))
        status = self._outbound_browse_id("crm.outbound.status", "status_id", status_id)
        if status and status.lead_action != "lost":
            raise UserError(
                _("Status %(status)s does not mark a lead lost: choose a lost status.", status=status.display_name)
            )
        lost_reason_id = lost_reason_id or status.lost_reason_id.id
        self._outbound_set_lost(lost_reason_id, override_reason=reason)
        if status:
            # Lost already: the status only closes the pending task.
            self._outbound_apply_status(status)
        return True

    def _outbound_update_first_days(self):
        """Recompute whether the leads of ``self`` met their first days' target, from
        their calls grouped by local day in one query."""
        leads = self.filtered(lambda lead: lead.outbound_first_days_start and lead.outbound_daily_target)
        (self - leads).filtered("outbound_first_days_target")._outbound_write_facts(
            {"outbound_first_days_target": False}
        )
        if not leads:
            return
        self.env["crm.outbound.call"].flush_model(["lead_id", "call_at"])
        tz_by_lead = {lead.id: lead.team_id._outbound_tz(lead.user_id) for lead in leads}
        windows = SQL(", ").join(
            SQL(
                "(%s, %s, %s::date, %s::date)",
                lead.id,
                tz_by_lead[lead.id],
                lead.outbound_first_days_start,
                lead.outbound_first_days_end,
            )
            for lead in leads
        )
        # Spelled out beside the join: joined to a VALUES list alone, PostgreSQL reads
        # the whole calls table instead of the leads' calls through their index.
        lead_ids = tuple(leads.ids)
        self.env.cr.execute(
            SQL(
                """
                SELECT w.lead_id, (call.call_at AT TIME ZONE 'UTC' AT TIME ZONE w.tz)::date AS day, count(*)
                  FROM crm_outbound_call AS call
                  JOIN (VALUES %s) AS w(lead_id, tz, first_day, last_day) ON w.lead_id = call.lead_id
                 WHERE call.lead_id IN %s
                   AND (call.call_at AT TIME ZONE 'UTC' AT TIME ZONE w.tz)::date BETWEEN w.first_day AND w.last_day
              GROUP BY 1, 2
                """,
                windows,
                lead_ids,
            )
        )
        calls_by_day = defaultdict(dict)
        for lead_id, day, count in self.env.cr.fetchall():
            calls_by_day[lead_id][day] = count
        # Days the client asked to wait: from the call that agreed a later date to that
        # date (or to the next call, which may have agreed something else).
        self.env.cr.execute(
            SQL(
                """
                SELECT lead_id, call_day, agreed_day, next_day
                  FROM (
                        SELECT w.lead_id, status.task_timing, call.agreed_at,
                               (call.call_at AT TIME ZONE 'UTC' AT TIME ZONE w.tz)::date AS call_day,
                               (call.agreed_at AT TIME ZONE 'UTC' AT TIME ZONE w.tz)::date AS agreed_day,
                               (lead(call.call_at) OVER (PARTITION BY call.lead_id ORDER BY call.call_at, call.id)
                                    AT TIME ZONE 'UTC' AT TIME ZONE w.tz)::date AS next_day
                          FROM crm_outbound_call AS call
                          JOIN (VALUES %s) AS w(lead_id, tz, first_day, last_day) ON w.lead_id = call.lead_id
                     LEFT JOIN crm_outbound_status AS status ON status.id = call.status_id
                         WHERE call.lead_id IN %s
                       ) AS calls
                 WHERE task_timing = 'agreed' AND agreed_day > call_day
                """,
                windows,
                lead_ids,
            )
        )
        waiting_days = defaultdict(set)
        for lead_id, call_day, agreed_day, next_day in self.env.cr.fetchall():
            until = min(agreed_day, next_day) if next_day else agreed_day
            waiting_days[lead_id].update(call_day + timedelta(days=n) for n in range(min((until - call_day).days, 366)))
        now = pytz.utc.localize(fields.Datetime.now())
        ids_by_state = defaultdict(list)
        for lead in leads:
            target, counts = lead.outbound_daily_target, calls_by_day[lead.id]
            start, end = lead.outbound_first_days_start, lead.outbound_first_days_end
            today = now.astimezone(pytz.timezone(tz_by_lead[lead.id])).date()
            days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
            short = [day for day in days if counts.get(day, 0) < target and day not in waiting_days[lead.id]]
            if not short:
                state = "met"
            elif short[0] < today:
                state = "missed"  # a past day of the window fell short: nothing can make it up
            else:
                state = "ongoing"
            if lead.outbound_first_days_target != state:
                ids_by_state[state].append(lead.id)
        for state, lead_ids in ids_by_state.items():
            self.browse(lead_ids)._outbound_write_facts({"outbound_first_days_target": state})

    @api.model
    def _cron_outbound_discipline(self, batch_size=1000):
        """Close the first days' target of the leads whose day ended without their calls."""

        def update(rows):
            self.browse([row[0] for row in rows])._outbound_update_first_days()

        ongoing = self.with_context(active_test=False)._outbound_locked_leads_query(
            [("outbound_first_days_target", "=", "ongoing")]
        )
        self._outbound_run_in_batches(ongoing, update, batch_size)
        self._outbound_send_digests()

    # ------------------------------------------------------------
    # BUSINESS: the team leader's daily digest
    # ------------------------------------------------------------

    @api.model
    def _outbound_send_digests(self):
        """Mail each playbook team's leader yesterday's figures per operator and the
        control lists' sizes; a team with nothing to report gets no mail."""
        teams = self.env["crm.team"].search([("outbound_playbook_id", "!=", False), ("user_id", "!=", False)])
        for team in teams:
            body = team._outbound_digest_body()
            if body:
                team.message_post(
                    body=body,
                    subject=_("Outbound calling: yesterday in %(team)s", team=team.name),
                    partner_ids=team.user_id.partner_id.ids,
                    subtype_xmlid="mail.mt_comment",
                )

    # ------------------------------------------------------------
    # BUSINESS: statuses and the next call
    # ------------------------------------------------------------

    def _outbound_apply_status(self, status, code=None, comment=None, agreed_at=None, base_at=None, cancel_tasks=False):
        """Give ``status`` to the leads of ``self``: the redial cadence, won or lost,
        and the one pending task its rule asks for (DESIGN.md rules 1 and 2).

        ``base_at`` is when the status was given (default now), or a dict that gives
        it per lead id. With ``cancel_tasks``, the pending tasks are cancelled rather
        than marked done."""
        code = code or self.env["crm.outbound.comment.code"]
        # Telephony applies a status to many leads at once, each from its own call.
        base_at_by_lead = base_at if isinstance(base_at, dict) else {}
        base_at = (None if base_at_by_lead else base_at) or fields.Datetime.now()
        leads = self._outbound_own()
        vals = {"outbound_status_id": status.id, "outbound_comment_code_id": code.id}
        if comment is not None:
            vals["outbound_comment"] = comment or False
        if agreed_at:
            vals["outbound_agreed_at"] = agreed_at
        if status.outcome != "network":
            # Any status but a network one undoes a network mark (DESIGN.md rule 4).
            vals["outbound_network_head_id"] = False
        leads.write(vals)
        exhausted = leads._outbound_exhausted() if status.task_timing == "cadence" else leads.browse()
        if exhausted:
            exhausted._outbound_apply_exhausted_outcome()
        leads -= exhausted
        leads._outbound_apply_do_not_call(status, code, comment)
        if status.lead_action == "won":
            leads.filtered(lambda lead: not lead.stage_id.is_won).action_set_won()
        elif status.lead_action == "lost":
            lost_reason = code.lost_reason_id or status.lost_reason_id
            leads.filtered("active")._outbound_set_lost(lost_reason.id, status=status)
        next_at_by_lead = {
            lead: lead._outbound_next_call_at(
                status, code, base_at_by_lead.get(lead.id, base_at), agreed_at or lead.outbound_agreed_at
            )
            for lead in leads
        }
        leads._outbound_replace_task(
            next_at_by_lead, feedback=comment or status.display_name, cancel_tasks=cancel_tasks
        )
        if status.is_result:
            leads._outbound_offer_network()
        # The status and the calls before it may move the leads to another segment.
        self._outbound_update_segments()

    def _outbound_exhausted(self):
        """The leads whose unanswered streak went past the last cadence step."""
        return self.filtered(
            lambda lead: lead.outbound_no_answer_count > len(lead.outbound_playbook_id.cadence_step_ids)
        )

    def _outbound_apply_exhausted_outcome(self):
        for playbook, leads in self.grouped("outbound_playbook_id").items():
            status = playbook.exhausted_status_id
            if status:
                leads.write({"outbound_status_id": status.id, "outbound_comment_code_id": False})
            # The playbook's own cadence closes the lead, not an operator: the lost gate
            # does not hold it (the cadence decides how many unanswered calls are enough).
            leads.filtered("active")._outbound_set_lost(playbook.exhausted_lost_reason_id.id, exhausted=True)
            leads._outbound_replace_task(dict.fromkeys(leads, False), feedback=_("Cadence exhausted"))

    def _outbound_next_call_at(self, status, code, base_at, agreed_at=None):
        """When the lead's next call is due after getting ``status`` at ``base_at``,
        moved into the client's calling window and the team's calling hours; a time
        agreed with the client is kept as agreed. False when no task is due."""
        self.ensure_one()
        if status.is_final or not self.active:
            return False
        if code.override_delay:
            due = base_at + code._get_delay()
        elif status.task_timing == "cadence":
            steps = self.outbound_playbook_id.cadence_step_ids
            streak = max(self.outbound_no_answer_count, 1)
            due = base_at + steps[streak - 1]._get_delay() if len(steps) >= streak else base_at
        elif status.task_timing == "agreed":
            if agreed_at and not status.delay:
                # The client asked for this time: kept, shown with a warning when it is
                # outside the calling window (outbound_outside_window).
                return self.team_id._outbound_next_working_time(agreed_at)
            due = (agreed_at + status._get_delay()) if agreed_at else base_at
        elif status.task_timing == "delay":
            due = base_at + status._get_delay()
        else:
            due = base_at
        return self._outbound_next_callable_time(due)

    # ------------------------------------------------------------
    # BUSINESS: exactly one pending task (DESIGN.md rule 1)
    # ------------------------------------------------------------

    def _outbound_governed(self):
        """The leads of ``self`` that must have exactly one pending task."""
        return self.filtered_domain(self._outbound_governed_domain())

    def _outbound_pending_tasks(self):
        return self.env["mail.activity"].search([("res_model", "=", self._name), ("res_id", "in", self.ids)])

    def _outbound_replace_task(self, next_at_by_lead, feedback=None, cancel_tasks=False):
        """Close the pending tasks of ``self`` and schedule the one each lead needs,
        due at ``next_at_by_lead[lead]``. With ``cancel_tasks``, the pending tasks are
        deleted in one go instead of being marked done one message at a time."""
        pending = self._outbound_pending_tasks()
        if pending:
            if cancel_tasks:
                own_write(pending).unlink()
            else:
                own_write(pending)._outbound_action_done(feedback=feedback)
        lead_ids_by_next_at = defaultdict(list)
        for lead in self:
            lead_ids_by_next_at[next_at_by_lead.get(lead) or False].append(lead.id)
        for next_at, lead_ids in lead_ids_by_next_at.items():
            self.browse(lead_ids)._outbound_write_facts({"outbound_next_call_at": next_at})
        self._outbound_governed()._outbound_schedule_task()

    def _outbound_schedule_task(self):
        """Schedule the task of each lead's status, due at its next call time."""
        now = fields.Datetime.now()
        groups = defaultdict(list)
        envs_by_lang = {}
        for lead in self:
            status = lead.outbound_status_id
            activity_type = status.activity_type_id or self.env.ref(
                "crm_outbound.mail_activity_type_redial", raise_if_not_found=False
            )
            due = lead.outbound_next_call_at or now
            user = lead.user_id or self.env.user
            tz = pytz.timezone(user.tz or "UTC")
            # In the salesperson's language, whoever scheduled it (an RPC client has none).
            user_env = envs_by_lang.get(user.lang) or envs_by_lang.setdefault(
                user.lang, self.with_context(lang=user.lang or "en_US").env
            )
            summary = user_env._(
                "%(task)s at %(time)s",
                task=activity_type.with_env(user_env).name if activity_type else user_env._("Call"),
                time=format_datetime(user_env, due, tz=user.tz or "UTC", dt_format="short"),
            )
            deadline = pytz.utc.localize(due).astimezone(tz).date()
            groups[activity_type, deadline, user, summary].append(lead.id)
        # The tasks come by the hundred (every call, every repair, every reassignment):
        # they show in the salesperson's activities, without a mail for each.
        leads = self._outbound_own().with_context(mail_activity_quick_update=True)
        for (activity_type, deadline, user, summary), lead_ids in groups.items():
            leads.browse(lead_ids).activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=deadline,
                summary=summary,
                user_id=user.id,
            )

    def _outbound_ensure_task(self):
        """Repair rule 1 on ``self``: schedule the task of the governed leads that have
        none, keep only the earliest of those that have several."""
        governed = self._outbound_governed()
        if not governed:
            return
        pending = governed._outbound_pending_tasks().sorted(lambda a: (a.date_deadline, a.id))
        by_lead = pending.grouped("res_id")
        missing = governed.filtered(lambda lead: lead.id not in by_lead)
        extra = self.env["mail.activity"].concat(*(tasks[1:] for tasks in by_lead.values()))
        if extra:
            own_write(extra)._action_done(feedback=_("Closed: a lead keeps exactly one pending task."))
        if missing:
            # A task closed without a call: the status's follow-up starts again from now.
            now = fields.Datetime.now()
            overdue = missing.filtered(lambda lead: not lead.outbound_next_call_at or lead.outbound_next_call_at < now)
            overdue._outbound_replace_task(
                {
                    lead: lead._outbound_next_call_at(lead.outbound_status_id, lead.outbound_comment_code_id, now)
                    for lead in overdue
                }
            )
            (missing - overdue)._outbound_schedule_task()

    @api.model
    def _cron_outbound_enforce_task(self, batch_size=500):
        """Repair rule 1 where other code broke it."""

        def repair(rows):
            self.browse([row[0] for row in rows])._outbound_ensure_task()

        # The two halves of outbound_task_broken in one query, so that the keyset walks it.
        broken = self._outbound_locked_leads_query(
            self._outbound_governed_domain(), where=self._outbound_task_broken_sql()
        )
        self._outbound_run_in_batches(broken, repair, batch_size)

    @api.model
    def _outbound_locked_leads_query(self, domain, where=None, columns=None):
        """The batch query of ``_outbound_run_in_batches`` for the leads of ``domain``
        (as superuser, in the context of ``self``; ``where``, SQL over ``crm_lead``, for
        what no field says): ``columns`` (the lead id first, the default) in keyset
        order, locked for this worker."""
        leads = self.sudo()

        def query(after_id, limit):
            batch = leads._search([*domain, ("id", ">", after_id)], limit=limit, order="id")
            if where:
                batch.add_where(where)
            return SQL(
                "%s FOR UPDATE OF %s SKIP LOCKED",
                batch.select(columns or SQL.identifier(self._table, "id")),
                SQL.identifier(self._table),
            )

        return query

    @api.model
    def _outbound_run_in_batches(self, query, process, batch_size):
        """Run a cron over the rows ``query(after_id, limit)`` selects, in batches.

        The query locks its leads ``FOR UPDATE SKIP LOCKED``, so that two workers
        running the same cron never process the same lead; each batch is committed with
        the cron's progress, so that a crash or the cron's time limit loses one batch
        at most. Rows start with the lead id, in ascending order."""
        after_id = 0
        while True:
            # The query is SQL: what the ORM still holds must be in the database first.
            self.env.flush_all()
            self.env.cr.execute(query(after_id, batch_size))
            rows = self.env.cr.fetchall()
            if not rows:
                return
            after_id = rows[-1][0]
            process(rows)
            self.env.flush_all()
            # A commit clears the cache, but tests and the benchmark run without one:
            # forget the batch here too, so that memory stays flat over the whole base.
            self.env.invalidate_all()
            time_left = commit_progress(self.env, len(rows), remaining=0 if len(rows) < batch_size else 1)
            if len(rows) < batch_size or time_left <= 0:
                return

    # ------------------------------------------------------------
    # BUSINESS: network siblings (DESIGN.md rule 4)
    # ------------------------------------------------------------

    @api.model
    def _get_sibling_domain(self):
        """The leads that may be network siblings at all: open leads of a playbook team.

        A hook: the finder adds the matching keys, the same playbook and the same company
        to it. Lost leads are archived, so the ORM's active filter leaves them out."""
        return [("outbound_playbook_id", "!=", False), "|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]

    @api.model
    def _outbound_public_domains(self, kind):
        """The mail (``kind="mail"``) or web domains shared by unrelated organisations:
        the system parameter ``crm_outbound.public_{kind}_domains`` (data/ir_config_parameter_data.xml)."""
        param = self.env["ir.config_parameter"].sudo().get_param(f"crm_outbound.public_{kind}_domains", "")
        return sorted({domain.strip().lower() for domain in param.replace(",", " ").split() if domain.strip()})

    @api.model
    def _outbound_sibling_query(self, sources, unmarked_only=False):
        """A query over candidate siblings (alias ``crm_lead``, within the sibling domain
        and the user's access rules) joined with the source leads they match (alias
        ``pairs``: ``src_id`` and one flag per reason of ``SIBLING_REASONS``), one row
        per pair; ``sources`` is an SQL query selecting the source lead ids.

        One equality join per key, on its index, rather than one join on an OR of keys,
        which PostgreSQL can only run as a loop over every pair of leads of a playbook."""
        fields_used = [
            "outbound_playbook_id",
            "company_id",
            "outbound_network_partner_id",
            "phone_sanitized",
            "email_domain_criterion",
            "outbound_website_domain",
            "outbound_is_final",
            "outbound_status_id",
            "active",
            "stage_id",
        ]
        self.flush_model(fields_used)
        self.env["crm.outbound.status"].flush_model(["is_result"])
        public_mail = ["@" + domain for domain in self._outbound_public_domains("mail")]
        public_web = self._outbound_public_domains("web")
        keys = {
            "company": (SQL("outbound_network_partner_id"), SQL("src.partner_id")),
            "phone": (SQL("phone_sanitized"), SQL("src.phone")),
            "email": (SQL("email_domain_criterion"), SQL("src.email_domain")),
            "website": (SQL("outbound_website_domain"), SQL("src.web_domain")),
        }
        matches = SQL(" UNION ALL ").join(
            SQL(
                """
                SELECT src.id AS src_id, cand.id AS cand_id, %s AS reason
                  FROM src
                  JOIN crm_lead AS cand ON cand.%s = %s
                   AND cand.outbound_playbook_id = src.playbook_id
                   AND cand.company_id IS NOT DISTINCT FROM src.company_id
                   AND cand.id != src.id
                """,
                reason,
                column,
                src_key,
            )
            for reason, (column, src_key) in keys.items()
        )
        # Public keys become NULL on the source side, and NULL never equals anything.
        pairs = SQL(
            """
            (WITH src AS (
                SELECT lead.id, lead.outbound_playbook_id AS playbook_id, lead.company_id,
                       lead.outbound_network_partner_id AS partner_id,
                       lead.phone_sanitized AS phone,
                       CASE WHEN left(lead.email_domain_criterion, 1) = '@'
                             AND lead.email_domain_criterion <> ALL(%s::varchar[])
                            THEN lead.email_domain_criterion END AS email_domain,
                       CASE WHEN lead.outbound_website_domain <> ALL(%s::varchar[])
                            THEN lead.outbound_website_domain END AS web_domain
                  FROM crm_lead AS lead
                 WHERE lead.id IN (%s)
            )
            SELECT src_id, cand_id, %s
              FROM (%s) AS matches
          GROUP BY src_id, cand_id)
            """,
            public_mail,
            public_web,
            sources,
            SQL(", ").join(
                SQL("bool_or(reason = %s) AS %s", reason, SQL.identifier(f"by_{reason}")) for reason in SIBLING_REASONS
            ),
            matches,
        )
        domain = self._get_sibling_domain()
        if unmarked_only:
            # Still to be marked: neither final (marked ones are), nor a result of its own
            # (two branches may both buy), nor the head of other siblings.
            domain = [
                *domain,
                ("outbound_is_final", "=", False),
                "|",
                ("outbound_status_id", "=", False),
                ("outbound_status_id.is_result", "=", False),
                ("outbound_network_sibling_ids", "=", False),
            ]
        query = self._search(domain)
        query.order = None
        query.add_join("JOIN", "pairs", pairs, SQL("pairs.cand_id = crm_lead.id"))
        return query

    def _outbound_find_siblings(self, unmarked_only=False):
        """The candidate network siblings of each lead of ``self`` with the reasons they
        match: ``{lead: {candidate: ["company", "phone", "email", "website"]}}``.

        Candidates are other open leads of the same playbook and company that share
        the network company, the sanitized phone, a non-public e-mail domain or a
        non-public website domain; with ``unmarked_only``, only those still to be
        marked. One query per 1000 leads of ``self``, whatever the size of the base."""
        reasons_by_pair = defaultdict(dict)
        for ids in split_every(NETWORK_BATCH_SIZE, self.ids):
            sources = SQL("SELECT unnest(%s::int[])", list(ids))
            query = self._outbound_sibling_query(sources, unmarked_only=unmarked_only)
            rows = self.env.execute_query(
                query.select(
                    SQL("pairs.src_id, crm_lead.id, pairs.by_company, pairs.by_phone, pairs.by_email, pairs.by_website")
                )
            )
            for src_id, cand_id, *matches in rows:
                reasons_by_pair[src_id][cand_id] = [
                    reason for reason, match in zip(SIBLING_REASONS, matches, strict=True) if match
                ]
        # Records that share one prefetch set, so that reading the candidates costs one query.
        candidates = {cand.id: cand for cand in self.browse(list({c for by in reasons_by_pair.values() for c in by}))}
        return {
            lead: {candidates[cand_id]: reasons for cand_id, reasons in reasons_by_pair[lead.id].items()}
            for lead in self
            if lead.id in reasons_by_pair
        }

    def _outbound_with_unmarked_siblings(self):
        """The leads of ``self`` that have siblings still to be marked."""
        return self.browse([lead.id for lead in self._outbound_find_siblings(unmarked_only=True)])

    def _outbound_sibling_reason_labels(self, reasons):
        """The reasons a lead of ``self`` is matched, in words, with the shared value."""
        self.ensure_one()
        labels = {
            "company": lambda: _("Same parent company (%(company)s)", company=self.outbound_network_partner_id.name),
            "phone": lambda: _("Same phone (%(phone)s)", phone=self.phone_sanitized),
            "email": lambda: _("Same e-mail domain (%(domain)s)", domain=self.email_domain_criterion),
            "website": lambda: _("Same website (%(domain)s)", domain=self.outbound_website_domain),
        }
        return [labels[reason]() for reason in reasons]

    def _outbound_check_network_head(self):
        """Raise unless the lead ``self`` can be the head of a network."""
        self.ensure_one()
        if not self.outbound_playbook_id:
            raise UserError(
                _(
                    "Lead %(lead)s is not in a sales team with an outbound playbook: it cannot head a network.",
                    lead=self.display_name,
                )
            )
        if not self.outbound_playbook_id.network_status_id:
            raise UserError(
                _(
                    "Playbook %(playbook)s has no network sibling status: choose one on the playbook first.",
                    playbook=self.outbound_playbook_id.display_name,
                )
            )
        if self.outbound_network_head_id:
            raise UserError(
                _(
                    "Lead %(lead)s is itself a network sibling of %(head)s: mark the siblings with %(head)s as "
                    "their head instead.",
                    lead=self.display_name,
                    head=self.outbound_network_head_id.display_name,
                )
            )

    def _outbound_network_skip_reasons(self, head):
        """``{lead: reason}`` for the leads of ``self`` that cannot be marked as network
        siblings of ``head`` (DESIGN.md rule 4: guard rails)."""
        heads = dict(
            self.with_context(active_test=False)._read_group(
                [("outbound_network_head_id", "in", self.ids)], ["outbound_network_head_id"], ["__count"]
            )
        )
        skipped = {}
        for lead in self.with_context(active_test=False):
            if lead == head:
                reason = _("It is the head of the network.")
            elif lead.outbound_playbook_id != head.outbound_playbook_id:
                reason = _("Another playbook: %(playbook)s.", playbook=lead.outbound_playbook_id.display_name or "-")
            elif lead.company_id != head.company_id:
                reason = _("Another company: %(company)s.", company=lead.company_id.display_name or "-")
            elif lead.outbound_network_head_id == head:
                reason = _("Already marked as a sibling of this head.")
            elif not lead.active:
                reason = _("Lost.")
            elif lead.stage_id.is_won:
                reason = _("Won.")
            elif lead.outbound_is_final:
                reason = _("Final status: %(status)s.", status=lead.outbound_status_id.display_name)
            elif lead in heads:
                reason = _("It heads %(count)s network siblings of its own.", count=heads[lead])
            else:
                continue
            skipped[lead] = reason
        return skipped

    def outbound_mark_network(self, head_id):
        """Mark the leads of ``self`` as network siblings of the lead ``head_id``
        (DESIGN.md rule 4): each gets the playbook's network status without a call, so
        its pending task is closed, and is linked to the head; both sides get a chatter
        note. Setting another status on a sibling undoes it.

        Leads that cannot be marked are skipped, never touched: the head itself, leads
        of another playbook or company, won, lost or final leads (network siblings
        included) and leads that head siblings of their own. Works in batches of
        1000 leads.

        :param int head_id: the lead of the network that got the result
        :return: ``{"marked": [lead ids], "skipped": [{"id", "name", "reason"}]}``
        :raise UserError: when the head does not exist, has no playbook with a network
            status, or is itself a network sibling
        """
        head = self._outbound_browse_id("crm.lead", "head_id", head_id)
        head._outbound_check_network_head()
        status = head.outbound_playbook_id.network_status_id
        skipped = self._outbound_network_skip_reasons(head)
        to_mark = self.with_context(active_test=False) - self.browse([lead.id for lead in skipped])
        for ids in split_every(NETWORK_BATCH_SIZE, to_mark.ids):
            self.browse(ids)._outbound_mark_network_batch(head, status)
        if to_mark:
            head._outbound_post_network_note(to_mark)
        return {
            "marked": to_mark.ids,
            "skipped": [
                {"id": lead.id, "name": lead.display_name, "reason": reason} for lead, reason in skipped.items()
            ],
        }

    def _outbound_mark_network_batch(self, head, status):
        old_status_by_lead = {lead.id: lead.outbound_status_id for lead in self}
        # One note per sibling says it all (status change, head, why), instead of Odoo's
        # value tracking, which writes a message and its values one lead at a time (README,
        # Network siblings); the tasks are cancelled, not done, likewise.
        leads = self.with_context(mail_notrack=True)
        leads._outbound_apply_status(
            status, comment=_("Network sibling of %(head)s", head=head.display_name), cancel_tasks=True
        )
        leads._outbound_write_facts({"outbound_network_head_id": head.id})
        note_by_old_status = {
            old: Markup("<p>%s</p>")
            % _(
                "Marked as a network sibling of %(head)s: one decision maker for the network "
                "(status %(old)s → %(new)s).",
                head=head._get_html_link(),
                old=old.display_name or _("none"),
                new=status.display_name,
            )
            for old in set(old_status_by_lead.values())
        }
        self._message_log_batch(
            bodies={lead_id: note_by_old_status[old] for lead_id, old in old_status_by_lead.items()}
        )
        # Keep a long run's memory flat: what is written is flushed, what is read goes.
        self.env.flush_all()
        self.invalidate_recordset()

    def _outbound_post_network_note(self, siblings):
        self.ensure_one()
        shown = 20
        names = Markup(", ").join(lead._get_html_link() for lead in siblings[:shown])
        more = len(siblings) - shown
        if more > 0:
            names = _("%(names)s and %(count)s more", names=names, count=more)
        body = Markup("<p>%s</p>") % _("Marked %(count)s network siblings: %(names)s", count=len(siblings), names=names)
        self.message_post(body=body, subtype_xmlid="mail.mt_note")

    def _outbound_offer_network(self):
        """Offer the operator to mark the siblings of the leads of ``self`` that just got
        a result: a notification with a button that opens the wizard. Return the leads
        that have siblings to mark."""
        offered = self._outbound_with_unmarked_siblings()
        if not offered or self.env.context.get("crm_outbound_network_offer_done"):
            return offered
        if len(offered) == 1:
            title = _("%(lead)s has network siblings", lead=offered.display_name)
            message = _("Other organisations of its network are still to call: mark them as network siblings?")
            action = "crm_outbound.crm_lead_network_mark_action"
            context = {"active_model": "crm.lead", "active_id": offered.id, "active_ids": offered.ids}
            button = _("Mark Network Siblings")
        else:
            title = _("%(count)s results have network siblings", count=len(offered))
            message = ", ".join(offered[:5].mapped("display_name")) + (" …" if len(offered) > 5 else "")
            action = "crm_outbound.crm_lead_network_unmarked_action"
            context = {}
            button = _("Show Them")
        self.env.user._bus_send(
            "crm_outbound_network_offer",
            {"title": title, "message": message, "button": button, "action": action, "context": context},
        )
        return offered

    # ------------------------------------------------------------
    # BUSINESS: the redial queue
    # ------------------------------------------------------------

    @api.model
    def _cron_outbound_redial_queue(self, batch_size=1000):
        """Tell each operator which of their leads are due now, and each team leader
        which redials are overdue beyond the grace. Every due time is announced once."""
        lead = SQL.identifier(self._table)
        due = self._outbound_locked_leads_query(
            [*self._outbound_callable_now_domain(), ("outbound_playbook_id", "!=", False)],
            where=SQL("%s.outbound_due_notified_at IS DISTINCT FROM %s.outbound_next_call_at", lead, lead),
            columns=SQL("%s.id, %s.user_id, %s.name", lead, lead, lead),
        )
        self._outbound_run_in_batches(due, self._outbound_notify_due, batch_size)
        overdue = self._outbound_locked_leads_query(
            self._outbound_overdue_domain(),
            where=SQL("%s.outbound_overdue_reported_at IS DISTINCT FROM %s.outbound_next_call_at", lead, lead),
            columns=SQL(
                "%s.id, %s.team_id, %s.name, %s.user_id, %s.outbound_next_call_at", lead, lead, lead, lead, lead
            ),
        )
        self._outbound_run_in_batches(overdue, self._outbound_report_overdue, batch_size)

    def _outbound_notify_due(self, rows):
        names_by_user = defaultdict(list)
        for _lead_id, user_id, name in rows:
            if user_id:
                names_by_user[user_id].append(name)
        for user_id, names in names_by_user.items():
            user = self.env["res.users"].browse(user_id)
            user._bus_send(
                "simple_notification",
                {
                    "type": "info",
                    "title": _("Call now: %(count)s leads are due", count=len(names)),
                    "message": ", ".join(names[:5]) + (" …" if len(names) > 5 else ""),
                },
            )
        self._outbound_mark_announced("outbound_due_notified_at", [row[0] for row in rows])

    def _outbound_report_overdue(self, rows):
        rows_by_team = defaultdict(list)
        for row in rows:
            rows_by_team[row[1]].append(row)
        for team_id, team_rows in rows_by_team.items():
            team = self.env["crm.team"].browse(team_id)
            if not team or not team.user_id:
                continue
            users = self.env["res.users"].browse({row[3] for row in team_rows if row[3]})
            user_names = dict(zip(users.ids, users.mapped("name"), strict=True))
            lines = Markup().join(
                Markup("<li>%s — %s, %s</li>")
                % (
                    name,
                    user_names.get(user_id) or _("unassigned"),
                    format_datetime(self.env, due, tz=team.user_id.tz or "UTC", dt_format="short"),
                )
                for _lead_id, _team_id, name, user_id, due in team_rows
            )
            team.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (_("%(count)s redials are overdue:", count=len(team_rows)), lines),
                partner_ids=team.user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
        self._outbound_mark_announced("outbound_overdue_reported_at", [row[0] for row in rows])

    @api.model
    def _outbound_mark_announced(self, column, lead_ids):
        # Plain SQL: a bookkeeping column, no tracking, no write() side effects.
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %s = outbound_next_call_at WHERE id IN %s",
                SQL.identifier(column),
                tuple(lead_ids),
            )
        )
        self.browse(lead_ids).invalidate_recordset([column])

    def _outbound_clear_foreign_status(self, playbook):
        """Clear the status of the leads of ``self`` whose status is not of ``playbook``."""
        foreign = self.filtered(
            lambda lead: lead.outbound_status_id and lead.outbound_status_id.playbook_id != playbook
        )
        if foreign:
            foreign._outbound_own().write({"outbound_status_id": False, "outbound_comment_code_id": False})
