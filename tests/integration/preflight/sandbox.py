"""Causes set up in the sandbox, and read-backs of its request log."""

from __future__ import annotations

from collections.abc import Callable


def edit(cw_live, resource: str, record_id: int, change: Callable[[dict], None]) -> dict:
    """Change one stored sandbox record in place (as a person would in ConnectWise); its old copy back."""
    store, account = cw_live.sandbox.store, cw_live.company_id
    record = store.get(account, resource, record_id)
    old = dict(record)
    change(record)
    store.update(account, resource, record)
    return old


def put_back(cw_live, resource: str, record: dict) -> None:
    """Restore a record ``edit`` changed."""
    cw_live.sandbox.store.update(cw_live.company_id, resource, record)


def last_seq(cw_live) -> int:
    """The request log's last sequence number (0 when empty)."""
    log = cw_live.requests()
    return log[-1]["seq"] if log else 0


def creates(cw_live, since: int) -> list[dict]:
    """The record creates the sandbox received after ``since``."""
    return [
        r
        for r in cw_live.requests(since)
        if r["method"] == "POST" and r["path"].rstrip("/").endswith(("/additions", "/adjustments"))
    ]


def touching(cw_live, since: int, agreement_id: int) -> list[dict]:
    """Requests after ``since`` on one agreement's records (its additions or adjustments)."""
    prefix = f"/finance/agreements/{agreement_id}/"
    return [r for r in cw_live.requests(since) if prefix in r["path"]]
