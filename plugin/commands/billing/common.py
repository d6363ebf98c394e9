"""What the billing sync's use cases share: the scope check every one of them makes, and the JSON of a run, of an
outbox row and of the Reconciliation Center's Pending push, Failed and Blocked figures."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from msphub_psa import clock, permissions
from msphub_psa.commands.access import partner_of, require_active_integration, require_permission
from msphub_psa.commands.base import BaseCommand
from msphub_psa.daos.outbox import SyncFiguresDAO
from msphub_psa.daos.runs import ALERT_STATUSES
from msphub_psa.domain import checks
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.billing import net_amount


def sync_scope(actor: Actor, partner_id: int | None, write: bool = False) -> int:
    """The partner acted on, after tenant, active-integration and role checks."""
    partner = partner_of(actor, partner_id)
    require_active_integration(partner)
    require_permission(actor, permissions.WRITE if write else permissions.READ, permissions.SYNC)
    return partner


class SyncReadCommand(BaseCommand):
    """A read of the partner's billing sync (tenant, active integration, read permission)."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor, self.partner_id = actor, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id)


def iso(value) -> str | None:
    """A datetime as ISO text (None stays None)."""
    return value.isoformat() if value else None


def progress_json(run) -> dict:
    """``{"run_id", "done", "total", "failed"}`` of a run (``total`` is null until the rows are counted)."""
    return {
        "run_id": run.id,
        "done": run.progress_done or 0,
        "total": run.progress_total,
        "failed": run.progress_failed or 0,
    }


def run_extras(run) -> dict:
    """The run JSON's extras: duration, progress, and whether it alerts until acknowledged."""
    end = run.finished_at or (clock.now() if run.status == "running" else None)
    started = run.started_at
    if started is not None and end is not None and (started.tzinfo is None) != (end.tzinfo is None):
        started, end = started.replace(tzinfo=None), end.replace(tzinfo=None)  # SQLite hands back naive times
    return {
        "duration_seconds": round((end - started).total_seconds(), 1) if started and end else None,
        "progress": progress_json(run),
        "alert": run.status in ALERT_STATUSES and run.acknowledged_at is None,
        "acknowledged_by": run.acknowledged_by,
        "acknowledged_at": iso(run.acknowledged_at),
    }


def run_json(run) -> dict:
    """A run record (no secrets: ids, times, counts, calls; progress and alert state)."""
    return {
        "id": run.id,
        "status": run.status,
        "requested_by": run.requested_by,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "counts": run.counts or {},
        "psa_calls": run.psa_calls,
        "writes": run.writes,
        "lookups": run.lookups,
        "catalog_calls": run.catalog_calls,
        "check_calls": run.check_calls,
        "not_foreseen": (run.counts or {}).get("not_foreseen", 0),
        "blocked": (run.counts or {}).get("blocked", 0),
        "error": run.error,
        "continues_run_id": run.continues_run_id,
        **run_extras(run),
    }


def item_json(item) -> dict:
    """An outbox row."""
    return {
        "id": item.id,
        "transaction_id": item.transaction_id,
        "reference": item.reference,
        "subscription_id": item.subscription_id,
        "kind": item.record_kind,
        "state": item.state,
        "agreement_remote_id": item.agreement_remote_id,
        "remote_record_id": item.remote_record_id,
        "attempts": item.attempts,
        "reason": item.reason,
        "error_code": item.last_error_code,
        "error_message": item.last_error_message,
        "run_id": item.run_id,
    }


def pending_and_failed(partner_id: int, since=None) -> dict:
    """The Reconciliation Center's Pending push and Failed figures."""
    pending_count, pending_net = SyncFiguresDAO.pending_push(partner_id, since)
    failed_count, failed_net = SyncFiguresDAO.failed(partner_id, since)
    return {
        **blocked_figure(partner_id, since),
        "pending_push": pending_net,
        "pending_push_count": pending_count,
        "failed": failed_net,
        "failed_count": failed_count,
    }


def cause_of(code: str | None) -> checks.Check:
    """The check of a code (an unknown one named as it is)."""
    return checks.CHECKS.get(code or "", checks.Check(code or "Unknown", code or "unknown cause", "", ""))


def blocked_figure(partner_id: int, since=None) -> dict:
    """Blocked: count, net amount and the top causes (the Reconciliation Center's figure)."""
    rows = SyncFiguresDAO.blocked(partner_id, since)
    codes = Counter(r[6] or "Unknown" for r in rows)
    return {
        "blocked": net_amount((r[2], Decimal(r[3])) for r in rows),
        "blocked_count": len(rows),
        "blocked_causes": [
            {"code": c, "cause": cause_of(c).cause, "count": n}
            for c, n in sorted(codes.items(), key=lambda x: (-x[1], x[0]))[:3]
        ],
    }
