from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_datetime
from odoo.tools.sql import create_index

# A lead handed out by outbound_next_lead stays with its operator this long: enough to
# dial and talk; unless a call is logged, it then goes back to the queue.
CLAIM_MINUTES = 5
# A skipped lead stays out of every queue this long.
SKIP_MINUTES = 30
# An agreed date this far back from the call is a typing slip, not a time (DESIGN.md rule 8).
AGREED_PAST_GRACE = timedelta(minutes=5)
AGREED_MAX_AHEAD = timedelta(days=366)
# A picked day, or a date typed without a time, is called at this local time.
DEFAULT_AGREED_TIME = time(10)
# Last calls shown in the session.
SESSION_CALLS = 5


class CrmOutboundSessionMixin(models.AbstractModel):
    """The operator's calling session (DESIGN.md rule 8): the next lead, claimed so that
    two operators never get the same one, and what the session screen shows of it.

    Inherited by ``crm.lead``."""

    _name = "crm.outbound.session.mixin"
    _description = "Outbound Calling Session"

    outbound_claim_user_id = fields.Many2one(
        "res.users", "Claimed By", readonly=True, copy=False, help="The operator calling the lead in a session."
    )
    outbound_claim_until = fields.Datetime(
        "Claimed Until",
        readonly=True,
        copy=False,
        help="Until then no other operator's session hands the lead out.",
    )

    # ------------------------------------------------------------
    # BUSINESS: the next lead
    # ------------------------------------------------------------

    @api.model
    def _outbound_session_callable_domain(self):
        """The leads that may be called now (DESIGN.md rule 7): the session's queue
        reads the one definition Call now reads."""
        return self._outbound_callable_now_domain()

    def init(self):
        res = super().init()
        if self._abstract:
            return res
        # The two halves of a session's queue, each read in due order from its own index:
        # without them, an operator's request reads every unassigned lead of the base.
        create_index(
            self.env.cr,
            "crm_lead_outbound_session_own_idx",
            self._table,
            ["user_id", "outbound_next_call_at", "id"],
            where="outbound_playbook_id IS NOT NULL",
        )
        create_index(
            self.env.cr,
            "crm_lead_outbound_session_team_idx",
            self._table,
            ["team_id", "outbound_next_call_at", "id"],
            where="outbound_playbook_id IS NOT NULL AND user_id IS NULL",
        )
        return res

    @api.model
    def _outbound_session_domains(self):
        """The current user's queue, in the order it is served: their own leads, then
        the unassigned leads of their teams; each that may be called now and that no
        session holds. A generator: the second half (and the user's teams) is read only
        when the first has no lead."""
        user = self.env.user
        common = [
            *self._outbound_session_callable_domain(),
            ("outbound_playbook_id", "!=", False),
            ("outbound_is_final", "=", False),
            "|",
            ("outbound_claim_until", "=", False),
            ("outbound_claim_until", "<", fields.Datetime.now()),
        ]
        yield [*common, ("user_id", "=", user.id)]
        yield [*common, ("user_id", "=", False), ("team_id", "in", user.crm_team_ids.ids)]

    @api.model
    def outbound_next_lead(self):
        """Claim and return the id of the current user's next lead to call: their own
        leads that may be called now, in due order, then their teams' unassigned ones;
        False when there is none.

        The lead is locked ``FOR UPDATE SKIP LOCKED`` and claimed for a few minutes, so
        that two users asking at once never get the same lead; the claim expires unless
        a call is logged."""
        self.env["crm.lead"].flush_model()
        for domain in self._outbound_session_domains():
            query = self._search(domain)
            query.order = SQL(
                "%s, %s",
                SQL.identifier(query.table, "outbound_next_call_at"),
                SQL.identifier(query.table, "id"),
            )
            query.limit = 1
            self.env.cr.execute(SQL("%s FOR UPDATE OF %s SKIP LOCKED", query.select(), SQL.identifier(query.table)))
            row = self.env.cr.fetchone()
            if row:
                lead = self.browse(row[0])
                lead._outbound_set_claim(self.env.user, fields.Datetime.now() + timedelta(minutes=CLAIM_MINUTES))
                return lead.id
        return False

    def _outbound_set_claim(self, user, until):
        # Plain SQL: bookkeeping columns, no tracking, no write() side effects.
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET outbound_claim_user_id = %s, outbound_claim_until = %s WHERE id IN %s",
                user.id or None,
                until or None,
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["outbound_claim_user_id", "outbound_claim_until"])

    def _outbound_check_claimed(self):
        """Raise unless the current user holds the session's claim on the leads of ``self``."""
        for lead in self:
            if lead.outbound_claim_user_id != self.env.user:
                raise UserError(
                    _(
                        "Lead %(lead)s is not in your calling session (claimed by %(user)s): take the next lead.",
                        lead=lead.display_name,
                        user=lead.outbound_claim_user_id.name or _("nobody"),
                    )
                )

    def outbound_session_log(self, vals):
        """Log the session's call on the lead ``self`` (``outbound_log_call``), take over
        the lead when it had no salesperson, and return the next lead's card."""
        self.ensure_one()
        self._outbound_check_claimed()
        self.outbound_log_call(vals)
        if not self.user_id:
            self.user_id = self.env.user
        self._outbound_set_claim(self.env.user.browse(), False)
        return self.outbound_session_next()

    def outbound_session_skip(self, reason):
        """Put the lead ``self`` aside for a while, with the operator's reason in its
        chatter, and return the next lead's card."""
        self.ensure_one()
        self._outbound_check_claimed()
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Say why you skip the lead %(lead)s.", lead=self.display_name))
        self._outbound_set_claim(self.env.user, fields.Datetime.now() + timedelta(minutes=SKIP_MINUTES))
        self.message_post(
            body=Markup("<p>%s</p>") % _("Skipped in a calling session: %(reason)s", reason=reason),
            subtype_xmlid="mail.mt_note",
        )
        return self.outbound_session_next()

    def outbound_session_pause(self):
        """End the session: the lead ``self`` goes back to the queue at once."""
        self.filtered(lambda lead: lead.outbound_claim_user_id == self.env.user)._outbound_set_claim(
            self.env.user.browse(), False
        )
        return True

    @api.model
    def outbound_session_next(self):
        """The card of the next lead (``outbound_next_lead``), or False."""
        lead_id = self.outbound_next_lead()
        return self.browse(lead_id).outbound_session_card() if lead_id else False

    # ------------------------------------------------------------
    # BUSINESS: what the session shows
    # ------------------------------------------------------------

    def _outbound_client_tz(self):
        """The client's time zone (DESIGN.md rule 7)."""
        self.ensure_one()
        return self.outbound_tz or self.team_id._outbound_tz(self.user_id) or "UTC"

    def outbound_preview_next_call(self, status_id, comment_code_id=False, agreed_at=False):
        """When the next call of the lead ``self`` would be due if the call were logged
        now with these values (naive UTC, as a string), or False when no call follows."""
        self.ensure_one()
        status = self._outbound_browse_id("crm.outbound.status", "status_id", status_id)
        code = self._outbound_browse_id("crm.outbound.comment.code", "comment_code_id", comment_code_id)
        agreed = self._outbound_parse_datetime("agreed_at", agreed_at)
        if not status:
            return False
        lead = self
        if status.task_timing == "cadence":
            # The call about to be logged lengthens the unanswered streak.
            lead = self.new(origin=self)
            lead.outbound_no_answer_count = self.outbound_no_answer_count + (status.outcome == "no_answer")
            if lead.outbound_no_answer_count > len(self.outbound_playbook_id.cadence_step_ids):
                return False
        if status.lead_action == "lost":
            return False
        due = lead._outbound_next_call_at(status, code, fields.Datetime.now(), agreed)
        return fields.Datetime.to_string(due) if due else False

    def _outbound_check_agreed_at(self, agreed_at, call_at):
        """Refuse an agreed date before the call or more than a year after it: a
        mistyped year or day, never a date the client gave."""
        if not agreed_at:
            return
        tz = self.env.user.tz or "UTC"
        shown = format_datetime(self.env, agreed_at, tz=tz, dt_format="medium")
        if agreed_at < call_at - AGREED_PAST_GRACE:
            raise ValidationError(
                _("The agreed date %(date)s is in the past: give the date and time agreed with the client.", date=shown)
            )
        if agreed_at > call_at + AGREED_MAX_AHEAD:
            raise ValidationError(_("The agreed date %(date)s is more than a year ahead: check the year.", date=shown))

    @api.model
    def _outbound_with_call_time(self, agreed_at, tz_name=None):
        """The agreed date ``agreed_at`` (naive UTC) with a time one can call at when it
        is a bare day, midnight in ``tz_name`` (default the user's zone), as a picked
        day or a typed date without a time gives: 10:00 that day, or the next full
        hour when the day is today and 10:00 is past. Any other time is kept."""
        if not agreed_at:
            return agreed_at
        tz = pytz.timezone(tz_name or self.env.context.get("tz") or self.env.user.tz or "UTC")
        local = pytz.utc.localize(agreed_at).astimezone(tz)
        if local.time() != time(0):
            return agreed_at
        at = tz.localize(datetime.combine(local.date(), DEFAULT_AGREED_TIME))
        now = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        if local.date() == now.date() and at < now:
            at = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return at.astimezone(pytz.utc).replace(tzinfo=None)

    @api.model
    def outbound_agreed_call_time(self, agreed_at, tz_name=False):
        """``_outbound_with_call_time`` for the session screen: ``agreed_at`` as a
        string (naive UTC) picked in the zone ``tz_name`` (the browser's), the same
        back with a time one can call at."""
        agreed = self._outbound_parse_datetime("agreed_at", agreed_at)
        tz_name = tz_name if tz_name in pytz.all_timezones_set else None
        return fields.Datetime.to_string(self._outbound_with_call_time(agreed, tz_name)) if agreed else False

    def _outbound_quick_picks(self, tz_name):
        """The agreed dates one click away, in the client's local time ``tz_name``:
        in 1 hour, today 18:00, tomorrow 10:00, next Monday 10:00."""
        tz = pytz.timezone(tz_name)
        now = pytz.utc.localize(fields.Datetime.now().replace(second=0, microsecond=0))
        local = now.astimezone(tz)

        def at(day, hour):
            return tz.localize(datetime.combine(day, time(hour)))

        today = local.date()
        picks = [("hour", _("In 1 hour"), now + timedelta(hours=1))]
        if local.hour < 17:
            picks.append(("today", _("Today 18:00"), at(today, 18)))
        picks.append(("tomorrow", _("Tomorrow 10:00"), at(today + timedelta(days=1), 10)))
        picks.append(("monday", _("Monday 10:00"), at(today + timedelta(days=7 - today.weekday()), 10)))
        return [
            {
                "key": key,
                "label": label,
                "value": fields.Datetime.to_string(value.astimezone(pytz.utc).replace(tzinfo=None)),
            }
            for key, label, value in picks
        ]

    def _outbound_session_statuses(self):
        """The playbook's statuses as the session's buttons: catalog order, a hotkey
        each, grouped by contact level."""
        self.ensure_one()
        hotkeys = "1234567890qwertyuiop"
        levels = dict(self.env["crm.outbound.status"]._fields["contact_level"]._description_selection(self.env))
        statuses = self.outbound_playbook_id.status_ids.filtered(
            lambda status: status != self.outbound_playbook_id.network_status_id
        )
        groups = {}
        for index, status in enumerate(statuses):
            group = groups.setdefault(
                status.contact_level,
                {"level": status.contact_level, "label": levels[status.contact_level], "statuses": []},
            )
            group["statuses"].append(
                {
                    "id": status.id,
                    "name": status.display_name,
                    "hotkey": hotkeys[index] if index < len(hotkeys) else False,
                    "outcome": status.outcome,
                    "contact_level": status.contact_level,
                    "needs_date": status.task_timing == "agreed",
                    "date_label": status.agreed_date_label or False,
                    "comment_required": status.comment_required,
                    "closes": status.lead_action != "none" or status.is_final,
                    "codes": [
                        {
                            "id": code.id,
                            "name": code.name,
                            "comment_required": code.comment_required,
                            "override_delay": code.override_delay,
                        }
                        for code in status.comment_code_ids
                    ],
                }
            )
        order = ["decision_maker", "gatekeeper", "none"]
        return sorted(groups.values(), key=lambda group: order.index(group["level"]) if group["level"] in order else 9)

    def _outbound_session_scripts(self):
        """The call scripts of the lead ``self``: ``script``, the one that fits its
        segment, and ``level_scripts``, the one for each contact level that has a
        script of its own (in the selection's order), for the screen to show once it knows who is on the line."""
        self.ensure_one()
        playbook = self.outbound_playbook_id
        script = playbook._outbound_script_for(self.outbound_segment)
        levels = self.env["crm.outbound.status"]._fields["contact_level"]._description_selection(self.env)
        level_scripts = []
        for level, label in levels:
            level_script = playbook._outbound_script_for(self.outbound_segment, level)
            if level_script != script:
                level_scripts.append({"level": level, "label": label, "script": level_script})
        return {"script": script, "level_scripts": level_scripts}

    def outbound_session_card(self):
        """What the session screen shows of the lead ``self``: the contact, the
        client's local time, the pending task, the last calls, the counters, the
        playbook's script, its statuses and the quick picks for an agreed date."""
        self.ensure_one()
        tz_name = self._outbound_client_tz()
        now = fields.Datetime.now()
        task = self._outbound_pending_tasks()[:1]
        calls = self.env["crm.outbound.call"].search(
            [("lead_id", "=", self.id)], order="call_at desc, id desc", limit=SESSION_CALLS
        )
        user_tz = self.env.user.tz or "UTC"
        return {
            "id": self.id,
            "name": self.name,
            "contact_name": self.contact_name or self.partner_id.name or False,
            "partner_name": self.partner_name or self.partner_id.commercial_partner_id.name or False,
            "phone": self.phone or (self["mobile"] if "mobile" in self._fields else False) or False,
            "user": self.user_id.name or False,
            "team": self.team_id.name or False,
            "status": self.outbound_status_id.display_name or False,
            "comment_code": self.outbound_comment_code_id.name or False,
            "comment": self.outbound_comment or False,
            "streak": self.outbound_no_answer_label or False,
            "attempts": self.outbound_attempt_count,
            "attempts_today": self.outbound_attempts_today,
            "next_call_at": fields.Datetime.to_string(self.outbound_next_call_at)
            if self.outbound_next_call_at
            else False,
            "client_tz": tz_name,
            "client_time": format_datetime(self.env, now, tz=tz_name, dt_format="short"),
            "client_time_differs": tz_name != user_tz,
            "task": task
            and {
                "type": task.activity_type_id.name,
                "summary": task.summary or False,
                "deadline": fields.Date.to_string(task.date_deadline),
            },
            "calls": [
                {
                    "id": call.id,
                    "call_at": fields.Datetime.to_string(call.call_at),
                    "status": call.status_id.display_name or False,
                    "code": call.comment_code_id.name or False,
                    "note": call.note or False,
                    "duration": call.duration,
                    "user": call.user_id.name,
                }
                for call in calls
            ],
            **self._outbound_session_scripts(),
            "playbook": self.outbound_playbook_id.display_name,
            "status_groups": self._outbound_session_statuses(),
            "quick_picks": self._outbound_quick_picks(tz_name),
            "claim_until": fields.Datetime.to_string(self.outbound_claim_until) if self.outbound_claim_until else False,
        }
