from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from . import compat
from .crm_lead import is_own_write


class MailActivity(models.Model):
    _inherit = "mail.activity"

    @api.model_create_multi
    def create(self, vals_list):
        if not is_own_write(self):
            self._outbound_check_single_task(vals_list)
        return super().create(vals_list)

    def unlink(self):
        leads = self._outbound_leads()
        res = super().unlink()
        leads._outbound_ensure_task()
        return res

    def _action_done(self, feedback=False, attachment_ids=None):
        leads = self._outbound_leads()
        res = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        leads._outbound_ensure_task()
        return res

    def _outbound_action_done(self, feedback=False):
        """Mark the tasks of ``self`` (on leads) done as Odoo's ``_action_done`` does,
        for many at once: the same message on each lead (Odoo's template
        ``mail.message_activity_done``, subtype *Activities*, the task's type), then the
        tasks archived. Odoo posts them one ``message_post`` at a time, reading for each
        the thread's parent message, its alias domain, company and reply-to and the
        followers to notify (14 ms a task, the largest part of logging a call in bulk);
        here each is read once for all of them, with Odoo's batch helpers.

        Nobody is notified of a done task (the subtype is internal and off by default):
        when a follower of these leads asked for activity messages, or a task is one Odoo
        handles otherwise (an attachment, a chained next activity, a meeting), the whole
        set goes through Odoo's own ``_action_done``."""
        if not self._outbound_done_in_bulk_possible():
            return self._action_done(feedback=feedback)
        leads = self.env["crm.lead"].browse(self.mapped("res_id"))
        author_id, email_from = leads._message_compute_author(self.env.user.partner_id.id)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_activities")
        alias_domains = leads.sudo()._mail_get_alias_domains(default_company=self.env.company)
        companies = leads._mail_get_companies(default=self.env.company)
        reply_to = compat.reply_to_by_record(leads, email_from, author_id)
        parents = self._outbound_thread_parents(leads)
        render = self.env["mail.render.mixin"]._render_template_qweb_view
        # The template shows the task (type, assignee, summary, note) and the feedback,
        # nothing of the lead: tasks alike share one rendering.
        bodies = {}
        values_list = []
        for activity in self:
            lead_id = activity.res_id
            key = (activity.activity_type_id, activity.user_id, activity.summary, activity.note)
            if key not in bodies:
                bodies[key] = render(
                    "mail.message_activity_done",
                    "crm.lead",
                    [lead_id],
                    add_context={
                        "activity": activity,
                        "feedback": feedback,
                        "display_assignee": activity.user_id != self.env.user,
                    },
                )[lead_id]
            body = bodies[key]
            values_list.append(
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "model": "crm.lead",
                    "res_id": lead_id,
                    "body": body,
                    "message_type": "notification",
                    "subtype_id": subtype_id,
                    "mail_activity_type_id": activity.activity_type_id.id,
                    "parent_id": parents.get(lead_id, False),
                    "email_add_signature": True,
                    "record_alias_domain_id": alias_domains[lead_id].id,
                    "record_company_id": companies[lead_id].id,
                    "reply_to": reply_to[lead_id],
                }
            )
        messages = leads.sudo()._message_create(values_list)
        compat.finish_done_activities(self, feedback)
        return messages, self.browse()

    def _outbound_done_in_bulk_possible(self):
        if any(
            activity.res_model != "crm.lead" or activity.chaining_type == "trigger" or activity.calendar_event_id
            for activity in self
        ):
            return False
        attached = (
            self.env["ir.attachment"]
            .sudo()
            .search_count([("res_model", "=", self._name), ("res_id", "in", self.ids)], limit=1)
        )
        followed = (
            self.env["mail.followers"]
            .sudo()
            .search_count(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", self.mapped("res_id")),
                    ("subtype_ids", "=", self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_activities")),
                ],
                limit=1,
            )
        )
        return not attached and not followed

    @api.model
    def _outbound_thread_parents(self, leads):
        """{lead id: the message a new message of its chatter answers}, as Odoo's
        ``_message_compute_parent_id`` finds it: the last comment or email, else the
        last message."""
        self.env["mail.message"].flush_model(["model", "res_id", "message_type", "date"])
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (res_id) res_id, id
                  FROM mail_message
                 WHERE model = 'crm.lead' AND res_id IN %s AND message_type != 'user_notification'
              ORDER BY res_id, message_type IN ('comment', 'email') DESC, date DESC NULLS LAST, id DESC
                """,
                tuple(leads.ids),
            )
        )
        return dict(self.env.cr.fetchall())

    def _outbound_leads(self):
        """The leads of these activities whose task rule 1 must re-check afterwards."""
        if is_own_write(self):
            return self.env["crm.lead"]
        lead_ids = {activity.res_id for activity in self if activity.res_model == "crm.lead"}
        return self.env["crm.lead"].browse(lead_ids).exists()

    @api.model
    def _outbound_check_single_task(self, vals_list):
        """Refuse a second pending activity on a lead that must have exactly one
        (DESIGN.md rule 1): the existing task is to be moved, not doubled."""
        model_id = self.env["ir.model"]._get_id("crm.lead")
        lead_ids = [
            vals["res_id"]
            for vals in vals_list
            if vals.get("res_id") and (vals.get("res_model") == "crm.lead" or vals.get("res_model_id") == model_id)
        ]
        if not lead_ids:
            return
        if len(lead_ids) != len(set(lead_ids)):
            raise UserError(_("A lead of an outbound team has exactly one pending task: schedule one per lead."))
        leads = self.env["crm.lead"].browse(lead_ids).exists()._outbound_governed()
        existing = self.search([("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)], limit=1)
        if existing:
            raise UserError(
                _(
                    "Lead %(lead)s already has its one pending task: %(task)s, due %(date)s. "
                    "Move that task (change its due date, type or assignee) or mark it done "
                    "instead of scheduling another one.",
                    lead=self.env["crm.lead"].browse(existing.res_id).display_name,
                    task=existing.summary or existing.activity_type_id.name,
                    date=existing.date_deadline,
                )
            )
