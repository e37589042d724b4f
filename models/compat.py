"""The differences between Odoo 18.0 and 19.0 that this module meets, in one place.

Everything else in the addon is written once, against the API both versions share.
"""

import threading

from odoo import models, release

ODOO_19 = release.version_info[0] >= 19


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


def kanban_group_values(model, domain, groupby):
    """The values of ``groupby`` that the web client shows as kanban columns, in
    order, with the field's ``group_expand`` applied: ids for relational fields.

    The web client's grouped read changed its signature in Odoo 19, where the kanban
    view asks for the expansion with the ``read_group_expand`` context key."""
    if ODOO_19:
        groups = model.with_context(read_group_expand=True).web_read_group(domain, [groupby], ["__count"])["groups"]
    else:
        groups = model.web_read_group(domain, [groupby], [groupby])["groups"]
    values = [group[groupby] for group in groups]
    return [value[0] if isinstance(value, (list, tuple)) else value for value in values]


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


def kanban_load(model, domain, groupby, specification, order=None, limit=80):
    """Open a grouped kanban view the way the web client does: the groups with the
    field's ``group_expand`` (empty columns too), then the first ``limit`` records of
    each open group, read with ``specification``. Return the number of records read.

    Odoo 19 reads the records of the open groups inside ``web_read_group``; Odoo 18's
    client asks ``web_search_read`` once per open group (at most 10 of them)."""
    if ODOO_19:
        result = model.with_context(read_group_expand=True).web_read_group(
            domain,
            [groupby],
            ["__count"],
            order=order,
            auto_unfold=True,
            unfold_read_specification=specification,
            unfold_read_default_limit=limit,
        )
        return sum(len(group.get("__records", [])) for group in result["groups"])
    # Odoo 18 orders the groups by the groupby only; the records take the view's order.
    groups = model.web_read_group(domain, [groupby], [groupby], lazy=True)["groups"]
    opened = [group for group in groups if not group.get("__fold")][:10]
    # Like the client, no records asked for an empty column.
    opened = [group for group in opened if group.get(f"{groupby}_count", group.get("__count"))]
    # The client counts a group's records up to its DEFAULT_COUNT_LIMIT (10,000), plus one.
    return sum(
        len(
            model.web_search_read(group["__domain"], specification, limit=limit, order=order, count_limit=10001)[
                "records"
            ]
        )
        for group in opened
    )


def domain_not(domain):
    """The negation of ``domain`` (a list), as a list."""
    if ODOO_19:
        from odoo.fields import Domain

        return list(~Domain(list(domain)))
    from odoo.osv import expression

    return ["!", *expression.normalize_domain(list(domain))]
