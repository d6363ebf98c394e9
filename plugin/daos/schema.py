"""The plugin's schema in a database: its own migrations (shipped in the package, with a version table of
their own) and the marketplace contract it reads (``models/hub.py``), checked against what the host has."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import Connection, Engine

from msphub_psa.daos.base import session
from msphub_psa.models.base import Base, is_contract, plugin_tables
from msphub_psa.models.hub import CONTRACT_MODELS

VERSION_TABLE = "psa_alembic_version"
"""The plugin's own Alembic version table: its history never mixes with the host's ``alembic_version``."""
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
"""The plugin's migrations, inside the installed package."""
_TYPES = (sa.Integer, sa.Numeric, sa.Date, sa.DateTime, sa.String, sa.Boolean)


class SchemaError(RuntimeError):
    """The database cannot be migrated as asked (the message says what to do)."""


@dataclass
class SchemaState:
    """Where a database stands: the plugin's revision and head, drift, and the marketplace contract."""

    current: str | None
    head: str
    missing_relations: list[str] = field(default_factory=list)
    contract_problems: list[str] = field(default_factory=list)
    contract_notes: list[str] = field(default_factory=list)

    @property
    def at_head(self) -> bool:
        """True when the plugin's tables are at the newest migration."""
        return self.current == self.head

    @property
    def ok(self) -> bool:
        """True when the plugin's tables are at head and the contract is satisfied."""
        return self.at_head and not self.contract_problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "current": self.current,
            "head": self.head,
            "at_head": self.at_head,
            "ok": self.ok,
            "contract_problems": self.contract_problems,
            "contract_notes": self.contract_notes,
        }


def _engine() -> Engine:
    """The engine of the session FAB was given."""
    return session().get_bind()


def user_table() -> str:
    """The host's FAB user table (``ab_user`` unless the host's security manager says otherwise)."""
    return current_app.appbuilder.sm.user_model.__tablename__


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration of the plugin's migrations on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    if connection is not None:
        config.attributes["user_table"] = user_table()
    return config


def head_revision() -> str:
    """The newest migration in the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection | None = None) -> str | None:
    """The plugin's revision in the database (None: never migrated)."""
    if connection is None:
        with _engine().connect() as conn:
            return current_revision(conn)
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the plugin's tables to ``revision``; returns (before, after).

    :raises SchemaError: when plugin tables exist that its migrations did not create.
    """
    session().rollback()
    with _engine().begin() as conn:
        before = current_revision(conn)
        if before is None:
            _refuse_unversioned_tables(conn)
        command.upgrade(alembic_config(conn), revision)
        return before, current_revision(conn)


def downgrade(revision: str) -> tuple[str | None, str | None]:
    """Migrate the plugin's tables down to ``revision`` (``base`` drops them all); returns (before, after)."""
    session().rollback()
    with _engine().begin() as conn:
        before = current_revision(conn)
        command.downgrade(alembic_config(conn), revision)
        return before, current_revision(conn)


def _refuse_unversioned_tables(conn: Connection) -> None:
    """Plugin tables without a version row were made outside the migrations (e.g. ``create_all``)."""
    existing = set(sa.inspect(conn).get_table_names())
    stray = sorted(t.name for t in plugin_tables() if t.name in existing)
    if stray:
        raise SchemaError(
            f"The database already holds {len(stray)} of the plugin's tables ({', '.join(stray[:3])}…) but no "
            f"{VERSION_TABLE} row: they were not made by the plugin's migrations. Drop them (they are empty on a "
            "fresh install) and run `flask psa db upgrade` again."
        )


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: only the plugin's own tables (never the host's, never the marketplace relations),
    and no foreign key to a table that is not the plugin's (the host's user table)."""
    ours = {t.name for t in plugin_tables()}
    if type_ == "table":
        return name in ours and not (obj is not None and not reflected and is_contract(obj))
    if type_ == "foreign_key_constraint":
        return obj.referred_table.name in ours
    return True


def drift(connection: Connection | None = None) -> list[Any]:
    """Differences between the plugin's models and its tables in the database (empty at head)."""
    if connection is None:
        with _engine().connect() as conn:
            return drift(conn)
    context = MigrationContext.configure(
        connection, opts={"include_object": include_object, "compare_type": True, "version_table": VERSION_TABLE}
    )
    return compare_metadata(context, Base.metadata)


def state() -> SchemaState:
    """Where the database stands (revision, head, marketplace contract)."""
    with _engine().connect() as conn:
        found = SchemaState(current_revision(conn), head_revision())
        found.contract_problems, found.contract_notes = check_contract(conn)
    session().rollback()
    return found


def check_contract(connection: Connection) -> tuple[list[str], list[str]]:
    """(problems, notes): each marketplace relation or column missing or of the wrong kind of type; notes
    for what cannot be verified (a view's indexes, a column type a view does not declare)."""
    inspector = sa.inspect(connection)
    tables, views = set(inspector.get_table_names()), set(inspector.get_view_names())
    problems: list[str] = []
    notes: list[str] = []
    for model in CONTRACT_MODELS:
        table = model.__table__
        if table.name not in tables | views:
            columns = ", ".join(c.name for c in table.columns)
            problems.append(f"relation {table.name} is missing (a table or view with columns {columns})")
            continue
        problems += _column_problems(table, {c["name"]: c["type"] for c in inspector.get_columns(table.name)})
        if table.name in views:
            notes.append(
                f"{table.name} is a view: the indexes its queries need are the underlying tables' "
                f"({_index_text(table)})"
            )
        else:
            problems += _index_problems(
                table, inspector.get_indexes(table.name), inspector.get_pk_constraint(table.name)
            )
    return problems, notes


def _column_problems(table: sa.Table, found: dict[str, Any]) -> list[str]:
    """Missing columns, and columns whose declared type is of another kind."""
    problems = []
    for column in table.columns:
        if column.name not in found:
            problems.append(f"{table.name}.{column.name} is missing ({column.type})")
            continue
        wanted = next((t for t in _TYPES if isinstance(column.type, t)), None)
        actual = found[column.name]
        if wanted is not None and not isinstance(actual, sa.types.NullType) and not _same_kind(wanted, actual):
            problems.append(f"{table.name}.{column.name} is {actual}, expected {column.type}")
    return problems


def _same_kind(wanted: type, actual: Any) -> bool:
    """True when a reflected type can hold what the contract declares (SQLite reports DATETIME as DATETIME,
    PostgreSQL NUMERIC as NUMERIC, booleans may be integers)."""
    if wanted is sa.Numeric:
        return isinstance(actual, (sa.Numeric, sa.Integer))
    if wanted is sa.Boolean:
        return isinstance(actual, (sa.Boolean, sa.Integer))
    return isinstance(actual, wanted)


def _index_text(table: sa.Table) -> str:
    """The indexes a contract relation needs, as text."""
    return (
        "; ".join(
            f"({', '.join(c.name for c in index.columns)})"
            for index in sorted(table.indexes, key=lambda i: i.name or "")
        )
        or "primary key only"
    )


def _index_problems(table: sa.Table, indexes: list[dict[str, Any]], primary: dict[str, Any]) -> list[str]:
    """Declared indexes the table lacks (an index whose leading columns match counts)."""
    have = [list(i["column_names"]) for i in indexes] + [list(primary.get("constrained_columns") or [])]
    problems = []
    for index in table.indexes:
        wanted = [c.name for c in index.columns]
        if not any(cols[: len(wanted)] == wanted for cols in have):
            problems.append(f"{table.name} has no index on ({', '.join(wanted)}) (the plugin's queries need it)")
    return problems
