"""Counting the SQL statements a piece of work sends (tests that bound them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def counting(engine) -> Iterator[list[str]]:
    """Collect the statements sent to ``engine`` while the block runs."""
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
