"""Set-ups for revenue assurance tests: a pushed ledger on the sandbox, and a person's edits in ConnectWise."""

from __future__ import annotations

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.daos.base import session
from tests.support.push import items, push_setup

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def pushed_ledger(cw_live, customers: int = 1):
    """The pilot's transactions of ``customers`` pushed to the sandbox; (partner id, actor, outbox rows)."""
    partner_id, actor, _customers = push_setup(cw_live, customers=customers)
    result = PushBillingCommand(partner_id).run()
    assert result.status == "succeeded", result.error
    rows = items(partner_id)
    assert rows and all(r.state == "pushed" for r in rows)
    session().rollback()
    return partner_id, actor, rows


def first(rows, kind: str = "charge"):
    """The first pushed row of ``kind``."""
    return next(r for r in rows if r.record_kind == kind)


def writes(cw_live, since: int) -> list[dict]:
    """Write requests in the sandbox's log since ``since``."""
    return [r for r in cw_live.requests()[since:] if r["method"] in WRITES]
