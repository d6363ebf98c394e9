"""ConnectWise directory refresh: companies and agreements into the per-partner cache.

The request (button, REST, CLI ``--enqueue``) only enqueues a job on the fast queue. The
job reads ConnectWise page by page and commits each page on its own (no transaction is
held open across an HTTP call), incrementally (``lastUpdated`` past the last refresh)
unless a full refresh is asked; soft-deleted companies come back with ``deletedFlag`` and
are marked deleted. Then exact-name matches are mapped automatically, and unmapped
subscriptions of mapped customers are auto-associated, as the user who
asked for the refresh (or ``system`` for a scheduled one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from msphub_psa import clock, permissions
from msphub_psa.commands.access import reconciliation_scope as scope
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import CommandError, UnavailableError
from msphub_psa.commands.psa_client import psa_for
from msphub_psa.commands.reconciliation import MapExactMatchesCommand
from msphub_psa.commands.subscriptions import AutoAssociateSubscriptionsCommand
from msphub_psa.daos.directory import PsaAgreementDAO, PsaCompanyDAO, ReconciliationStateDAO, chunked
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import QueueUnavailable, current_job_id, enqueue_directory_refresh
from msphub_psa.psa.errors import PsaError

PAGE = 1000
OVERLAP = dt.timedelta(seconds=1)
Progress = Callable[[dict], None]


def system_actor(partner_id: int) -> Actor:
    """The actor of scheduled refreshes: audited as ``system``."""
    return Actor(user_id=None, username="system", roles=(permissions.PARTNER_ADMIN,), partner_id=partner_id)


class DirectoryRefreshError(CommandError):
    """ConnectWise could not be read; the cache keeps what it had."""

    status = 502


class RequestDirectoryRefreshCommand(BaseCommand):
    """Enqueue a refresh of the partner's directory (one per partner at a time)."""

    def __init__(self, actor: Actor, partner_id: int | None = None, full: bool = False):
        self.actor, self.partner_id, self.full = actor, partner_id, full

    def validate(self) -> None:
        """Tenant, active integration, write permission."""
        self.partner_id = scope(self.actor, self.partner_id, write=True)

    @transaction
    def run(self) -> tuple[str, bool]:
        """Enqueue (or find the running) job; return (job id, newly queued).

        :raises UnavailableError: the job queue does not answer.
        """
        self.validate()
        try:
            job, created = enqueue_directory_refresh(self.partner_id, self.actor.username, self.full)
        except QueueUnavailable as exc:
            raise UnavailableError("The job queue does not answer; the directory could not be refreshed.") from exc
        if created:
            state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
            ReconciliationStateDAO.update(
                state,
                refresh_status="queued",
                refresh_job_id=job.id,
                refresh_requested_by=self.actor.username,
                refresh_error=None,
                refresh_progress={"phase": "queued"},
            )
            audit(
                self.actor,
                "directory.refresh_requested",
                "partner",
                self.partner_id,
                partner_id=self.partner_id,
                full=self.full,
                job_id=job.id,
            )
        return job.id, created


class RefreshDirectoryCommand(BaseCommand):
    """Read ConnectWise companies and agreements into the cache, then map exact matches."""

    def __init__(
        self,
        actor: Actor,
        partner_id: int | None = None,
        full: bool = False,
        progress: Progress | None = None,
        automap: bool = True,
    ):
        self.actor, self.partner_id, self.full = actor, partner_id, full
        self.progress_cb, self.automap = progress or (lambda _: None), automap
        self.counts = {"companies": 0, "agreements": 0, "inserted": 0, "updated": 0}

    def validate(self) -> None:
        """Tenant, active integration, write permission."""
        self.partner_id = scope(self.actor, self.partner_id, write=True)

    def run(self) -> dict:
        """Refresh page by page (a commit per page); return counts and the exact matches mapped.

        :raises DirectoryRefreshError: when ConnectWise could not be read (state ``failed``).
        """
        self.validate()
        since_companies, since_agreements = self._begin()
        try:
            with psa_for(IntegrationDAO.for_partner(self.partner_id)) as client:
                companies = self._read("companies", client.iter_companies, PsaCompanyDAO, since_companies)
                agreements = self._read("agreements", client.iter_agreements, PsaAgreementDAO, since_agreements)
        except PsaError as err:
            self._fail(err)
            raise DirectoryRefreshError(f"ConnectWise could not be read: {err}") from err
        self._finish(companies, agreements)
        try:  # the automatic mappings land before the page (polling the state) hears "done"
            exact = MapExactMatchesCommand(self.actor, self.partner_id)
            mapped = exact.run() if self.automap else []
            auto = AutoAssociateSubscriptionsCommand(self.actor, self.partner_id).run() if self.automap else None
        finally:
            self._done()
        return {
            **self.counts,
            "exact_mapped": len(mapped),
            "full": self.full,
            # those of the customers just mapped, then of any mapped customer
            "subscriptions_automapped": len(exact.automapped) + (len(auto.created_ids) if auto else 0),
        }

    @transaction
    def _begin(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """Mark the refresh running; return the incremental starting points (None: full read)."""
        state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
        self.full = self.full or state.last_refreshed_at is None
        ReconciliationStateDAO.update(
            state,
            refresh_status="running",
            refresh_started_at=clock.now(),
            refresh_error=None,
            refresh_job_id=self._job_id(),
            refresh_progress={"phase": "companies", **self.counts},
        )
        if self.full:
            return None, None
        return _aware(state.companies_updated_since), _aware(state.agreements_updated_since)

    @staticmethod
    def _job_id() -> str | None:
        """The RQ job running this command, if any."""
        return current_job_id()

    def _read(self, kind: str, source, dao, since: dt.datetime | None) -> tuple[set[int], dt.datetime | None]:
        """Read one resource page by page; return (ids seen, newest lastUpdated seen)."""
        seen, newest = set(), None
        for batch in chunked(source(updated_since=since), PAGE):
            seen.update(record.id for record in batch)
            stamps = [r.last_updated for r in batch if r.last_updated]
            newest = max([newest, *stamps]) if newest else (max(stamps) if stamps else None)
            self._store(kind, dao, batch)
        return seen, newest

    @transaction
    def _store(self, kind: str, dao, batch: list) -> None:
        """Upsert one page and record progress (its own short transaction)."""
        inserted, updated = dao.upsert(self.partner_id, batch)
        self.counts[kind] += len(batch)
        self.counts["inserted"] += inserted
        self.counts["updated"] += updated
        progress = {"phase": kind, **self.counts}
        ReconciliationStateDAO.update(ReconciliationStateDAO.ensure(self.partner_id), refresh_progress=progress)
        self.progress_cb(progress)

    @transaction
    def _finish(self, companies: tuple, agreements: tuple) -> None:
        """Link agreements to companies, mark vanished rows (full read), record success."""
        PsaAgreementDAO.link_companies(self.partner_id)
        if self.full:
            self.counts["companies_gone"] = PsaCompanyDAO.mark_missing_deleted(self.partner_id, companies[0])
            self.counts["agreements_gone"] = PsaAgreementDAO.mark_missing_deleted(self.partner_id, agreements[0])
        state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
        ReconciliationStateDAO.update(
            state,
            last_refreshed_at=clock.now(),
            refresh_progress={"phase": "mapping", **self.counts},
            companies_updated_since=_watermark(companies[1], state.companies_updated_since),
            agreements_updated_since=_watermark(agreements[1], state.agreements_updated_since),
        )
        audit(
            self.actor,
            "directory.refresh",
            "partner",
            self.partner_id,
            partner_id=self.partner_id,
            **self.counts,
            full=self.full,
        )

    @transaction
    def _done(self) -> None:
        """Record success once the automatic mappings (exact names, subscriptions) are committed."""
        state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
        ReconciliationStateDAO.update(state, refresh_status="done", refresh_progress={"phase": "done", **self.counts})
        self.progress_cb({"phase": "done", **self.counts})

    @transaction
    def _fail(self, err: PsaError) -> None:
        """Record the failure on the state row and in the audit."""
        state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
        message = f"ConnectWise could not be read ({type(err).__name__}): {err}"[:1000]
        ReconciliationStateDAO.update(
            state, refresh_status="failed", refresh_error=message, refresh_progress={"phase": "failed", **self.counts}
        )
        audit(
            self.actor,
            "directory.refresh",
            "partner",
            self.partner_id,
            partner_id=self.partner_id,
            outcome="failed",
            error=message,
        )


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored timestamp as aware UTC (SQLite gives naive UTC values back)."""
    return moment.replace(tzinfo=dt.UTC) if moment and moment.tzinfo is None else moment


def _watermark(newest: dt.datetime | None, previous: dt.datetime | None) -> dt.datetime | None:
    """Where the next incremental read starts: a second before the newest change seen."""
    return newest - OVERLAP if newest else _aware(previous)
