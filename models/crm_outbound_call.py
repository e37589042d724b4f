import json
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone

import psycopg2.errors
import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_index, table_exists

from .compat import add_unique_constraint

_logger = logging.getLogger(__name__)

CALL_SOURCES = [
    ("manual", "Manual"),
    ("webhook", "Telephony"),
    ("import", "Import"),
]
# One telephony item (DESIGN.md, HTTP): the keys it may have, and those it must.
CALL_ITEM_KEYS = {
    "external_id",
    "phone",
    "lead_id",
    "started_at",
    "duration",
    "answered",
    "operator",
    "recording_url",
    "status_code",
    "agreed_at",
}
CALL_ITEM_REQUIRED_KEYS = ("external_id", "started_at", "duration", "answered")
# Bounds of what a call may hold (README, Telephony): beyond them an item is refused
# with a message rather than failing the database or the request.
MAX_ITEM_KEYS = 32
MAX_TEXT_LENGTH = 255
MAX_URL_LENGTH = 2048
MAX_DURATION = 2**31 - 1
MIN_CALL_YEAR, MAX_CALL_YEAR = 2000, 2099
# The facts of a lead's closing kept on its calls (_outbound_mark_closings).
CLOSING_FIELDS = ["closed_lead_calls", "won_at", "won_revenue"]
EXTERNAL_ID_CONSTRAINT = "crm_outbound_call_external_id_uniq"
# Users whose API key posts calls for every operator (DESIGN.md, rule 6).
INTEGRATION_GROUP = "crm_outbound.group_outbound_integration"


# The range of dates the KPI report dates (report/crm_outbound_call_report.py), and the
# origin of the operator's hour numbers.
KPI_FIRST_DAY, KPI_END_DAY = datetime(2000, 1, 1), datetime(2101, 1, 1)


# operator_hour + HOUR_SHIFT is positive for every hour from 2000 - 10 000 days on, and
# a whole number of days: divided by 24 it numbers the operator's local day.
HOUR_SHIFT = 240000


def operator_hour_number(call_at, tz_name):
    """The local hour of ``call_at`` (naive UTC) in the time zone ``tz_name`` (UTC if
    unknown), in hours from 2000-01-01 00:00 local; 0 outside the report's dates."""
    if not call_at or not KPI_FIRST_DAY <= call_at < KPI_END_DAY:
        return 0
    try:
        zone = pytz.timezone(tz_name or "UTC")
    except pytz.UnknownTimeZoneError:
        zone = pytz.utc
    local = pytz.utc.localize(call_at).astimezone(zone).replace(tzinfo=None)
    return int((local - KPI_FIRST_DAY).total_seconds() // 3600)


class CallItemError(Exception):
    """One telephony item is wrong: ``field`` and ``value`` say where."""


class CrmOutboundCall(models.Model):
    """One call attempt: the unit of every counter and KPI of the module.

    Calls are logged through ``crm.lead.outbound_log_call``, which also applies their
    status to the lead; once logged, only the note may change, and operators never
    delete them. Telephony reports calls through ``_outbound_ingest``; a reported call
    whose phone matches no lead is kept without a lead (an *unmatched* call) until a
    supervisor attaches it to one."""

    _name = "crm.outbound.call"
    _description = "Outbound Call"
    _order = "call_at desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", index=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", index="btree_not_null")
    user_id = fields.Many2one("res.users", string="Operator", index=True, default=lambda self: self.env.user)
    team_id = fields.Many2one("crm.team", index=True)
    playbook_id = fields.Many2one("crm.outbound.playbook", index=True)
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    call_at = fields.Datetime("Call Time", required=True, index=True, default=fields.Datetime.now)
    duration = fields.Integer("Duration (s)")
    answered = fields.Boolean(help="Somebody picked up the phone.")
    is_touch = fields.Boolean(
        "Successful Touch",
        help="The call lasted longer than the playbook's threshold (30 seconds by default).",
    )
    status_id = fields.Many2one("crm.outbound.status", index=True)
    comment_code_id = fields.Many2one("crm.outbound.comment.code")
    # Precomputed: written with the call, not by an UPDATE per call after it.
    contact_level = fields.Selection(related="status_id.contact_level", store=True, precompute=True)
    outcome = fields.Selection(related="status_id.outcome", store=True, precompute=True)
    is_result = fields.Boolean(related="status_id.is_result", store=True, precompute=True, string="Result")
    note = fields.Text()
    agreed_at = fields.Datetime("Agreed Date")
    recording_url = fields.Char("Recording")
    source = fields.Selection(CALL_SOURCES, required=True, default="manual")
    # Telephony
    external_id = fields.Char("External ID", index="btree_not_null", copy=False, help="The telephony's id of the call.")
    integration_user_id = fields.Many2one(
        "res.users",
        string="Reported By",
        readonly=True,
        copy=False,
        help="The integration user whose API key reported the call, or who imported it: its external ids are unique.",
    )
    phone = fields.Char(readonly=True, copy=False, help="The number called, as the telephony reported it.")
    status_code = fields.Char(
        "Reported Status Code",
        readonly=True,
        copy=False,
        help="The status code the telephony sent, applied when the call is attached to a lead.",
    )
    unmatched_reason = fields.Char(
        "Why Unmatched",
        readonly=True,
        copy=False,
        help="Why the telephony's call was kept without a lead.",
    )

    called_despite_dnc = fields.Boolean(
        "Called Despite Do-Not-Call",
        compute="_compute_called_despite_dnc",
        store=True,
        precompute=True,
        readonly=True,
        index="btree_not_null",
        help="The number was on the do-not-call list when the call was stored (DESIGN.md rule 7).",
    )

    # The KPI report's day, hour and hours of work (report/crm_outbound_call_report.py)
    # read this one stored number instead of resolving a time zone per call.
    operator_hour = fields.Integer(
        "Operator's Local Hour Number",
        compute="_compute_operator_hour",
        store=True,
        precompute=True,
        readonly=True,
        help="The local hour of the call in the operator's time zone when it was stored, "
        "counted in hours from 2000-01-01 00:00 (0 for a call outside 2000-2100).",
    )

    # The closing and the winning of its lead, kept on the call that did them (report/
    # crm_outbound_call_report.py reads them, so that no KPI joins the leads): written
    # only by _outbound_mark_closings, whenever a lead is lost, won, reopened or merged,
    # its revenue changes, or a call is added to a closed lead.
    closed_lead_calls = fields.Integer(
        "Calls of the Closed Lead",
        readonly=True,
        copy=False,
        help="On the last call of a lead lost or won: how many calls the lead took. Empty on every other call.",
    )
    won_at = fields.Datetime(
        "Lead Won On",
        readonly=True,
        copy=False,
        help="On the last result call before its lead was won: when the lead was won. Empty on every other call.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    won_revenue = fields.Monetary(
        "Revenue Won",
        readonly=True,
        copy=False,
        help="On the winning call (see Lead Won On): the expected revenue of the lead it won.",
    )

    # The hours and days of work (seed 001: results and calls "per hour", paid time),
    # kept as the calls arrive (_outbound_mark_first_calls) so that the KPI report sums
    # them instead of counting distinct hours over a million calls.
    first_of_hour = fields.Boolean(
        "Starts an Hour of Work",
        readonly=True,
        copy=False,
        help="The operator's first call of this local hour (operator_hour): an hour of work counts on it.",
    )
    first_of_day = fields.Boolean(
        "Starts a Day of Work",
        readonly=True,
        copy=False,
        help="The operator's first call of this local day: the day's paid time counts on it.",
    )

    add_unique_constraint(
        locals(),
        "external_id_uniq",
        "UNIQUE(integration_user_id, external_id)",
        "A call with this external id was already reported by this integration.",
    )

    # A fact of the moment the call is stored, like the operator's time zone it reads:
    # an operator who moves later keeps the hours he worked where he was.
    @api.depends("call_at", "user_id")
    def _compute_operator_hour(self):
        for call in self:
            call.operator_hour = operator_hour_number(call.call_at, call.user_id.tz)

    # A fact of the moment the call is stored: taking the number off the list later
    # does not clear it (no dependency on the blacklist).
    @api.depends("phone", "lead_id")
    def _compute_called_despite_dnc(self):
        numbers = {}
        for call in self:
            lead = call.lead_id
            if call.phone:
                country = lead.country_id or call.company_id.country_id or self.env.company.country_id
                numbers[call] = self.env["crm.lead"]._phone_format(number=call.phone, country=country)
            else:
                numbers[call] = lead.phone_sanitized
        wanted = [number for number in numbers.values() if number]
        blacklisted = set()
        if wanted:
            blacklisted = set(self.env["phone.blacklist"].sudo().search([("number", "in", wanted)]).mapped("number"))
        for call in self:
            call.called_despite_dnc = bool(numbers[call]) and numbers[call] in blacklisted

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        # Calls are logged, never typed in (DESIGN.md rule 6): the module creates them
        # through _outbound_create, after checking them and with the rules applied;
        # telephony ingestion runs with the integration user's own rights, and reports
        # its own calls only.
        if not self.env.su and self.env.user.has_group(INTEGRATION_GROUP):
            vals_list = [{**vals, "integration_user_id": self.env.uid} for vals in vals_list]
        elif not self.env.su:
            raise AccessError(
                _(
                    "Calls cannot be created by hand: log them with Log Call on the lead (outbound_log_call); "
                    "a telephony integration posts them to /crm_outbound/v1/calls."
                )
            )
        calls = super().create(vals_list)
        calls._outbound_mark_first_calls()
        return calls

    @api.model
    def _outbound_create_reported(self, vals_list):
        """Create the calls the current user reports (its access checked): an
        integration with its own rights, a supervisor's CDR import through the module."""
        if self.env.su or self.env.user.has_group(INTEGRATION_GROUP):
            return self.create(vals_list)
        return self._outbound_create(vals_list)

    @api.model
    def _outbound_create(self, vals_list):
        """The one creator of calls: the values are the module's own (checked input)."""
        return self.sudo().create(vals_list).with_env(self.env)

    def write(self, vals):
        if not self.env.su:
            locked = set(vals) - self._get_operator_writable_fields()
            if locked:
                raise AccessError(
                    _(
                        "A logged call cannot be changed, except its note (you tried: %(fields)s). "
                        "Log a new call instead.",
                        fields=", ".join(sorted(locked)),
                    )
                )
        if not {"user_id", "call_at"} & set(vals):
            return super().write(vals)
        # A call moved to another operator or time leaves its day, and joins another.
        days = self._outbound_work_days()
        res = super().write(vals)
        self._outbound_mark_first_calls(days | self._outbound_work_days())
        return res

    def unlink(self):
        days = self._outbound_work_days()
        res = super().unlink()
        if days:
            self.browse()._outbound_mark_first_calls(days)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_logged(self):
        if not self.env.su:
            raise AccessError(_("Calls are never deleted: a call that happened stays in the record."))

    def init(self):
        res = super().init()
        # _outbound_mark_first_calls reads an operator's calls of a day by this index.
        create_index(
            self.env.cr,
            "crm_outbound_call_user_operator_hour_idx",
            self._table,
            ["user_id", "operator_hour"],
            where="user_id IS NOT NULL",
        )
        return res

    def _auto_init(self):
        # An upgrade from before the closings and the first calls were kept on the calls
        # marks them once.
        cr = self.env.cr
        upgrading = table_exists(cr, self._table)
        closings = upgrading and not column_exists(cr, self._table, "won_at")
        first_calls = upgrading and not column_exists(cr, self._table, "first_of_day")
        res = super()._auto_init()
        if closings:
            self._outbound_mark_closings()
        if first_calls:
            self._outbound_mark_first_calls()
        return res

    def _outbound_work_days(self):
        """The (operator id, local day number) of the calls of ``self`` that have an operator."""
        return {(call.user_id.id, (call.operator_hour + HOUR_SHIFT) // 24) for call in self if call.user_id}

    def _outbound_mark_first_calls(self, days=None):
        """Mark again which calls start an hour and a day of work, in one UPDATE over
        the local days (``days``, else those of the calls of ``self``; every day if
        both are empty) of their operators: the first call (by call time, then id) of
        each operator and local hour, and of each operator and local day. A call logged
        later in the day marks the day again, which also mends a double mark left by two
        transactions at once."""
        self.flush_model(["user_id", "call_at", "operator_hour", "first_of_hour", "first_of_day"])
        if days is None and not self:  # every call (an upgrade)
            calls = SQL("call.user_id IS NOT NULL")
        else:
            days = days if days is not None else self._outbound_work_days()
            if not days:
                return
            # One range of the (operator, hour) index per day, spelled out: joined to a
            # list of days, PostgreSQL reads the whole table instead.
            calls = SQL(" OR ").join(
                SQL(
                    "(call.user_id = %s AND call.operator_hour >= %s AND call.operator_hour < %s)",
                    user_id,
                    day * 24 - HOUR_SHIFT,
                    day * 24 - HOUR_SHIFT + 24,
                )
                for user_id, day in sorted(days)
            )
        self.env.cr.execute(
            SQL(
                """
                WITH marks AS (
                    SELECT call.id,
                           row_number() OVER (PARTITION BY call.user_id, call.operator_hour
                                                  ORDER BY call.call_at, call.id) = 1 AS hour_start,
                           row_number() OVER (PARTITION BY call.user_id, (call.operator_hour + %(shift)s) / 24
                                                  ORDER BY call.call_at, call.id) = 1 AS day_start
                      FROM crm_outbound_call AS call
                     WHERE %(calls)s
                )
                UPDATE crm_outbound_call AS call
                   SET first_of_hour = marks.hour_start, first_of_day = marks.day_start
                  FROM marks
                 WHERE call.id = marks.id
                   AND (COALESCE(call.first_of_hour, FALSE), COALESCE(call.first_of_day, FALSE))
                       IS DISTINCT FROM (marks.hour_start, marks.day_start)
                """,
                calls=calls,
                shift=HOUR_SHIFT,
            )
        )
        self.invalidate_model(["first_of_hour", "first_of_day"])

    @api.model
    def _outbound_mark_closings(self, leads=None):
        """Mark again, in one UPDATE, which calls of ``leads`` (default: every lead)
        closed and won them: the last call of a lead lost or won (by call time, then
        id) carries the lead's number of calls; the last result call before a win (a
        minute's grace) carries the win's date and the lead's expected revenue."""
        if leads is not None and not leads:
            return
        of_leads = SQL("call.lead_id IN %s", tuple(leads.ids)) if leads is not None else SQL("call.lead_id IS NOT NULL")
        self.env["crm.lead"].flush_model(
            ["active", "stage_id", "expected_revenue", "date_closed", "outbound_attempt_count"]
        )
        self.flush_model(["lead_id", "call_at", "is_result", *CLOSING_FIELDS])
        self.env.cr.execute(
            SQL(
                """
                WITH closing AS (
                    SELECT DISTINCT ON (call.lead_id) call.id, lead.outbound_attempt_count AS calls
                      FROM crm_outbound_call AS call
                      JOIN crm_lead AS lead ON lead.id = call.lead_id
                 LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
                     WHERE %(of_leads)s AND (lead.active IS NOT TRUE OR stage.is_won IS TRUE)
                  ORDER BY call.lead_id, call.call_at DESC, call.id DESC
                ), winning AS (
                    SELECT DISTINCT ON (call.lead_id) call.id, lead.date_closed, lead.expected_revenue
                      FROM crm_outbound_call AS call
                      JOIN crm_lead AS lead ON lead.id = call.lead_id AND lead.active
                      JOIN crm_stage AS stage ON stage.id = lead.stage_id AND stage.is_won
                     WHERE %(of_leads)s AND call.is_result
                       AND call.call_at <= lead.date_closed + interval '1 minute'
                  ORDER BY call.lead_id, call.call_at DESC, call.id DESC
                ), marks AS (
                    SELECT call.id, closing.calls, winning.date_closed,
                           CASE WHEN winning.id IS NOT NULL THEN COALESCE(winning.expected_revenue, 0) END
                               AS revenue
                      FROM crm_outbound_call AS call
                 LEFT JOIN closing ON closing.id = call.id
                 LEFT JOIN winning ON winning.id = call.id
                     WHERE %(of_leads)s
                )
                UPDATE crm_outbound_call AS call
                   SET closed_lead_calls = marks.calls, won_at = marks.date_closed, won_revenue = marks.revenue
                  FROM marks
                 WHERE call.id = marks.id
                   AND (call.closed_lead_calls, call.won_at, call.won_revenue)
                       IS DISTINCT FROM (marks.calls, marks.date_closed, marks.revenue)
                """,
                of_leads=of_leads,
            )
        )
        self.invalidate_model(CLOSING_FIELDS)

    @api.model
    def _get_operator_writable_fields(self):
        return {"note"}

    @api.model
    def load(self, fields, data):
        """Import a telephony's call detail records (CDR) like calls it posts: the
        same matching, idempotency and cadence (``_outbound_ingest``), keyed by the
        importing user. Columns: see ``_outbound_import_columns``. As for any import,
        one wrong row imports nothing and its message says why."""
        unknown = [name for name in fields if name not in self._outbound_import_columns()]
        if unknown:
            message = _(
                "Calls are imported from call detail records with the columns %(allowed)s; "
                "remove or remap %(unknown)s.",
                allowed=", ".join(self._outbound_import_columns()),
                unknown=", ".join(unknown),
            )
            return {"ids": False, "messages": [self._outbound_import_message(0, message)], "nextrow": 0}
        # base_import sends big files in batches of _import_limit rows.
        limit = self.env.context.get("_import_limit") or len(data)
        rows, nextrow = data[:limit], (limit if len(data) > limit else 0)
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        items = [self._outbound_import_item(dict(zip(fields, row, strict=False)), tz) for row in rows]
        savepoint = self.env.cr.savepoint()
        try:
            results = self._outbound_ingest(items, source="import")
        except AccessError as error:
            savepoint.close(rollback=True)
            return {"ids": False, "messages": [self._outbound_import_message(0, error.args[0])], "nextrow": 0}
        messages = [
            self._outbound_import_message(index, result["error"])
            for index, result in enumerate(results)
            if result["result"] == "error"
        ]
        savepoint.close(rollback=bool(messages))
        if messages:
            return {"ids": False, "messages": messages, "nextrow": 0}
        ids = [result["call_id"] for result in results if result["result"] in ("created", "unmatched")]
        return {"ids": ids, "messages": [], "nextrow": nextrow}

    @api.model
    def _outbound_import_message(self, index, message):
        return {"type": "error", "message": message, "record": index, "rows": {"from": index, "to": index}}

    @api.model
    def _outbound_import_columns(self):
        """The importable columns, as Odoo's import names them, and the telephony item
        key each one fills."""
        return {
            "external_id": "external_id",
            "phone": "phone",
            "lead_id/.id": "lead_id",
            "lead_id/id": "lead_id",
            "call_at": "started_at",
            "duration": "duration",
            "answered": "answered",
            "user_id": "operator",
            "recording_url": "recording_url",
            "status_code": "status_code",
        }

    @api.model
    def _outbound_import_item(self, row, tz):
        """One telephony item from one imported row (strings): dates without an
        offset are in the importing user's time zone, as Odoo imports them."""
        item = {}
        for column, value in row.items():
            value = (value or "").strip()
            if not value:
                continue
            key = self._outbound_import_columns()[column]
            if column == "lead_id/id":
                lead = self.env.ref(value if "." in value else f"__import__.{value}", raise_if_not_found=False)
                value = lead.id if lead and lead._name == "crm.lead" else value
            elif key in ("lead_id", "duration"):
                value = int(value) if value.isdigit() else value
            elif key == "answered":
                value = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
                    value.lower(), value
                )
            elif key == "started_at":
                value = self._outbound_import_datetime(value, tz)
            item[key] = value
        for key in ("duration", "answered"):
            item.setdefault(key, 0 if key == "duration" else False)
        return item

    @api.model
    def _outbound_import_datetime(self, value, tz):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = pytz.timezone(tz).localize(moment)
        return moment.isoformat()

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_outbound_attach(self):
        """Open the dialog that attaches these unmatched calls to a lead."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Attach to Lead"),
            "res_model": "crm.outbound.call.attach",
            "view_mode": "form",
            "target": "new",
            "context": {"default_call_ids": self.ids},
        }

    # ------------------------------------------------------------
    # BUSINESS: the checks every call goes through (dialog, RPC, telephony, import)
    # ------------------------------------------------------------

    @api.model
    def _outbound_check_duration(self, value):
        """Return ``value`` if it is a call's duration: whole seconds that the column
        holds; raise ``ValidationError`` naming it otherwise."""
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DURATION:
            raise ValidationError(
                _(
                    "duration = %(value)s: the duration of a call is a whole number of seconds from 0 to %(max)s.",
                    value=_json_repr(value),
                    max=MAX_DURATION,
                )
            )
        return value

    @api.model
    def _outbound_check_moment(self, key, moment):
        """Return the naive UTC datetime ``moment`` if it lies in the years a call may
        have (DESIGN.md: 2000 to 2099); raise ``ValidationError`` naming it otherwise."""
        if not MIN_CALL_YEAR <= moment.year <= MAX_CALL_YEAR:
            raise ValidationError(
                _(
                    "%(key)s = %(value)s: give a date between the years %(min)s and %(max)s.",
                    key=key,
                    value=_json_repr(str(moment)),
                    min=MIN_CALL_YEAR,
                    max=MAX_CALL_YEAR,
                )
            )
        return moment

    # ------------------------------------------------------------
    # BUSINESS: telephony
    # ------------------------------------------------------------

    @api.model
    def _outbound_check_ingest_access(self, source="webhook"):
        """Raise ``AccessError`` unless the current user may report calls: a user of
        the group Outbound: Telephony Integration, or a supervisor for a CDR import."""
        if self.env.su or self.env.user.has_group(INTEGRATION_GROUP):
            return
        if source == "import" and self.env["crm.lead"]._outbound_is_supervisor():
            return
        raise AccessError(
            _(
                "User %(user)s may not report calls: add it to the group %(group)s (or, for a CDR import, "
                "to %(supervisors)s).",
                user=self.env.user.login,
                group=self.env.ref(INTEGRATION_GROUP).sudo().full_name,
                supervisors=self.env["crm.lead"]._outbound_supervisor_group().full_name,
            )
        )

    @api.model
    def _outbound_ingest(self, items, source="webhook"):
        """Log the calls a telephony reports (DESIGN.md, HTTP and rule 6) and return
        one result per item, in order: ``{"external_id", "result", "call_id",
        "lead_id", "error", "reason"}`` with ``result`` in ``created``, ``duplicate``,
        ``unmatched``, ``error``.

        A call that happened is stored: ``error`` is only for an item that cannot be
        stored at all (not an object, no ``external_id``, a required field missing or
        malformed), and writes nothing. Every other item is stored once per
        integration user and ``external_id``: on its lead like a call of the Log call
        dialog (``created``), or without a lead for a supervisor to attach
        (``unmatched``: the number does not parse or matches no lead, the lead is not
        visible, lost or outside outbound calling). ``reason`` says what was kept but
        not applied: an ignored optional field, an unknown operator, a status that
        cannot be applied, a won lead that the call does not move.

        The call is created with the user's own rights; its effects on the lead
        (counters, status, tasks) are the module's own code and run as superuser, as
        does matching numbers across the company's leads. The batch's leads are
        locked in id order first, so that concurrent batches wait for each other
        rather than deadlock; a serialization failure makes Odoo run the request
        again.

        :param list items: the telephony items (JSON values)
        :param str source: ``webhook`` or ``import``
        :raise AccessError: when the user may not report calls
        """
        self._outbound_check_ingest_access(source)
        self = self.with_context(allowed_company_ids=self.env.user.company_ids.ids)
        results = [None] * len(items)
        checked = []
        for index, item in enumerate(items):
            try:
                checked.append((index, self._outbound_check_item(item)))
            except CallItemError as error:
                results[index] = self._outbound_result(item, "error", error=str(error))
        known = self._outbound_known_calls([item["external_id"] for _index, item in checked])
        for index, item in checked:
            if item["external_id"] in known:
                call = known[item["external_id"]]
                results[index] = self._outbound_result(item, "duplicate", call_id=call.id, lead_id=call.lead_id.id)
        checked = [(index, item) for index, item in checked if results[index] is None]
        leads_by_id = self._outbound_leads_by_id({item["lead_id"] for _index, item in checked if "lead_id" in item})
        leads_by_phone = self._outbound_match_phones(
            {item["phone_sanitized"] for _index, item in checked if item.get("phone_sanitized")}
        )
        operators = self._outbound_operators({item["operator"] for _index, item in checked if item.get("operator")})
        for _index, item in checked:
            item["lead"] = self._outbound_item_lead(item, leads_by_id, leads_by_phone)
        leads = self.env["crm.lead"].concat(*(item["lead"] for _index, item in checked)).sudo()
        for _index, item in checked:
            # One prefetch for the batch: each lead's fields come in the batch's query.
            item["lead"] = item["lead"].with_prefetch(leads._prefetch_ids)
        self._outbound_lock_leads(leads)
        statuses = self._outbound_statuses(leads.outbound_playbook_id)
        # A telephony's batch may come in any order; the redial cadence needs the calls'.
        checked.sort(key=lambda pair: (pair[1]["started_at"], pair[0]))
        firsts, repeats, waves, unmatched = {}, [], defaultdict(list), []
        for index, item in checked:
            if item["external_id"] in firsts:
                repeats.append((index, item))  # sent twice in one batch: a duplicate of the first
                continue
            firsts[item["external_id"]] = index
            self._outbound_plan_item(item, operators, statuses)
            if item["lead"]:
                # Waves of distinct leads: the k-th call of each lead goes in the k-th wave.
                waves[item["lead"].id].append((index, item))
            else:
                unmatched.append((index, item))
        by_rank = defaultdict(list)
        for calls in waves.values():
            for rank, pair in enumerate(calls):
                by_rank[rank].append(pair)
        for _rank, wave in sorted(by_rank.items()):
            stored = self._outbound_store_wave([item for _index, item in wave], source) if len(wave) > 1 else None
            if stored is None:  # one item, or a wave that failed: each item on its own
                for index, item in wave:
                    results[index] = self._outbound_store_one(item, source)
            else:
                for (index, item), call in zip(wave, stored, strict=True):
                    results[index] = self._outbound_stored_result(item, call)
        for index, item in unmatched:
            results[index] = self._outbound_store_one(item, source)
        for index, item in repeats:
            first = results[firsts[item["external_id"]]]
            results[index] = {**first, "result": "duplicate", "reason": None} if first["call_id"] else first
        return results

    @api.model
    def _outbound_stored_result(self, item, call):
        result = "created" if call.lead_id else "unmatched"
        return self._outbound_result(item, result, call_id=call.id, lead_id=call.lead_id.id, reasons=item["reasons"])

    @api.model
    def _outbound_store_one(self, item, source):
        """Store the call of one item: on its lead, else (whatever refused it there)
        without a lead; an ``error`` result only when it cannot be stored at all."""
        external_id = item["external_id"]
        try:
            if item["lead"]:
                try:
                    with self.env.cr.savepoint():
                        [call] = self._outbound_store_wave([item], source, single=True)
                        return self._outbound_stored_result(item, call)
                except (UserError, ValidationError, AccessError) as error:
                    item["reasons"].append(
                        _(
                            "the call cannot be logged on its lead (%(error)s): it is kept without a lead",
                            error=error.args[0],
                        )
                    )
            with self.env.cr.savepoint():
                return self._outbound_stored_result(item, self._outbound_store_unmatched(item, source))
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != EXTERNAL_ID_CONSTRAINT:
                raise
            # Delivered twice at once: the other delivery committed this call first.
            _logger.info("Call %s was delivered twice at once: duplicate", external_id)
            call = self._outbound_known_calls([external_id]).get(external_id, self.browse())
            return self._outbound_result(item, "duplicate", call_id=call.id, lead_id=call.lead_id.id)
        except (UserError, ValidationError, AccessError) as error:
            return self._outbound_result(item, "error", error=error.args[0])

    @api.model
    def _outbound_lock_leads(self, leads):
        """Lock the rows of ``leads`` in id order: two batches on overlapping leads
        wait for each other instead of deadlocking."""
        if leads:
            self.env.cr.execute(
                SQL("SELECT id FROM crm_lead WHERE id IN %s ORDER BY id FOR UPDATE", tuple(sorted(set(leads.ids))))
            )

    @api.model
    def _outbound_result(self, item, result, call_id=None, lead_id=None, error=None, reasons=None):
        external_id = item.get("external_id") if isinstance(item, dict) else None
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or _text_problem(external_id) or len(external_id) > MAX_TEXT_LENGTH:
            # Only a valid external id is echoed: the error shows the other, shortened.
            external_id = None
        return {
            "external_id": external_id.strip() if external_id else None,
            "result": result,
            "call_id": call_id or None,
            "lead_id": lead_id or None,
            "error": error,
            "reason": "; ".join(reasons) if reasons else None,
        }

    @api.model
    def _outbound_check_item(self, item):
        """Validate one telephony item; return it normalised (``started_at`` and
        ``agreed_at`` naive UTC datetimes, ``phone_sanitized`` for a number that
        parses, ``reasons`` for what is ignored), or raise ``CallItemError`` when it
        cannot be stored at all."""
        if not isinstance(item, dict):
            raise CallItemError(_("An item must be a JSON object, not %(value)s.", value=_json_repr(item)))
        if len(item) > MAX_ITEM_KEYS:
            raise CallItemError(
                _("An item has %(count)s fields; it has at most %(max)s.", count=len(item), max=MAX_ITEM_KEYS)
            )
        for key in CALL_ITEM_REQUIRED_KEYS:
            if item.get(key) is None:
                raise CallItemError(_("%(field)s is required.", field=key))
        external_id = item["external_id"]
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        checked = {"external_id": self._outbound_item_text("external_id", external_id), "reasons": []}
        checked["started_at"] = self._outbound_item_moment("started_at", item["started_at"])
        try:
            checked["duration"] = self._outbound_check_duration(item["duration"])
        except ValidationError as error:
            raise CallItemError(error.args[0]) from None
        if not isinstance(item["answered"], bool):
            raise CallItemError(_("answered = %(value)s: give true or false.", value=_json_repr(item["answered"])))
        checked["answered"] = item["answered"]
        unknown = [key for key in item if key not in CALL_ITEM_KEYS]
        if unknown:
            checked["reasons"].append(
                _(
                    "unknown fields %(fields)s ignored; an item has %(allowed)s",
                    fields=", ".join(_json_repr(key) for key in unknown[:5]) + (", …" if len(unknown) > 5 else ""),
                    allowed=", ".join(sorted(CALL_ITEM_KEYS)),
                )
            )
        optional = {
            "lead_id": self._outbound_item_lead_id,
            "phone": lambda value: self._outbound_item_text("phone", value),
            "operator": lambda value: self._outbound_item_text("operator", value),
            "status_code": lambda value: self._outbound_item_text("status_code", value),
            "recording_url": self._outbound_item_url,
            "agreed_at": lambda value: self._outbound_item_moment("agreed_at", value),
        }
        for key, check in optional.items():
            if item.get(key) is None:
                continue
            try:
                checked[key] = check(item[key])
            except CallItemError as error:
                checked["reasons"].append(_("%(error)s (ignored)", error=str(error).rstrip(".")))
        if checked.get("phone"):
            company = self.env.company
            sanitized = self.env["crm.lead"]._phone_format(number=checked["phone"], country=company.country_id)
            if sanitized:
                checked["phone_sanitized"] = sanitized
            elif "lead_id" not in checked:
                checked["reasons"].append(
                    _(
                        "phone = %(value)s is not a phone number (numbers without a country code are read as "
                        "%(country)s numbers): the call is kept with the number as reported",
                        value=_json_repr(checked["phone"]),
                        country=company.country_id.name or _("international"),
                    )
                )
        if "lead_id" not in checked and "phone" not in checked:
            checked["reasons"].append(_("neither a phone number nor a lead_id: the call is kept without a lead"))
        return checked

    @api.model
    def _outbound_item_text(self, key, value, max_length=MAX_TEXT_LENGTH):
        """A non-empty string of at most ``max_length`` characters that the database
        can store (no NUL, no unpaired surrogate), stripped."""
        problem = None
        if not isinstance(value, str):
            problem = _("give a string")
        elif _text_problem(value) == "nul":
            problem = _("a string cannot hold the character NUL")
        elif _text_problem(value):
            problem = _("a string cannot hold an unpaired surrogate")
        elif not value.strip() or len(value) > max_length:
            problem = _("give a non-empty string of at most %(max)s characters", max=max_length)
        if problem:
            raise CallItemError(
                _("%(field)s = %(value)s: %(problem)s.", field=key, value=_json_repr(value), problem=problem)
            )
        return value.strip()

    @api.model
    def _outbound_item_moment(self, key, value):
        """An ISO 8601 date and time with its offset, as a naive UTC datetime."""
        moment = None
        if isinstance(value, str) and len(value) <= 64 and not _text_problem(value):
            try:
                moment = datetime.fromisoformat(value.strip())
                if moment.tzinfo is not None and MIN_CALL_YEAR <= moment.year <= MAX_CALL_YEAR:
                    moment = self._outbound_check_moment(key, moment.astimezone(timezone.utc).replace(tzinfo=None))
                else:
                    moment = None
            except (ValueError, OverflowError, ValidationError):
                moment = None
        if moment is None:
            raise CallItemError(
                _(
                    "%(field)s = %(value)s: give an ISO 8601 date and time with its UTC offset, between the "
                    "years %(min)s and %(max)s, such as 2026-03-02T12:00:00+03:00.",
                    field=key,
                    value=_json_repr(value),
                    min=MIN_CALL_YEAR,
                    max=MAX_CALL_YEAR,
                )
            )
        return moment

    @api.model
    def _outbound_item_lead_id(self, value):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
            raise CallItemError(_("lead_id = %(value)s: give a lead's id.", value=_json_repr(value)))
        return value

    @api.model
    def _outbound_item_url(self, value):
        url = self._outbound_item_text("recording_url", value, max_length=MAX_URL_LENGTH)
        if not url.lower().startswith(("http://", "https://")):
            raise CallItemError(_("recording_url = %(value)s: give an http(s) URL.", value=_json_repr(url)))
        return url

    @api.model
    def _outbound_known_calls(self, external_ids):
        """The calls this user already reported, by external id."""
        if not external_ids:
            return {}
        calls = self.sudo().search(
            [("integration_user_id", "=", self.env.uid), ("external_id", "in", list(set(external_ids)))]
        )
        return {call.external_id: call.with_env(self.env) for call in calls}

    @api.model
    def _outbound_leads_by_id(self, lead_ids):
        """``id -> (lead, reason)`` for ``lead_ids``: the lead when a call may be
        logged on it, else no lead and why (not visible to the user, lost, outside
        outbound calling)."""
        if not lead_ids:
            return {}
        Lead = self.env["crm.lead"]
        visible = Lead.with_context(active_test=False).search([("id", "in", list(lead_ids))])
        # Iterated, the leads share one prefetch: their fields are read in one query.
        visible_by_id = {lead.id: lead for lead in visible}
        by_id = {}
        for lead_id in lead_ids:
            lead = visible_by_id.get(lead_id, Lead)
            if not lead:
                reason = _("lead_id = %(value)s is not a lead this integration may see", value=lead_id)
            elif not lead.active:
                reason = _("lead %(lead)s (lead_id = %(value)s) is lost", lead=lead.display_name, value=lead_id)
            elif not lead.outbound_playbook_id:
                reason = _(
                    "lead %(lead)s (lead_id = %(value)s) is not in outbound calling: its team has no playbook",
                    lead=lead.display_name,
                    value=lead_id,
                )
            else:
                reason = None
            by_id[lead_id] = (lead.with_env(self.env) if reason is None else Lead, reason)
        return by_id

    @api.model
    def _outbound_match_phones(self, numbers):
        """The lead each sanitized number calls: an open lead of a playbook team of
        the user's companies, not won rather than won, then the one with the most
        recent activity. Through ``phone_sanitized``, and for models that keep two
        numbers (a lead's mobile and phone on 18.0), through each of them. Numbers
        are matched across the company's leads whoever they belong to (DESIGN.md).

        A number may be on many leads (copies, siblings of a network): the best lead
        per number is chosen in the query, not by reading every candidate."""
        if not numbers:
            return {}
        Lead = self.env["crm.lead"].sudo().with_context(allowed_company_ids=self.env.user.company_ids.ids)
        domain = [("outbound_playbook_id", "!=", False), ("company_id", "in", [False, *self.env.user.company_ids.ids])]
        best = self._outbound_best_leads(Lead, [*domain, ("phone_sanitized", "in", list(numbers))], "phone_sanitized")
        number_fields = [name for name in Lead._phone_get_number_fields() if Lead._fields[name].store]
        missing = set(numbers) - set(best)
        if missing and len(number_fields) > 1:
            # phone_sanitized keeps one number of the two: look for the other one too.
            candidates = Lead.search(
                [
                    *domain,
                    *["|"] * (len(missing) - 1),
                    *[("phone_mobile_search", "=", number) for number in sorted(missing)],
                ]
            )
            leads_by_number = {}
            for lead in candidates:
                lead_numbers = {lead._phone_format(fname=name) for name in number_fields if lead[name]}
                for number in lead_numbers & missing:
                    leads_by_number.setdefault(number, []).append(lead)

            def rank(lead):
                activity = lead.outbound_last_call_at or lead.create_date
                return (not lead.stage_id.is_won, activity, lead.id)

            best.update({number: max(leads, key=rank).id for number, leads in leads_by_number.items()})
        leads = self.env["crm.lead"].browse(set(best.values()))
        return {number: leads.browse(lead_id).with_prefetch(leads._prefetch_ids) for number, lead_id in best.items()}

    @api.model
    def _outbound_best_leads(self, Lead, domain, column):
        """``value of column -> lead id``: among the leads of ``domain``, for each
        value, the lead not won before a won one, then the most recently called (or
        created), then the newest.

        One query over the leads of ``domain`` itself (no second pass over the table to
        join its ids back): a number copied onto thousands of leads costs one sort."""
        query = Lead._search(domain)
        if query.is_empty():
            return {}
        self.env["crm.lead"].flush_model([column, "stage_id", "outbound_last_call_at", "create_date"])
        self.env["crm.stage"].flush_model(["is_won"])
        lead = query.table
        stage = query.left_join(lead, "stage_id", "crm_stage", "id", "stage_id")
        value = SQL.identifier(lead, column)
        query.order = SQL(
            "%s, %s IS TRUE, COALESCE(%s, %s) DESC NULLS LAST, %s DESC",
            value,
            SQL.identifier(stage, "is_won"),
            SQL.identifier(lead, "outbound_last_call_at"),
            SQL.identifier(lead, "create_date"),
            SQL.identifier(lead, "id"),
        )
        self.env.cr.execute(query.select(SQL("DISTINCT ON (%s) %s", value, value), SQL.identifier(lead, "id")))
        return dict(self.env.cr.fetchall())

    @api.model
    def _outbound_operators(self, logins):
        if not logins:
            return {}
        users = self.env["res.users"].sudo().search([("login", "in", list(logins)), ("share", "=", False)])
        return {user.login: user for user in users}

    @api.model
    def _outbound_statuses(self, playbooks):
        """``(playbook id, code) -> status`` for ``playbooks``, and ``(playbook id,
        None) -> `` its no-answer status (the first whose outcome is no answer)."""
        statuses = self.env["crm.outbound.status"].sudo().search([("playbook_id", "in", playbooks.ids)])
        by_key = {}
        for status in statuses:
            by_key.setdefault((status.playbook_id.id, status.code), status)
            if status.outcome == "no_answer":
                by_key.setdefault((status.playbook_id.id, None), status)
        return by_key

    @api.model
    def _outbound_item_lead(self, item, leads_by_id, leads_by_phone):
        """The lead the call of ``item`` is logged on, or none (the reason added)."""
        Lead = self.env["crm.lead"]
        if "lead_id" in item:
            lead, reason = leads_by_id[item["lead_id"]]
            if reason:
                item["reasons"].append(_("%(reason)s: the call is kept without a lead", reason=reason))
            return lead
        if item.get("phone_sanitized"):
            return leads_by_phone.get(item["phone_sanitized"], Lead)
        return Lead

    @api.model
    def _outbound_item_operator(self, item, operators):
        """The operator of the call: its login; else None (the lead's salesperson);
        an unknown login leaves the call without an operator."""
        login = item.get("operator")
        if not login:
            return None
        operator = operators.get(login)
        if not operator:
            item["reasons"].append(
                _(
                    "operator = %(value)s is not the login of an active user: the call is kept without an operator",
                    value=_json_repr(login),
                )
            )
            return self.env["res.users"]
        return operator

    @api.model
    def _outbound_item_status(self, item, lead, statuses):
        """The status a reported call gives its lead: the one of its ``status_code``,
        else for an unanswered call the playbook's no-answer status, else none. A
        won lead or a lead in a final status is not moved by an unanswered call."""
        playbook = lead.sudo().outbound_playbook_id
        Status = self.env["crm.outbound.status"]
        code = item.get("status_code")
        if code:
            status = statuses.get((playbook.id, code))
            if not status:
                item["reasons"].append(
                    _(
                        "status_code = %(value)s is not a status of the playbook %(playbook)s: not applied",
                        value=_json_repr(code),
                        playbook=playbook.display_name,
                    )
                )
                return Status
        elif not item["answered"]:
            status = statuses.get((playbook.id, None), Status)
        else:
            return Status
        if lead.sudo()._outbound_unmoved_by(status, reported=True):
            item["reasons"].append(
                _(
                    "lead %(lead)s is won or in a final status: the unanswered call is counted and does not move it",
                    lead=lead.sudo().display_name,
                )
            )
            return Status
        return status

    @api.model
    def _outbound_plan_item(self, item, operators, statuses):
        """Decide, once, what the call of ``item`` does: ``item["operator_user"]``
        (None for the lead's salesperson), ``item["call"]`` (the values the one call
        validator returns) with the status it gives the lead, if any can be applied."""
        item["operator_user"] = self._outbound_item_operator(item, operators)
        lead = item["lead"]
        if not lead:
            return
        status = self._outbound_item_status(item, lead, statuses)
        lead = lead.sudo()
        try:
            try:
                call = lead._outbound_check_call_vals(
                    self._outbound_item_call_vals(item, status), status_required=False
                )
            except (UserError, ValidationError) as error:
                if not status:
                    raise
                item["reasons"].append(_("status not applied: %(error)s", error=error.args[0]))
                call = lead._outbound_check_call_vals(
                    self._outbound_item_call_vals(item, self.env["crm.outbound.status"]), status_required=False
                )
        except (UserError, ValidationError) as error:
            item["reasons"].append(
                _("the call cannot be logged on its lead (%(error)s): it is kept without a lead", error=error.args[0])
            )
            item["lead"] = self.env["crm.lead"]
            return
        call["answered"] = item["answered"]
        item["call"] = call

    @api.model
    def _outbound_item_call_vals(self, item, status):
        """The values of ``crm.lead.outbound_log_call`` for one item (the one call
        validator checks them)."""
        # The status record itself, read with the batch's statuses: no query per item.
        vals = {"status_id": status, "duration": item["duration"], "call_at": item["started_at"]}
        if status and item.get("agreed_at"):
            vals["agreed_at"] = item["agreed_at"]
        if item.get("recording_url"):
            vals["recording_url"] = item["recording_url"]
        return vals

    @api.model
    def _outbound_item_extra_vals(self, item):
        """The telephony's own values of the call of ``item``."""
        vals = {
            "external_id": item["external_id"],
            "integration_user_id": self.env.uid,
            "phone": item.get("phone") or False,
            "status_code": item.get("status_code") or False,
        }
        if item.get("agreed_at"):
            vals["agreed_at"] = item["agreed_at"]
        return vals

    @api.model
    def _outbound_store_wave(self, items, source, single=False):
        """Log the calls of ``items`` (planned, on distinct leads) in bulk, like the
        Log call dialog: one INSERT, one counter UPDATE, each status applied to its
        leads at once. Return the calls in the order of ``items``, or None when the
        wave failed (nothing of it is written: the caller stores each item alone).

        With ``single`` (one item), a status that cannot be applied is left out with
        its reason and the call kept; errors are raised."""
        Lead = self.env["crm.lead"]
        leads = Lead.concat(*(item["lead"] for item in items)).sudo()
        vals_list = []
        for item in items:
            lead = item["lead"].sudo()
            operator = item["operator_user"] if item["operator_user"] is not None else lead.user_id
            vals_list.append(
                {
                    **Lead._prepare_call_vals(lead, item["call"], operator=operator, source=source),
                    **self._outbound_item_extra_vals(item),
                }
            )
        try:
            with self.env.cr.savepoint():
                # The integration user's own right to create calls; the effects on the
                # leads are the module's own (DESIGN.md rule 6).
                calls = self._outbound_create_once(vals_list)
                for item, call in zip(items, calls, strict=True):
                    item["stored_call"] = call
                leads = leads.with_context(mail_activity_quick_update=True)
                leads._outbound_count_calls(calls.sudo())
                leads._outbound_update_first_days()
                self._outbound_apply_statuses(items, leads, single)
        except (UserError, ValidationError, AccessError, psycopg2.errors.UniqueViolation) as error:
            if single:
                raise
            _logger.debug("A wave of %s calls failed (%s): each call on its own", len(items), error)
            return None
        return calls

    @api.model
    def _outbound_apply_statuses(self, items, leads, single):
        """Apply the statuses of ``items`` to their leads: one call of
        ``_outbound_apply_status`` per status, each lead's cadence from its call."""
        groups = defaultdict(list)
        for item in items:
            call = item["call"]
            if call["status"]:
                groups[call["status"], call["code"], call["agreed_at"]].append(item)
        for (status, code, agreed_at), group in groups.items():
            group_leads = leads.browse([item["lead"].id for item in group])
            base_at = {item["lead"].id: item["call"]["call_at"] for item in group}
            # The calls say who made them: a lead the lost gate holds tells its operator.
            calls = self.concat(*(item["stored_call"] for item in group if item.get("stored_call")))
            if not single:
                group_leads._outbound_apply_call_status(status, code, "", agreed_at, base_at, calls=calls)
                continue
            try:
                with self.env.cr.savepoint():
                    group_leads._outbound_apply_call_status(status, code, "", agreed_at, base_at, calls=calls)
            except (UserError, ValidationError, AccessError) as error:
                group[0]["reasons"].append(_("status not applied: %(error)s", error=error.args[0]))

    @api.model
    def _outbound_store_unmatched(self, item, source):
        """Keep a call that is not applied to a lead, for a supervisor to attach."""
        Lead = self.env["crm.lead"]
        call = {
            "status": self.env["crm.outbound.status"],
            "code": self.env["crm.outbound.comment.code"],
            "note": False,
            "duration": item["duration"],
            "call_at": item["started_at"],
            "agreed_at": item.get("agreed_at") or False,
            "recording_url": item.get("recording_url") or False,
            "answered": item["answered"],
        }
        operator = item.get("operator_user") or self.env["res.users"]
        vals = Lead._prepare_call_vals(Lead, call, operator=operator, source=source)
        vals.update(self._outbound_item_extra_vals(item))
        vals["unmatched_reason"] = "; ".join(item["reasons"]) or False
        return self._outbound_create_once([vals])

    @api.model
    def _outbound_create_once(self, vals_list):
        """``_outbound_create_reported`` for calls that another delivery may have
        stored meanwhile: the unique index on the external id refuses the second one
        (``UniqueViolation``, which the caller turns into a duplicate, in a
        savepoint). That refusal is the expected end of a race, not a failure of the
        database: the query logger does not report it as an error, and the exception
        still reaches the caller."""
        with _quiet_external_id_race():
            return self._outbound_create_reported(vals_list)

    def _outbound_attach(self, lead):
        """Attach the unmatched calls of ``self`` to ``lead`` and apply them as if
        they had matched it when reported: counters, status, redial cadence."""
        lead.ensure_one()
        lead.check_access("write")
        attached = self.filtered(lambda call: not call.lead_id)
        if attached != self:
            raise UserError(
                _(
                    "Only unmatched calls can be attached to a lead; %(calls)s already belong to one.",
                    calls=", ".join((self - attached).mapped("display_name")),
                )
            )
        if not lead.outbound_playbook_id or not lead.active:
            raise UserError(
                _(
                    "Calls can only be attached to an open lead of a team with a playbook, not to %(lead)s.",
                    lead=lead.display_name,
                )
            )
        statuses = self._outbound_statuses(lead.sudo().outbound_playbook_id)
        self._outbound_lock_leads(lead)
        sudo_lead = lead.sudo().with_context(mail_activity_quick_update=True)
        for call in attached.sorted(lambda call: (call.call_at, call.id)):
            item = {
                "external_id": call.external_id,
                "started_at": call.call_at,
                "duration": call.duration,
                "answered": call.answered,
                "status_code": call.status_code,
                "agreed_at": call.agreed_at,
                "recording_url": call.recording_url,
                "lead": lead,
                "reasons": [],
                "stored_call": call,
            }
            self._outbound_plan_item(item, {}, statuses)
            if not item["lead"]:
                raise UserError("; ".join(item["reasons"]))
            operator = call.user_id or sudo_lead.user_id
            # A logged call is locked for operators (its write()); attaching is ours to do.
            sudo_lead._outbound_log_checked_call(
                item["call"],
                {"unmatched_reason": False},
                unmatched=call,
                operator=operator,
                source=call.source,
                apply_status=False,
            )
            self._outbound_apply_statuses([item], sudo_lead, single=True)
        return True


class _ExternalIdRaceFilter(logging.Filter):
    """Drops the query logger's error for an insert that the external id's unique index
    refused, logged by the thread that installed the filter: Odoo's ``mute_logger``
    silences the logger for every thread, and two threads leaving it out of order
    leave it silenced for good."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record):
        return not (
            record.thread == self.thread
            and record.levelno >= logging.ERROR
            and EXTERNAL_ID_CONSTRAINT in " ".join(map(str, record.args or ()))
        )


@contextmanager
def _quiet_external_id_race():
    logger = logging.getLogger("odoo.sql_db")
    quiet = _ExternalIdRaceFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _text_problem(text):
    """Why the database cannot store ``text``: ``nul`` (a NUL character),
    ``surrogate`` (an unpaired surrogate), or None."""
    if "\x00" in text:
        return "nul"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "surrogate"
    return None


def _json_repr(value):
    """A short rendering of a JSON value for an error message: ASCII-safe, at most
    80 characters, containers shown as {…} and […] rather than printed."""
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return "[…]"
    if isinstance(value, str):
        value = value[:80]
    text = json.dumps(value, ensure_ascii=isinstance(value, str) and bool(_text_problem(value)))
    return text if len(text) <= 80 else text[:77] + "…"
