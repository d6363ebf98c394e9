"""Billing push use cases for people: start a push, its status, runs and rows, retry failed, catalog sync.

Each checks tenant (another partner's ids answer 404), the feature and the active integration,
and the role on the SYNC resource (a Partner Viewer reads, never writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.billing.common import SyncReadCommand, item_json, run_json, sync_scope
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreparePreviewCommand, awaiting_json
from msphub_psa.commands.billing.runs import live_state
from msphub_psa.commands.billing.settings import approval_required, effective_settings
from msphub_psa.commands.exceptions import InvalidInputError, NotFoundError, UnavailableError
from msphub_psa.commands.rules.lists import refresh_after_catalog
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import FAILED, CatalogSyncDAO, OutboxDAO, SyncLeaseDAO, SyncRunDAO
from msphub_psa.domain import billing
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import QueueUnavailable, enqueue_push


@dataclass
class SyncStatus:
    """The partner's push state: rows per state, running or not, recent runs, failures, refused products."""

    partner_id: int
    states: dict
    running: bool
    runs: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    refused_products: list = field(default_factory=list)
    live: dict = field(default_factory=dict)  # progress, queued, alert (msphub_psa.commands.billing.runs)
    control: dict = field(default_factory=dict)  # sync control: awaiting_approval, approval, schedule

    def as_dict(self) -> dict:
        """JSON form."""
        return {
            "partner_id": self.partner_id,
            "states": self.states,
            "running": self.running,
            "runs": self.runs,
            "failed": self.failed,
            "refused_products": self.refused_products,
            **self.live,
            **self.control,
        }


class SyncStatusCommand(SyncReadCommand):
    """What the push has done and what waits."""

    def run(self) -> SyncStatus:
        """Read the outbox, the lease and the latest runs."""
        self.validate()
        failed = [
            {
                **item_json(item),
                "amount": str(tx.amount),
                "period_start": tx.period_start.isoformat(),
                "period_end": tx.period_end.isoformat(),
            }
            for item, tx in OutboxDAO.failed_page(self.partner_id)
        ]
        refused = [
            {"product_id": r.product_id, "identifier": r.identifier, "code": r.error_code, "message": r.error_message}
            for r in CatalogSyncDAO.refused(self.partner_id)
        ]
        status = SyncStatus(
            self.partner_id,
            OutboxDAO.state_counts(self.partner_id),
            SyncLeaseDAO.is_held(self.partner_id),
            [run_json(r) for r in SyncRunDAO.recent(self.partner_id, 10)],
            failed,
            refused,
            live_state(self.partner_id),
            control_status(self.partner_id),
        )
        session().rollback()
        return status


def control_status(partner_id: int) -> dict:
    """Sync control's part of the status: the preview awaiting approval, approval, next run."""
    settings = effective_settings(partner_id).as_dict()
    return {
        "awaiting_approval": awaiting_json(partner_id),
        "approval_required": settings["approval_required"],
        "next_run_at": settings["next_run_at"],
    }


class RunPushCommand(BaseCommand):
    """Start a push (the sync job); a push already waiting in the queue is joined."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor, self.partner_id = actor, partner_id

    def validate(self) -> None:
        """Tenant, integration, write permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)

    def run(self) -> dict:
        """Enqueue the job and audit it; with approval required, prepare a preview awaiting approval instead."""
        if self._needs_approval():
            return self._prepare()
        return self._enqueue()

    @transaction
    def _enqueue(self) -> dict:
        """Enqueue the job and audit it.

        :raises UnavailableError: the job queue does not answer.
        """
        self.validate()
        try:
            job, created = enqueue_push(self.partner_id, self.actor.username)
        except QueueUnavailable as exc:
            raise UnavailableError("The job queue does not answer; the push could not be started.") from exc
        audit(
            self.actor,
            "sync.run",
            "partner",
            self.partner_id,
            partner_id=self.partner_id,
            job_id=job.id,
            created=created,
        )
        return {"job_id": job.id, "created": created}

    @transaction
    def _needs_approval(self) -> bool:
        """Checks, then whether the partner's pushes must be approved first."""
        self.validate()
        return approval_required(self.partner_id)

    def _prepare(self) -> dict:
        """Sync now with approval required: a preview awaiting approval, nothing pushed."""
        preview_id = PreparePreviewCommand(self.actor, self.partner_id).run()
        awaiting = awaiting_json(self.partner_id)
        session().rollback()
        return {"job_id": None, "created": preview_id is not None, "awaiting_approval": awaiting}

    def run_inline(self) -> dict:
        """Run the push in this process (the CLI's ``--inline``), after the same checks; audited."""
        if self._needs_approval():
            return self._prepare()
        self._audit_inline()
        return PushBillingCommand(self.partner_id, self.actor.username).run(wait=True).as_dict()

    @transaction
    def _audit_inline(self) -> None:
        """Checks, then the audit of an inline push."""
        self.validate()
        audit(self.actor, "sync.run", "partner", self.partner_id, partner_id=self.partner_id, inline=True)


class RetryFailedCommand(BaseCommand):
    """Failed rows back to pending (all of the partner's, or some ids); refused products are tried again.

    A failed move (ConnectWise refused to remove ours from the old agreement) goes back to ``moving``:
    the next push reads it and tries the removal again.
    """

    def __init__(self, actor: Actor, partner_id: int | None = None, item_ids: list[int] | None = None):
        self.actor, self.partner_id, self.item_ids = actor, partner_id, item_ids

    def validate(self) -> None:
        """Tenant, integration, write permission; every id must be one of the partner's rows."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        if self.item_ids is not None:
            if not self.item_ids:
                raise InvalidInputError("Give at least one row id.", {"ids": ["At least one."]})
            for item_id in self.item_ids:
                if OutboxDAO.in_partner(self.partner_id, item_id) is None:
                    raise NotFoundError(f"Sync row {item_id} not found.")

    @transaction
    def run(self) -> int:
        """Move the rows (each transition recorded), forget catalog refusals, audit; return how many."""
        self.validate()
        rows = [
            r
            for r in OutboxDAO.items(self.partner_id, (FAILED,))
            if self.item_ids is None or r.id in set(self.item_ids)
        ]
        for item in rows:
            event = billing.retry_event(
                item.remote_record_id
            )  # a refused move is asked again: it is still in ConnectWise
            new = billing.transition(item.state, event)
            OutboxDAO.set_state(
                item, new.value, event.value, by_run=None, actor=self.actor.username, detail="Retry failed", reason=None
            )
        refused = CatalogSyncDAO.refused(self.partner_id) if self.item_ids is None else []
        for row in refused:
            session().delete(row)
        audit(
            self.actor,
            "sync.retry_failed",
            "partner",
            self.partner_id,
            partner_id=self.partner_id,
            rows=len(rows),
            products=len(refused),
        )
        return len(rows)


class SyncRunDetailCommand(BaseCommand):
    """One run of the partner."""

    def __init__(self, actor: Actor, run_id: int, partner_id: int | None = None):
        self.actor, self.run_id, self.partner_id = actor, run_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission; another partner's run is not found."""
        self.partner_id = sync_scope(self.actor, self.partner_id)
        self.found = SyncRunDAO.in_partner(self.partner_id, self.run_id)
        if self.found is None:
            raise NotFoundError(f"Sync run {self.run_id} not found.")

    def run(self) -> dict:
        """The run as JSON."""
        self.validate()
        return run_json(self.found)


class SyncItemDetailCommand(BaseCommand):
    """One outbox row of the partner, with its transitions."""

    def __init__(self, actor: Actor, item_id: int, partner_id: int | None = None):
        self.actor, self.item_id, self.partner_id = actor, item_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission; another partner's row is not found."""
        self.partner_id = sync_scope(self.actor, self.partner_id)
        self.found = OutboxDAO.in_partner(self.partner_id, self.item_id)
        if self.found is None:
            raise NotFoundError(f"Sync row {self.item_id} not found.")

    def run(self) -> dict:
        """The row and its transitions."""
        self.validate()
        return {
            **item_json(self.found),
            "transitions": [
                {
                    "from": t.from_state,
                    "to": t.to_state,
                    "event": t.event,
                    "run_id": t.run_id,
                    "actor": t.actor,
                    "detail": t.detail,
                    "at": t.at.isoformat(),
                }
                for t in OutboxDAO.transitions(self.found.id)
            ],
        }


class CatalogSyncCommand(BaseCommand):
    """The catalog step alone (``flask psa catalog sync``): products of the eligible transactions."""

    def __init__(self, actor: Actor, partner_id: int | None = None, dry_run: bool = False):
        self.actor, self.partner_id, self.dry_run = actor, partner_id, dry_run

    def validate(self) -> None:
        """Tenant, integration, write permission (read is enough for a dry run)."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=not self.dry_run)

    def run(self) -> dict:
        """Adopt or create the catalog items (or, dry, say what would happen); audit a real sync."""
        self.validate()
        ids = sorted(OutboxDAO.eligible(self.partner_id))
        push = PushBillingCommand(self.partner_id, self.actor.username)
        sync = push.catalog(self.dry_run)
        sync.ensure(ids)
        plan = {**sync.plan.as_dict(), "psa_calls": push.client.call_count, "dry_run": self.dry_run}
        if not self.dry_run:
            _audit_catalog(self.actor, self.partner_id, plan)
            if plan["new_lists"]:
                plan["lists_refresh_queued"] = refresh_after_catalog(self.partner_id)
        return plan


@transaction
def _audit_catalog(actor: Actor, partner_id: int, plan: dict) -> None:
    """Audit a catalog sync."""
    audit(
        actor,
        "catalog.sync",
        "partner",
        partner_id,
        partner_id=partner_id,
        created=len(plan["create"]),
        adopted=len(plan["adopt"]),
        refused=len(plan["refused"]),
        new_lists=plan["new_lists"],
    )
