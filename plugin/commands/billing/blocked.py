"""The rows a pre-flight check blocked, grouped by cause: the Reconciliation Center's Blocked figure,
``flask psa sync check`` and ``GET /api/v1/psa_sync/check`` (no PSA call: what the last preview or push found)."""

from __future__ import annotations

from decimal import Decimal

from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.billing.common import cause_of, sync_scope
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import SyncFiguresDAO
from msphub_psa.domain import checks
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.billing import net_amount

ROWS_SHOWN = 200
"""Rows listed per cause (the counts and amounts are always complete)."""


def _group(code: str, rows: list) -> dict:
    """One cause: its check, count, net amount and first rows."""
    check = cause_of(code)
    return {
        "code": code,
        "cause": check.cause,
        "fix": check.fix,
        "count": len(rows),
        "amount": str(net_amount((r[2], Decimal(r[3])) for r in rows)),
        "rows": [
            {
                "item_id": r[0],
                "transaction_id": r[1],
                "kind": r[2],
                "amount": str(r[3]),
                "agreement_remote_id": r[4],
                "customer_id": r[5],
                "message": r[7],
            }
            for r in rows[:ROWS_SHOWN]
        ],
    }


class SyncCheckCommand(BaseCommand):
    """The partner's blocked rows grouped by cause, each cause with its fix (read permission)."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor, self.partner_id = actor, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id)

    def run(self) -> dict:
        """{total, amount, summary, causes: [{code, cause, fix, count, amount, rows}]}, the biggest cause first."""
        self.validate()
        rows = SyncFiguresDAO.blocked(self.partner_id)
        session().rollback()
        by_code: dict[str, list] = {}
        for row in rows:
            by_code.setdefault(row[6] or "Unknown", []).append(row)
        ordered = sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return {
            "total": len(rows),
            "amount": str(net_amount((r[2], Decimal(r[3])) for r in rows)),
            "summary": checks.summary({c: len(v) for c, v in by_code.items() if c in checks.CHECKS}),
            "causes": [_group(code, members) for code, members in ordered],
        }
