"""The differences between Odoo 18.0 and 19.0 that this module meets, in one place.

Everything else in the addon is written once, against the API both versions share.
"""

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
