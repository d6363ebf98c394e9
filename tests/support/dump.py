"""A dump of the plugin's and the marketplace's tables, to prove a sweep changed nothing."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import select

from msphub_psa.daos.base import session

PREFIXES = ("psa_", "hub_")


def dump_tables(app) -> dict[str, list[tuple]]:
    """Every row of every ``psa_*``/``hub_*`` table, by primary key, as text.

    Audit events of refusals (``outcome = 'refused'``) are left out: refusing a change is recorded
    by design (the card's commands audit refused attempts), and is not a change of data.
    """
    with app.app_context():
        dump = {}
        for table in Model.metadata.sorted_tables:
            if not table.name.startswith(PREFIXES):
                continue
            query = select(table).order_by(*table.primary_key.columns)
            if table.name == "psa_audit_event":
                query = query.where(table.c.outcome != "refused")
            dump[table.name] = [tuple(map(str, row)) for row in session().execute(query)]
        session().remove()
        return dump


def diff(before: dict, after: dict) -> dict[str, tuple[int, int]]:
    """Tables whose rows differ: name -> (rows before, rows after)."""
    return {name: (len(before[name]), len(after.get(name, []))) for name in before if before[name] != after.get(name)}
