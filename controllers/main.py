import json
import logging
import random
import time

import psycopg2.errors

from odoo import _, http
from odoo.exceptions import AccessError
from odoo.http import request

from ..models.compat import read_request_body

_logger = logging.getLogger(__name__)

# DESIGN.md, HTTP: at most this many calls in one request.
MAX_CALLS = 1000
# A thousand items of a few hundred bytes each, with room to spare.
MAX_BODY_BYTES = 4 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024
# PostgreSQL refuses a transaction that read a lead another delivery changed since (or
# a table of Odoo's that every lost lead updates, lead scoring): the batch is run again
# at once, then after a short random wait, before Odoo's own retry of the request.
RETRY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)
MAX_TRIES = 10


class OutboundTelephonyController(http.Controller):
    """The telephony endpoint (DESIGN.md, HTTP): it authenticates, checks the shape of
    the body and hands the items to ``crm.outbound.call._outbound_ingest``."""

    @http.route(
        "/crm_outbound/v1/calls",
        type="http",
        auth="bearer",
        methods=["POST"],
        csrf=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def outbound_calls(self):
        """Log the calls of a PBX or dialer: 200 with one result per item, in order."""
        httprequest = request.httprequest
        if httprequest.mimetype != "application/json":
            return self._error(400, _("Send the body as JSON, with the header Content-Type: application/json."))
        body = read_request_body(httprequest, MAX_BODY_BYTES, READ_CHUNK_BYTES)
        if body is None:
            return self._error(413, _("The body is over %(max)s bytes.", max=MAX_BODY_BYTES))
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._error(400, _("The body is not valid JSON."))
        except RecursionError:
            return self._error(400, _("The body is nested too deeply: an item is a flat JSON object."))
        if not isinstance(payload, dict) or list(payload) != ["calls"]:
            return self._error(400, _('The body must be a JSON object with the single key "calls".'))
        items = payload["calls"]
        if not isinstance(items, list):
            return self._error(400, _('"calls" must be a list of call objects.'))
        if len(items) > MAX_CALLS:
            return self._error(
                413, _("%(count)s calls in one request; send at most %(max)s.", count=len(items), max=MAX_CALLS)
            )
        try:
            results = self._ingest(items)
        except AccessError:
            request.env.cr.rollback()
            return self._error(
                403, _("This API key's user may not post calls: add it to the group Outbound: Telephony Integration.")
            )
        return self._json_response({"results": results})

    def _ingest(self, items):
        """``_outbound_ingest`` in the request's transaction, run again after a
        serialization failure: concurrent deliveries on the same leads are the rule
        for a PBX, and Odoo's own retry (5 tries, waits up to 16 s) is its last resort."""
        env = request.env
        for tryno in range(1, MAX_TRIES + 1):
            try:
                results = env["crm.outbound.call"]._outbound_ingest(items, source="webhook")
                env.flush_all()
                return results
            except RETRY_ERRORS:
                if tryno == MAX_TRIES:
                    raise
                _logger.info("Concurrent update: the batch of %s calls runs again (try %s)", len(items), tryno + 1)
                env.cr.rollback()
                env.transaction.reset()
                time.sleep(random.uniform(0, 0.05 * 2 ** min(tryno, 5)))
        return None

    def _json_response(self, data, status=200):
        # ASCII JSON: any unpaired surrogate an answer echoes stays escaped, and the
        # Content-Length counts bytes.
        body = json.dumps(data, ensure_ascii=True)
        return request.make_response(body, headers=[("Content-Type", "application/json; charset=utf-8")], status=status)

    def _error(self, status, message):
        return self._json_response({"error": message}, status=status)
