import logging
from datetime import datetime, timezone

import psycopg2.errors
import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

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
}
CALL_ITEM_REQUIRED_KEYS = ("external_id", "started_at", "duration", "answered")
MAX_TEXT_LENGTH = 255
MAX_URL_LENGTH = 2048
EXTERNAL_ID_CONSTRAINT = "crm_outbound_call_external_id_uniq"


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

    called_despite_dnc = fields.Boolean(
        "Called Despite Do-Not-Call",
        compute="_compute_called_despite_dnc",
        store=True,
        precompute=True,
        readonly=True,
        index="btree_not_null",
        help="The number was on the do-not-call list when the call was stored (DESIGN.md rule 7).",
    )

    add_unique_constraint(
        locals(),
        "external_id_uniq",
        "UNIQUE(integration_user_id, external_id)",
        "A call with this external id was already reported by this integration.",
    )

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

    def write(self, vals):
        if not self.env.is_superuser() and not self.env.user.has_group("sales_team.group_sale_manager"):
            locked = set(vals) - self._get_operator_writable_fields()
            if locked:
                raise UserError(
                    _(
                        "A logged call cannot be changed, except its note (you tried: %(fields)s). "
                        "Log a new call instead.",
                        fields=", ".join(sorted(locked)),
                    )
                )
        return super().write(vals)

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
    # BUSINESS: telephony
    # ------------------------------------------------------------

    @api.model
    def _outbound_check_ingest_access(self):
        """Raise ``AccessError`` unless the current user may log calls."""
        if not self.has_access("create"):
            raise AccessError(
                _(
                    "User %(user)s may not log calls: add it to the group Outbound Telephony Integration.",
                    user=self.env.user.login,
                )
            )

    @api.model
    def _outbound_ingest(self, items, source="webhook"):
        """Log the calls a telephony reports (DESIGN.md, HTTP) and return one result
        per item, in order: ``{"external_id", "result", "call_id", "lead_id", "error"}``
        with ``result`` in ``created``, ``duplicate``, ``unmatched``, ``error``.

        Each item is matched to a lead (its ``lead_id``, else its phone), is logged
        like a call of the Log call dialog (counters, status, redial cadence) and is
        idempotent per integration user and ``external_id``. Items are independent:
        a wrong one gets an ``error`` result naming the field and the value, and
        writes nothing; the others are logged. Matching reads the leads with the
        user's own rights; logging a matched call then runs as superuser, on that
        lead only, with the user recorded as its author.

        :param list items: the telephony items (dicts)
        :param str source: ``webhook`` or ``import``
        :raise AccessError: when the user may not log calls
        """
        self._outbound_check_ingest_access()
        user = self.env.user
        self = self.with_context(allowed_company_ids=user.company_ids.ids)
        results = [None] * len(items)
        checked = []
        for index, item in enumerate(items):
            try:
                checked.append((index, self._outbound_check_item(item)))
            except CallItemError as error:
                results[index] = self._outbound_result(item, "error", error=str(error))
        known = self._outbound_known_calls([item["external_id"] for _index, item in checked])
        leads_by_id = self._outbound_visible_leads([item["lead_id"] for _index, item in checked if "lead_id" in item])
        leads_by_phone = self._outbound_match_phones(
            {item["phone_sanitized"] for _index, item in checked if "lead_id" not in item}
        )
        operators = self._outbound_operators({item["operator"] for _index, item in checked if item.get("operator")})
        playbooks = (
            self.env["crm.lead"].concat(*leads_by_id.values(), *leads_by_phone.values()).sudo().outbound_playbook_id
        )
        statuses = self._outbound_statuses(playbooks)
        # A telephony's batch may come in any order; the redial cadence needs the calls'.
        checked.sort(key=lambda pair: (pair[1]["started_at"], pair[0]))
        for index, item in checked:
            external_id = item["external_id"]
            if external_id in known:
                call = known[external_id]
                results[index] = self._outbound_result(item, "duplicate", call_id=call.id, lead_id=call.lead_id.id)
                continue
            try:
                lead = self._outbound_item_lead(item, leads_by_id, leads_by_phone)
                operator = self._outbound_item_operator(item, operators, lead)
                with self.env.cr.savepoint():
                    if lead:
                        call = self._outbound_log_item(item, lead, operator, statuses, source)
                    else:
                        call = self._outbound_store_unmatched(item, operator, source)
                known[external_id] = call
                result = "created" if lead else "unmatched"
                results[index] = self._outbound_result(item, result, call_id=call.id, lead_id=lead.id)
            except CallItemError as error:
                results[index] = self._outbound_result(item, "error", error=str(error))
            except (UserError, ValidationError, AccessError) as error:
                results[index] = self._outbound_result(item, "error", error=error.args[0])
            except psycopg2.errors.UniqueViolation as error:
                if error.diag.constraint_name != EXTERNAL_ID_CONSTRAINT:
                    raise
                # Delivered twice at once: the other delivery committed this call first.
                _logger.info("Call %s of user %s was delivered twice at once: duplicate", external_id, user.login)
                call = self._outbound_known_calls([external_id]).get(external_id, self.browse())
                results[index] = self._outbound_result(item, "duplicate", call_id=call.id, lead_id=call.lead_id.id)
        return results

    @api.model
    def _outbound_result(self, item, result, call_id=None, lead_id=None, error=None):
        external_id = item.get("external_id") if isinstance(item, dict) else None
        return {
            "external_id": external_id if isinstance(external_id, str | int) else None,
            "result": result,
            "call_id": call_id or None,
            "lead_id": lead_id or None,
            "error": error,
        }

    @api.model
    def _outbound_check_item(self, item):
        """Validate one telephony item; return it normalised (``started_at`` a naive
        UTC datetime, ``phone_sanitized`` for the phone), or raise ``CallItemError``."""
        if not isinstance(item, dict):
            raise CallItemError(_("An item must be a JSON object, not %(value)s.", value=_json_repr(item)))
        unknown = sorted(str(key) for key in set(item) - CALL_ITEM_KEYS)
        if unknown:
            raise CallItemError(
                _(
                    "Unknown fields %(fields)s; an item has %(allowed)s.",
                    fields=", ".join(unknown),
                    allowed=", ".join(sorted(CALL_ITEM_KEYS)),
                )
            )
        for key in CALL_ITEM_REQUIRED_KEYS:
            if item.get(key) is None:
                raise CallItemError(_("%(field)s is required.", field=key))
        external_id = item["external_id"]
        if isinstance(external_id, int) and not isinstance(external_id, bool):
            external_id = str(external_id)
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > MAX_TEXT_LENGTH:
            raise CallItemError(
                _(
                    "external_id = %(value)s: give a non-empty string of at most %(max)s characters.",
                    value=_json_repr(item["external_id"]),
                    max=MAX_TEXT_LENGTH,
                )
            )
        checked = {"external_id": external_id.strip()}
        checked["started_at"] = self._outbound_check_started_at(item["started_at"])
        duration = item["duration"]
        if not isinstance(duration, int) or isinstance(duration, bool) or not 0 <= duration < 2**31:
            raise CallItemError(_("duration = %(value)s: give whole seconds, 0 or more.", value=_json_repr(duration)))
        checked["duration"] = duration
        if not isinstance(item["answered"], bool):
            raise CallItemError(_("answered = %(value)s: give true or false.", value=_json_repr(item["answered"])))
        checked["answered"] = item["answered"]
        lead_id = item.get("lead_id")
        if lead_id is not None:
            if not isinstance(lead_id, int) or isinstance(lead_id, bool) or not 0 < lead_id < 2**31:
                raise CallItemError(_("lead_id = %(value)s: give a lead's id.", value=_json_repr(lead_id)))
            checked["lead_id"] = lead_id
        phone = item.get("phone")
        if phone is not None:
            if not isinstance(phone, str) or len(phone) > MAX_TEXT_LENGTH:
                raise CallItemError(_("phone = %(value)s: give the number as a string.", value=_json_repr(phone)))
            checked["phone"] = phone.strip()
            if lead_id is None:
                company = self.env.company
                sanitized = self.env["crm.lead"]._phone_format(number=phone, country=company.country_id)
                if not sanitized:
                    raise CallItemError(
                        _(
                            "phone = %(value)s is not a phone number (numbers without a country code "
                            "are read as %(country)s numbers).",
                            value=_json_repr(phone),
                            country=company.country_id.name or _("international"),
                        )
                    )
                checked["phone_sanitized"] = sanitized
        if lead_id is None and phone is None:
            raise CallItemError(_("phone or lead_id is required."))
        for key, max_length in (("operator", MAX_TEXT_LENGTH), ("status_code", MAX_TEXT_LENGTH)):
            value = item.get(key)
            if value is not None:
                if not isinstance(value, str) or not value.strip() or len(value) > max_length:
                    raise CallItemError(
                        _("%(field)s = %(value)s: give a non-empty string.", field=key, value=_json_repr(value))
                    )
                checked[key] = value.strip()
        url = item.get("recording_url")
        if url is not None:
            if (
                not isinstance(url, str)
                or len(url) > MAX_URL_LENGTH
                or not url.lower().startswith(("http://", "https://"))
            ):
                raise CallItemError(_("recording_url = %(value)s: give an http(s) URL.", value=_json_repr(url)))
            checked["recording_url"] = url
        return checked

    @api.model
    def _outbound_check_started_at(self, value):
        if isinstance(value, str) and len(value) <= 64:
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
            if moment and moment.tzinfo is not None:
                return moment.astimezone(timezone.utc).replace(tzinfo=None)
        raise CallItemError(
            _(
                "started_at = %(value)s: give an ISO 8601 date and time with its UTC offset, "
                "such as 2026-03-02T12:00:00+03:00.",
                value=_json_repr(value),
            )
        )

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
    def _outbound_visible_leads(self, lead_ids):
        """The leads of ``lead_ids`` the user may read, by id."""
        if not lead_ids:
            return {}
        leads = self.env["crm.lead"].search([("id", "in", list(set(lead_ids)))])
        return {lead.id: lead for lead in leads}

    @api.model
    def _outbound_match_phones(self, numbers):
        """The lead each sanitized number calls: an open lead of a playbook team the
        user may read, not won rather than won, then the one with the most recent
        activity. Through ``phone_sanitized``, and for models that keep two numbers
        (a lead's mobile and phone on 18.0), through each of them."""
        if not numbers:
            return {}
        Lead = self.env["crm.lead"]
        domain = [("outbound_playbook_id", "!=", False)]
        candidates = Lead.search([*domain, ("phone_sanitized", "in", list(numbers))])
        number_fields = [name for name in Lead._phone_get_number_fields() if Lead._fields[name].store]
        missing = set(numbers) - set(candidates.mapped("phone_sanitized"))
        if missing and len(number_fields) > 1:
            # phone_sanitized keeps one number of the two: look for the other one too.
            candidates |= Lead.search(
                [
                    *domain,
                    *["|"] * (len(missing) - 1),
                    *[("phone_mobile_search", "=", number) for number in sorted(missing)],
                ]
            )
        leads_by_number = {}
        for lead in candidates.sudo():
            lead_numbers = {lead.phone_sanitized}
            if lead.phone_sanitized not in numbers:
                lead_numbers = {lead._phone_format(fname=name) for name in number_fields if lead[name]}
            for number in lead_numbers & numbers:
                leads_by_number.setdefault(number, []).append(lead)

        def rank(lead):
            activity = lead.outbound_last_call_at or lead.create_date
            return (not lead.stage_id.is_won, activity, lead.id)

        return {number: max(leads, key=rank).with_env(self.env) for number, leads in leads_by_number.items()}

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
        if "lead_id" in item:
            lead = leads_by_id.get(item["lead_id"])
            if not lead:
                raise CallItemError(_("lead_id = %(value)s is not a lead you may log calls on.", value=item["lead_id"]))
            return lead
        return leads_by_phone.get(item["phone_sanitized"], self.env["crm.lead"])

    @api.model
    def _outbound_item_operator(self, item, operators, lead):
        """The operator of the call: its login, else the lead's salesperson."""
        if item.get("operator"):
            operator = operators.get(item["operator"])
            if not operator:
                raise CallItemError(
                    _("operator = %(value)s is not the login of a user.", value=_json_repr(item["operator"]))
                )
            return operator
        return lead.sudo().user_id

    @api.model
    def _outbound_item_status(self, item, lead, statuses):
        """The status a reported call gives its lead: the one of its ``status_code``,
        else for an unanswered call the playbook's no-answer status, else none."""
        playbook = lead.sudo().outbound_playbook_id
        code = item.get("status_code")
        if code:
            status = statuses.get((playbook.id, code))
            if not status:
                raise CallItemError(
                    _(
                        "status_code = %(value)s is not a status of the playbook %(playbook)s of lead %(lead)s.",
                        value=_json_repr(code),
                        playbook=playbook.display_name or _("(none)"),
                        lead=lead.sudo().display_name,
                    )
                )
            return status
        if not item["answered"]:
            return statuses.get((playbook.id, None), self.env["crm.outbound.status"])
        return self.env["crm.outbound.status"]

    @api.model
    def _outbound_log_item(self, item, lead, operator, statuses, source, unmatched=None):
        """Log one reported call on ``lead`` as a call of the Log call dialog."""
        status = self._outbound_item_status(item, lead, statuses)
        lead = lead.sudo().with_context(
            crm_outbound_operator_id=operator.id,
            crm_outbound_call_source=source,
            # No e-mail per redial task a PBX schedules: the redial queue tells operators.
            mail_activity_quick_update=True,
        )
        vals = {"status_id": status.id, "duration": item["duration"], "call_at": item["started_at"]}
        if item.get("recording_url"):
            vals["recording_url"] = item["recording_url"]
        call = lead._outbound_check_call_vals(vals, status_required=False)
        call["answered"] = item["answered"]
        extra_vals = {
            "external_id": item["external_id"],
            # An attached call stays keyed by the integration that reported it.
            "integration_user_id": unmatched.integration_user_id.id if unmatched else self.env.uid,
            "phone": item.get("phone") or False,
            "status_code": item.get("status_code") or False,
        }
        return lead._outbound_log_checked_call(call, extra_vals, unmatched=unmatched).with_env(self.env)

    @api.model
    def _outbound_store_unmatched(self, item, operator, source):
        """Keep a call that matches no lead, for a supervisor to attach."""
        return (
            self.sudo()
            .create(
                {
                    "lead_id": False,
                    "user_id": operator.id,
                    "company_id": self.env.company.id,
                    "call_at": item["started_at"],
                    "duration": item["duration"],
                    "answered": item["answered"],
                    "recording_url": item.get("recording_url") or False,
                    "source": source,
                    "external_id": item["external_id"],
                    "integration_user_id": self.env.uid,
                    "phone": item.get("phone") or False,
                    "status_code": item.get("status_code") or False,
                }
            )
            .with_env(self.env)
        )

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
        statuses = self._outbound_statuses(lead.sudo().outbound_playbook_id)
        for call in attached.sorted(lambda call: (call.call_at, call.id)):
            item = {
                "external_id": call.external_id,
                "started_at": call.call_at,
                "duration": call.duration,
                "answered": call.answered,
                "recording_url": call.recording_url,
                "phone": call.phone,
                "status_code": call.status_code,
            }
            operator = call.user_id or lead.sudo().user_id
            try:
                self._outbound_log_item(item, lead, operator, statuses, call.source, unmatched=call)
            except CallItemError as error:
                raise UserError(str(error)) from None
        return True


def _json_repr(value):
    """A short rendering of a JSON value for an error message."""
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 80 else text[:77] + "…"
