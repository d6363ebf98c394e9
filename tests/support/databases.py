"""Databases for tests: a migrated, demo-seeded template, cloned per test.

SQLite by default (a file copy per clone); PostgreSQL when ``TEST_DATABASE_URL``
names a server database (``CREATE DATABASE ... TEMPLATE ...`` per clone).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


def backend() -> str:
    """``postgresql`` when TEST_DATABASE_URL says so, else ``sqlite``."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def _admin_dsn() -> str:
    """A libpq DSN to the maintenance database of the test server."""
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    return url.set(database="postgres").render_as_string(hide_password=False)


def _pg_exec(sql: str) -> None:
    """Run one statement in autocommit on the maintenance database."""
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(sql)


class DatabaseFactory:
    """Creates empty databases and clones of a template, and drops them all at the end."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.prefix = f"psa_t{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def _pg_url(self, name: str) -> str:
        url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    def empty(self) -> str:
        """URL of a new empty database."""
        name = f"{self.prefix}_{len(self.created)}"
        self.created.append(name)
        if backend() == "postgresql":
            _pg_exec(f'CREATE DATABASE "{name}"')
            return self._pg_url(name)
        return f"sqlite:///{self.workdir / (name + '.db')}"

    def clone(self, template_url: str) -> str:
        """URL of a new database holding a copy of ``template_url``."""
        name = f"{self.prefix}_{len(self.created)}"
        self.created.append(name)
        if backend() == "postgresql":
            template = make_url(template_url).database
            _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return self._pg_url(name)
        source = Path(make_url(template_url).database)
        target = self.workdir / (name + ".db")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"

    def drop_all(self) -> None:
        """Drop every database this factory made (PostgreSQL; SQLite files go with tmp)."""
        if backend() != "postgresql":
            return
        for name in self.created:
            _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
