"""The differences between Odoo 18.0 and 19.0 that this module meets, in one place.

Everything else in the addon is written once, against the API both versions share.
"""

import threading

from odoo import models, release
from odoo.tools import SQL, sql

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


def add_index(namespace, name, definition):
    """Declare an SQL index in a model's class body, named ``<table>_<name>``.

    Odoo 19 declares it as a ``models.Index`` attribute; Odoo 18 has no declarative
    index, so the model's ``init()`` must call ``create_indexes(self)``, which creates it
    there (and does nothing on Odoo 19). Call it from the class body as
    ``add_index(locals(), "user_id_call_at_idx", "(user_id, call_at)")``.
    """
    if ODOO_19:
        namespace[f"_{name}"] = models.Index(definition)
    else:
        namespace.setdefault("_outbound_indexes", []).append((name, definition))


def create_indexes(model):
    """Create the indexes that ``add_index`` declared on ``model`` (Odoo 18 only)."""
    for name, definition in getattr(model, "_outbound_indexes", ()):
        index = f"{model._table}_{name}"
        if not sql.index_exists(model.env.cr, index):
            model.env.cr.execute(
                SQL("CREATE INDEX %s ON %s %s", SQL.identifier(index), SQL.identifier(model._table), SQL(definition))
            )


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
