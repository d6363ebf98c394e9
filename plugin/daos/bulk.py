"""Bulk writes for generated data: Core inserts in chunks, explicit ids."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, insert, select, text

from msphub_psa.daos.base import session

CHUNK = 5000


def next_id(model) -> int:
    """The first id above every existing row of ``model``."""
    return (session().scalar(select(func.max(model.id))) or 0) + 1


def insert_rows(model, rows: Iterable[dict]) -> int:
    """Insert plain-dict rows in chunks; return how many."""
    table, batch, total = model.__table__, [], 0
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            session().execute(insert(table), batch)
            total, batch = total + len(batch), []
    if batch:
        session().execute(insert(table), batch)
        total += len(batch)
    return total


def sync_sequence(model) -> None:
    """After explicit ids, move PostgreSQL's id sequence past them (no-op elsewhere)."""
    if session().get_bind().dialect.name != "postgresql":
        return
    name = model.__tablename__
    session().execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
        )
    )
