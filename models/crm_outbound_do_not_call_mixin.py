from markupsafe import Markup

from odoo import _, api, models
from odoo.tools import SQL


class CrmOutboundDoNotCallMixin(models.AbstractModel):
    """Do-not-call (DESIGN.md rule 7) through Odoo's own ``phone.blacklist``: a status
    or comment code marked *do not call* puts the lead's numbers on the list, and a
    number on the list takes every lead that carries it out of the call lists."""

    _name = "crm.outbound.do.not.call.mixin"
    _description = "Outbound: Do Not Call"

    @api.model
    def _outbound_not_blacklisted_domain(self):
        """Leads whose number is not on the do-not-call list.

        Odoo's ``phone_sanitized_blacklisted`` search reads every lead id into Python
        (100,000 at a time); this stays one anti-join inside the caller's query."""
        blacklisted = self.env["phone.blacklist"].sudo()._search([("active", "=", True)])
        return [
            "|",
            ("phone_sanitized", "=", False),
            ("phone_sanitized", "not in", SQL("(%s)", blacklisted.select("number"))),
        ]

    def _outbound_numbers(self):
        """The sanitized numbers of the lead ``self``: its phone and, on 18.0, its mobile."""
        self.ensure_one()
        numbers = {self.phone_sanitized} | {
            self._phone_format(fname=fname) for fname in self._phone_get_number_fields() if self[fname]
        }
        return sorted(number for number in numbers if number)

    def _outbound_apply_do_not_call(self, status, code=None, comment=None):
        """Put the numbers of the leads of ``self`` on the do-not-call list when
        ``status`` or ``code`` says so, with the lead and the reason in the chatter of
        each blacklist entry."""
        if not (status.do_not_call or (code and code.do_not_call)):
            return
        reason = code.display_name if code and code.do_not_call else status.display_name
        Blacklist = self.env["phone.blacklist"].sudo()
        for lead in self:
            numbers = lead._outbound_numbers()
            if not numbers:
                continue
            message = Markup("%s") % _(
                "Do not call: %(reason)s, logged by %(user)s on the lead %(lead)s (id %(id)s).%(comment)s",
                reason=reason,
                user=self.env.user.name,
                lead=lead.display_name,
                id=lead.id,
                comment=f" {comment}" if comment else "",
            )
            Blacklist._add(numbers, message=message)
            lead.message_post(
                body=_("Numbers put on the do-not-call list: %(numbers)s", numbers=", ".join(numbers)),
                subtype_xmlid="mail.mt_note",
            )
