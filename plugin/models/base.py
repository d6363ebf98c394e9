"""The plugin's own declarative base, apart from Flask-AppBuilder's ``Model``.

The plugin's tables live on :data:`Base`'s metadata, so FAB's ``create-db`` (which creates
``Model.metadata``) never creates them: they come only from the plugin's migrations
(``flask psa db upgrade``). The marketplace relations the plugin reads (``models/hub.py``) are
mapped on the same metadata but marked as the host's (:func:`is_contract`): the plugin never
creates, alters or constrains them, since a host may satisfy them with views.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Numeric, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MONEY = Numeric(14, 4)
QUANTITY = Numeric(14, 4)
CONTRACT = "msphub_contract"
"""``Table.info`` key marking a marketplace relation: the host's, read only."""


class Base(DeclarativeBase):
    """Declarative base of every plugin model (its own metadata)."""

    metadata = MetaData(naming_convention=NAMING)


def is_contract(table: Table) -> bool:
    """True for a marketplace relation (the host's), False for a plugin table."""
    return bool(table.info.get(CONTRACT))


def plugin_tables() -> list[Table]:
    """The plugin's own tables (what its migrations create), in dependency order."""
    return [t for t in Base.metadata.sorted_tables if not is_contract(t)]


def contract_ref(target: str, column: str, owner: str) -> Mapped[Any]:
    """A many-to-one from ``owner.column`` to the marketplace relation ``target`` (class names).

    No foreign key exists in the database (a host's relation may be a view), so the join is spelled out.
    Setting it sets ``owner.column`` only: nothing is ever written to the marketplace relation.
    """
    return relationship(target, primaryjoin=f"{target}.id == foreign({owner}.{column})")
