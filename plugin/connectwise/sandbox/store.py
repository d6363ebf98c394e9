"""SQLite persistence for the sandbox: accounts and records, thread-safe.

One table holds every record as JSON, keyed by (account, resource, id) and indexed by
(account, resource, parent, id), where ``parent`` is the record's owning agreement (additions,
adjustments), company (agreements) or category (subcategories). So "the additions of
agreement 12 whose serialNumber is X" reads only that agreement's rows, however many
additions the account holds. ``:memory:`` keeps everything in memory (tests).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    account TEXT NOT NULL, resource TEXT NOT NULL, id INTEGER NOT NULL,
    parent INTEGER, data TEXT NOT NULL, PRIMARY KEY (account, resource, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_parent ON records (account, resource, parent, id);
CREATE TABLE IF NOT EXISTS sequences (
    account TEXT NOT NULL, resource TEXT NOT NULL, next_id INTEGER NOT NULL,
    PRIMARY KEY (account, resource)
);
"""
CHUNK = 2000


class Store:
    """Accounts and records in one SQLite database, guarded by one lock."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._accounts: dict[str, Record] | None = None

    def close(self) -> None:
        """Close the database."""
        with self.lock:
            self._db.close()

    def _all(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Run a query under the lock and fetch everything."""
        with self.lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        """Run write statements in one transaction."""
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def is_empty(self) -> bool:
        """True when no account is stored."""
        return not self._all("SELECT 1 FROM accounts LIMIT 1")

    def clear(self) -> None:
        """Delete every account and record."""
        self._write([("DELETE FROM accounts", ()), ("DELETE FROM records", ()), ("DELETE FROM sequences", ())])
        self._accounts = None

    # -- accounts ---------------------------------------------------------------------------

    def put_account(self, account: Record) -> None:
        """Create or replace an account (keyed by its companyId, case-insensitively)."""
        key = account["companyId"].lower()
        self._write([("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (key, json.dumps(account)))])
        self._accounts = None

    def accounts(self) -> dict[str, Record]:
        """All accounts by lower-cased companyId (cached)."""
        with self.lock:
            if self._accounts is None:
                rows = self._db.execute("SELECT key, data FROM accounts").fetchall()
                self._accounts = {key: json.loads(data) for key, data in rows}
            return self._accounts

    def account(self, company_id: str) -> Record | None:
        """One account, or None."""
        return self.accounts().get(company_id.lower())

    # -- records ----------------------------------------------------------------------------

    def insert(self, account: str, resource: str, record: Record, parent: int | None = None) -> Record:
        """Store a new record, assigning the next id when it has none."""
        with self.lock:
            row = self._db.execute(
                "SELECT next_id FROM sequences WHERE account=? AND resource=?", (account, resource)
            ).fetchone()
            next_id = row[0] if row else 1
            record["id"] = int(record.get("id") or next_id)
            self._write(
                [
                    (
                        "INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                        (account, resource, record["id"], parent, json.dumps(record)),
                    ),
                    (
                        "INSERT OR REPLACE INTO sequences VALUES (?, ?, ?)",
                        (account, resource, max(next_id, record["id"] + 1)),
                    ),
                ]
            )
        return record

    def update(self, account: str, resource: str, record: Record, parent: int | None = None) -> None:
        """Replace a stored record."""
        self._write(
            [
                (
                    "UPDATE records SET data=?, parent=? WHERE account=? AND resource=? AND id=?",
                    (json.dumps(record), parent, account, resource, record["id"]),
                )
            ]
        )

    def delete(self, account: str, resource: str, record_id: int) -> None:
        """Delete a record."""
        self._write([("DELETE FROM records WHERE account=? AND resource=? AND id=?", (account, resource, record_id))])

    def get(self, account: str, resource: str, record_id: int) -> Record | None:
        """One record, or None."""
        rows = self._all(
            "SELECT data FROM records WHERE account=? AND resource=? AND id=?", (account, resource, record_id)
        )
        return json.loads(rows[0][0]) if rows else None

    def _where(self, account: str, resource: str, parent: int | None, after: int) -> tuple[str, tuple]:
        """WHERE clause for a (possibly parent-scoped) id range."""
        if parent is None:
            return "account=? AND resource=? AND id>?", (account, resource, after)
        return "account=? AND resource=? AND parent=? AND id>?", (account, resource, parent, after)

    def count(self, account: str, resource: str, parent: int | None = None) -> int:
        """Number of records (of one parent)."""
        where, args = self._where(account, resource, parent, 0)
        return self._all(f"SELECT COUNT(*) FROM records WHERE {where}", args)[0][0]

    def slice(
        self, account: str, resource: str, parent: int | None, offset: int, limit: int, after: int = 0
    ) -> list[Record]:
        """Records in id order from ``offset`` (ids above ``after``)."""
        where, args = self._where(account, resource, parent, after)
        source = "records" if parent is None else "records INDEXED BY records_parent"  # not the primary key's order
        rows = self._all(
            f"SELECT data FROM {source} WHERE {where} ORDER BY id LIMIT ? OFFSET ?", (*args, limit, offset)
        )
        return [json.loads(data) for (data,) in rows]

    def scan(self, account: str, resource: str, parent: int | None = None, after: int = 0) -> Iterator[Record]:
        """Every record in id order, fetched in chunks (the lock is not held between them)."""
        while True:
            chunk = self.slice(account, resource, parent, 0, CHUNK, after)
            yield from chunk
            if len(chunk) < CHUNK:
                return
            after = chunk[-1]["id"]
