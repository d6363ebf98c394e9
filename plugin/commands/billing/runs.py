"""The billing sync as people follow it: live progress, run history, a run's failed rows, alerts.

Same checks as every sync command (``sync_scope``): tenant (another partner's run is 404), the
feature and the active integration, and the role on the SYNC resource (a Partner Viewer reads,
never acknowledges). Starting a push and retrying failed rows are ``RunPushCommand`` and
``RetryFailedCommand`` (``status``).
"""

from __future__ import annotations

from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.billing.common import SyncReadCommand, iso, progress_json, run_json, sync_scope
from msphub_psa.commands.exceptions import ConflictError, NotFoundError
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import SyncRunDAO
from msphub_psa.daos.runs import ALERT_STATUSES, FailedRow, SyncRunHistoryDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import push_waiting


def alert_json(run, unacknowledged: int) -> dict:
    """The banner's content: the newest unacknowledged failed/partial/stopped/abandoned run, and how many are open."""
    return {
        "run_id": run.id,
        "status": run.status,
        "counts": run.counts or {},
        "error": run.error,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "unacknowledged": unacknowledged,
    }


def live_state(partner_id: int) -> dict:
    """``progress`` of the running run (or null), ``queued`` (a push waits for a worker), ``alert`` (or null)."""
    running = SyncRunHistoryDAO.running(partner_id)
    alert, count = SyncRunHistoryDAO.open_alerts(partner_id)
    return {
        "progress": progress_json(running) if running is not None else None,
        "queued": push_waiting(partner_id),
        "alert": alert_json(alert, count) if alert is not None else None,
    }


def failed_row_json(row: FailedRow) -> dict:
    """A row that failed in a run, with ConnectWise's code and reason and what it is now."""
    return {
        "item_id": row.item_id,
        "reference": row.reference,
        "state": row.state,
        "code": row.code,
        "message": row.message,
        "transaction_id": row.transaction_id,
        "kind": row.kind,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "amount": str(row.amount),
        "currency": row.currency,
        "product": row.product,
        "subscription_id": row.subscription_id,
        "subscription": row.subscription,
        "customer_id": row.customer_id,
        "customer": row.customer,
    }


def _run_of(partner_id: int, run_id: int):
    """The partner's run. :raises NotFoundError: unknown or another partner's."""
    run = SyncRunDAO.in_partner(partner_id, run_id)
    if run is None:
        raise NotFoundError(f"Sync run {run_id} not found.")
    return run


class SyncProgressCommand(SyncReadCommand):
    """What the pages poll while a push runs: progress, queued, alert and the latest run (cheap)."""

    def run(self) -> dict:
        """The live state and the latest run."""
        self.validate()
        latest = SyncRunDAO.recent(self.partner_id, 1)
        result = {**live_state(self.partner_id), "last_run": run_json(latest[0]) if latest else None}
        session().rollback()
        return result


class SyncRunsCommand(BaseCommand):
    """One page of the partner's runs, newest first."""

    def __init__(self, actor: Actor, partner_id: int | None = None, page: int = 1, page_size: int = 20):
        self.actor, self.partner_id, self.page, self.page_size = actor, partner_id, page, page_size

    def validate(self) -> None:
        """Tenant, integration, read permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id)

    def run(self) -> dict:
        """``{total, page, page_size, result: [run]}``."""
        self.validate()
        runs, total = SyncRunHistoryDAO.page(self.partner_id, self.page, self.page_size)
        result = {"total": total, "page": self.page, "page_size": self.page_size, "result": [run_json(r) for r in runs]}
        session().rollback()
        return result


class SyncRunFailuresCommand(BaseCommand):
    """A run and one page of the rows that failed in it (ConnectWise's code and reason, the transaction)."""

    def __init__(self, actor: Actor, run_id: int, partner_id: int | None = None, page: int = 1, page_size: int = 25):
        self.actor, self.run_id, self.partner_id = actor, run_id, partner_id
        self.page, self.page_size = page, page_size

    def validate(self) -> None:
        """Tenant, integration, read permission; another partner's run is not found."""
        self.partner_id = sync_scope(self.actor, self.partner_id)
        self.found = _run_of(self.partner_id, self.run_id)

    def run(self) -> dict:
        """``{run, total, page, page_size, result: [failed row]}``."""
        self.validate()
        rows, total = SyncRunHistoryDAO.failed_rows(self.found.id, self.page, self.page_size)
        result = {
            "run": run_json(self.found),
            "total": total,
            "page": self.page,
            "page_size": self.page_size,
            "result": [failed_row_json(r) for r in rows],
        }
        session().rollback()
        return result


class AcknowledgeRunAlertCommand(BaseCommand):
    """Clear a failed/partial/stopped/abandoned run's alert (and any older open one); who and when are kept and
    audited."""

    def __init__(self, actor: Actor, run_id: int, partner_id: int | None = None):
        self.actor, self.run_id, self.partner_id = actor, run_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, write permission; the run must be the partner's and one that alerts.

        :raises ConflictError: the run did not fail (nothing to acknowledge).
        """
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        self.found = _run_of(self.partner_id, self.run_id)
        if self.found.status not in ALERT_STATUSES:
            raise ConflictError(f"Run {self.run_id} is {self.found.status}: there is no alert to acknowledge.")

    @transaction
    def run(self) -> dict:
        """Acknowledge (idempotent: an acknowledged run stays as it was) and audit; the run and the ids cleared."""
        self.validate()
        ids = SyncRunHistoryDAO.acknowledge(self.partner_id, self.found.id, self.actor.username)
        if ids:
            audit(
                self.actor,
                "sync.alert.acknowledge",
                "sync_run",
                self.found.id,
                partner_id=self.partner_id,
                runs=ids,
                status=self.found.status,
            )
        return {"run": run_json(SyncRunDAO.get(self.found.id)), "acknowledged": ids}
