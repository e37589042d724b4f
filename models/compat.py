"""The differences between Odoo 18.0 and 19.0 (and the libraries they run on) that
this module meets, in one place.

Everything else in the addon is written once, against the API both versions share.
"""

import threading
from importlib.metadata import version

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import models, release

ODOO_19 = release.version_info[0] >= 19
# Werkzeug 2.3 applies a request's max_content_length to its input stream, a chunked
# body too; 2.2 (Odoo's pin on Python 3.11, both series) only to form data.
WERKZEUG_BOUNDS_STREAMS = tuple(int(part) for part in version("werkzeug").split(".")[:2]) >= (2, 3)
# The body of a chunked request read on werkzeug 2.2 (environ key), for Odoo's retries.
CHUNKED_BODY_KEY = "crm_outbound.body"


def add_unique_constraint(namespace, name, definition, message):
    """Declare an SQL constraint in a model's class body.

    Odoo 19 declares it as a ``models.Constraint`` attribute and ignores (with a
    warning) the ``_sql_constraints`` list that Odoo 18 reads. Call it from the class
    body as ``add_unique_constraint(locals(), "code_uniq", "UNIQUE(...)", "...")``:
    a class body's ``locals()`` is the namespace the class is built from.
    """
    if ODOO_19:
        namespace[f"_{name}"] = models.Constraint(definition, message)
    else:
        namespace.setdefault("_sql_constraints", []).append((name, definition, message))


def keep_done_activities(activity_types):
    """Have activities of ``activity_types`` archived when marked done, not deleted.

    Odoo 19 archives every done activity. Odoo 18 deletes them unless their type has
    ``keep_done``, and its ``unlink`` clears the whole ORM cache: with one task closed
    per call, telephony ingestion re-read its users, teams and cadences for every call
    (twice the queries of 19.0). Kept, a lead's done tasks are its history on both."""
    if not ODOO_19:
        activity_types.write({"keep_done": True})


def reply_to_by_record(records, email_from, author_id):
    """{record id: reply-to address} of messages posted on ``records`` by ``author_id``
    (Odoo 19 passes the author to ``_notify_get_reply_to``, Odoo 18 does not)."""
    if ODOO_19:
        return records._notify_get_reply_to(default=email_from, author_id=author_id)
    return records._notify_get_reply_to(default=email_from)


def finish_done_activities(activities, feedback):
    """What Odoo's ``_action_done`` does to ``activities`` once their messages are
    posted: Odoo 19 archives every one, with the feedback; Odoo 18 archives those whose
    type keeps done activities and deletes the others."""
    if ODOO_19:
        activities.action_archive()
        if feedback:
            activities.feedback = feedback
        return
    kept = activities.filtered("activity_type_id.keep_done")
    kept.action_archive()
    (activities - kept).unlink()


def commit_progress(env, processed, remaining):
    """Commit a cron's batch and report its progress; return the seconds left to run.

    Odoo 19 has ``ir.cron._commit_progress``; Odoo 18 reports with ``_notify_progress``
    and leaves the commit to the caller. Tests run in one transaction: no commit there.
    """
    testing = getattr(threading.current_thread(), "testing", False)
    cron = env["ir.cron"]
    if ODOO_19:
        if testing:
            return float("inf")
        return cron._commit_progress(processed, remaining=remaining)
    progress = env["ir.cron.progress"].sudo().browse(env.context.get("ir_cron_progress_id"))
    if progress:
        cron._notify_progress(done=progress.done + processed, remaining=remaining)
    if not testing:
        env.cr.commit()  # pylint: disable=invalid-commit
    return float("inf")


def equality_search_values(operator, value):
    """The values an equality search asks for, as ``(positive, values)``.

    Odoo 19 hands search methods ``in``/``not in`` with a collection where Odoo 18
    hands them ``=``/``!=`` with one value. ``None`` for any other operator.
    """
    if operator in ("=", "!="):
        return operator == "=", {value}
    if operator in ("in", "not in"):
        return operator == "in", set(value)
    return None


def domain_or(domains):
    """The disjunction of ``domains`` (lists), as a list."""
    domains = [list(domain) for domain in domains]
    if ODOO_19:
        from odoo.fields import Domain

        return list(Domain.OR(domains))
    from odoo.osv import expression

    return expression.OR(domains)


def domain_and(domains):
    """The conjunction of ``domains`` (lists), as a list."""
    domains = [list(domain) for domain in domains]
    if ODOO_19:
        from odoo.fields import Domain

        return list(Domain.AND(domains))
    from odoo.osv import expression

    return expression.AND(domains)


def domain_not(domain):
    """The negation of ``domain`` (a list), as a list."""
    if ODOO_19:
        from odoo.fields import Domain

        return list(~Domain(list(domain)))
    from odoo.osv import expression

    return ["!", *expression.normalize_domain(list(domain))]


def graph_read_group(model, domain, groupby, aggregates):
    """Read the groups that a graph or pivot view reads, as each series' web client
    does (Odoo 19's ``formatted_read_group``, Odoo 18's ``read_group``): formatted for
    display, date groups with their ranges, gaps between dates filled unless the
    context's ``fill_temporal`` says otherwise."""
    model = model.with_context(**{"fill_temporal": True, **model.env.context})
    if ODOO_19:
        return model.formatted_read_group(domain, groupby, aggregates)
    return model.read_group(domain, aggregates, groupby, lazy=False)


def read_request_body(httprequest, limit, chunk_size=64 * 1024):
    """The body of ``httprequest`` (Odoo's request proxy), or None when it is over
    ``limit`` bytes: refused on its ``Content-Length``, or after reading at most
    ``limit`` bytes (plus one chunk) of a chunked body, never read whole.

    The body is cached (``get_data(cache=True)``): Odoo runs a request again after a
    serialization failure (``retrying``) on the same request, whose stream the first
    try consumed. The caller sets ``max_content_length`` to ``limit`` (the route's
    option), which werkzeug 2.3 and later apply to the stream itself. Werkzeug 2.2
    bounds no chunked read and Odoo's proxy exposes no stream (its ``environ`` leaves
    out the ``wsgi.*`` keys, the input among them): only there is the werkzeug
    request's own stream read, a chunk at a time, through the proxy's private name for
    it, as Odoo's own ``http.py`` reaches ``_HTTPRequest__environ``."""
    length = httprequest.content_length
    if length is not None and length > limit:
        return None
    if length is not None or WERKZEUG_BOUNDS_STREAMS:
        try:
            body = httprequest.get_data(cache=True)
        except RequestEntityTooLarge:
            return None
        return body if len(body) <= limit else None
    environ = httprequest.environ
    if CHUNKED_BODY_KEY not in environ:
        stream, chunks, size = httprequest._HTTPRequest__wrapped.stream, [], 0
        while size <= limit:
            chunk = stream.read(chunk_size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        environ[CHUNKED_BODY_KEY] = b"".join(chunks) if size <= limit else None
    return environ[CHUNKED_BODY_KEY]


def user_groups_field():
    """The name of a user's groups field: ``group_ids`` from Odoo 19 on, ``groups_id``
    before."""
    return "group_ids" if ODOO_19 else "groups_id"
