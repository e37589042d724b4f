import json

from odoo import _, http
from odoo.exceptions import AccessError
from odoo.http import request

# DESIGN.md, HTTP: at most this many calls in one request.
MAX_CALLS = 1000
# A thousand items of a few hundred bytes each, with room to spare.
MAX_BODY_BYTES = 4 * 1024 * 1024


class OutboundTelephonyController(http.Controller):
    """The telephony endpoint (DESIGN.md, HTTP): it authenticates, checks the shape of
    the body and hands the items to ``crm.outbound.call._outbound_ingest``."""

    @http.route("/crm_outbound/v1/calls", type="http", auth="bearer", methods=["POST"], csrf=False)
    def outbound_calls(self):
        """Log the calls of a PBX or dialer: 200 with one result per item, in order."""
        httprequest = request.httprequest
        if httprequest.content_length and httprequest.content_length > MAX_BODY_BYTES:
            return self._error(413, _("The body is over %(max)s bytes.", max=MAX_BODY_BYTES))
        body = httprequest.get_data(cache=False)
        if len(body) > MAX_BODY_BYTES:
            return self._error(413, _("The body is over %(max)s bytes.", max=MAX_BODY_BYTES))
        if httprequest.mimetype != "application/json":
            return self._error(400, _("Send the body as JSON, with the header Content-Type: application/json."))
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, _("The body is not valid JSON."))
        if not isinstance(payload, dict) or set(payload) != {"calls"}:
            return self._error(400, _('The body must be a JSON object with the single key "calls".'))
        items = payload["calls"]
        if not isinstance(items, list):
            return self._error(400, _('"calls" must be a list of call objects.'))
        if len(items) > MAX_CALLS:
            return self._error(
                413, _("%(count)s calls in one request; send at most %(max)s.", count=len(items), max=MAX_CALLS)
            )
        try:
            results = request.env["crm.outbound.call"]._outbound_ingest(items)
        except AccessError:
            request.env.cr.rollback()
            return self._error(403, _("This API key's user may not log calls."))
        return request.make_json_response({"results": results})

    def _error(self, status, message):
        return request.make_json_response({"error": message}, status=status)
