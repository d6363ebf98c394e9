"""The billing push: eligible billing transactions into the partner's PSA agreements, exactly once.

One run per partner at a time, under a database lease with an expiry (renewed before each batch and while a
batch's calls are in flight; a crashed run's lease simply expires). A run, in order:

1. recovers rows left in ``sending`` (only a dead run can have left them: we hold the lease) — ``delivery``;
2. brings the outbox up to date with eligibility — ``outbox``;
3. moves the pushed rows a person chose to move to a new agreement — ``move``;
4. blocks the rows a pre-flight check says the PSA would refuse, releases those whose cause is gone — ``preflight``;
5. syncs the catalog for the products of the pending rows — ``catalog``;
6. pushes the pending rows (with an approved preview: only its transactions) in batches — ``delivery``;

then records the run (counts, calls, the touched customers' running totals), releases the lease and, for a
failed, partial, stopped or abandoned run, sends the alert. Counts and calls are on the run record as the run goes
(with each progress write and lease renewal), so a killed run's record keeps them. The database stays
single-threaded (this thread); the delivery threads only call the PSA.

**Slices** (fairness between partners): a push run by a job may be given ``slice_seconds``
(``PSA_PUSH_SLICE_SECONDS``) and ``short_slice_seconds`` (``PSA_PUSH_SHORT_SLICE_SECONDS``). Between two batches of
its delivery (step 6; every claimed row settled: nothing is left in ``sending``), once it has sent rows, when its
delivery has run ``short_slice_seconds`` (a continuation, or a run that knows more rows than its request limit lets
it send in its short slice: at once) and a fresh job waits in the sync queue, or has
run ``slice_seconds`` and another push's continuation waits, it queues its own continuation on ``sync-later``
(``push_billing(..., continues=<this run>)``; workers take it after every fresh job), ends ``yielded`` (no alert:
it ended well, its remaining rows are still ``pending``) and frees its lease. The continuation is a new run
(``continues_run_id``) that goes through every step again and delivers where the last one stopped: the pending
rows. While nobody waits (or the queue does not answer) the run goes on, asking again at each batch, as
background work (a lower CPU priority). The same rule applies between two full chunks of steps 2 and 4 (its time
counted from the run's start; only new outbox rows count as progress: see ``PushRun.check_steps``), and a
continuation whose partner's request window is spent waits for it before its steps, yielding to a fresh job
meanwhile (docs/billing.md, *Slices*).
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property

from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.alerts import notify_run_alert
from msphub_psa.commands.billing.catalog import CatalogRead, CatalogSync
from msphub_psa.commands.billing.delivery import Delivery
from msphub_psa.commands.billing.move import MovePushedRows
from msphub_psa.commands.billing.outbox import OutboxRefresh
from msphub_psa.commands.billing.preflight import PreflightPhase, release_catalog_blocks
from msphub_psa.commands.billing.rows import RunResult
from msphub_psa.commands.billing.run import CHUNK, LeaseLost, PsaUnavailable, PushRun, SliceEnded
from msphub_psa.commands.exceptions import IntegrationInactiveError, IntegrationStoppedError
from msphub_psa.commands.psa_client import partner_limiter, psa_for
from msphub_psa.commands.rules.lists import refresh_after_catalog
from msphub_psa.daos.base import session
from msphub_psa.daos.control import outbox_states
from msphub_psa.daos.directory import ReconciliationStateDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.outbox import CatalogSyncDAO, SyncLeaseDAO, SyncRunDAO
from msphub_psa.daos.revenue import RevenueTotalsDAO
from msphub_psa.domain.billing import OutboxState
from msphub_psa.jobqueue import SYNC, SYNC_LATER, QueueUnavailable, enqueue_push, jobs_waiting
from msphub_psa.psa import errors as psa
from msphub_psa.psa.port import PsaClient
from msphub_psa.ratelimit import PartnerRateLimiter, RateLimitTimeout
from msphub_psa.settings import settings

log = logging.getLogger(__name__)
FAILED, PUSHED, SKIPPED = OutboxState.FAILED.value, OutboxState.PUSHED.value, OutboxState.SKIPPED.value


class PushBillingCommand:
    """One billing push for a partner (the sync job's body; also ``flask psa sync run --inline``)."""

    def __init__(
        self,
        partner_id: int,
        requested_by: str = "system",
        job_id: str | None = None,
        after_item: Callable[[int], None] | None = None,
        client: PsaClient | None = None,
        only_transactions: set[int] | None = None,
        concurrency: int | None = None,
        catalog_seen: CatalogRead | None = None,
        slice_seconds: float = 0.0,
        continues: int | None = None,
        short_slice_seconds: float = 0.0,
    ):
        config = settings()  # read here: the delivery threads have no app context
        workers = max(1, int(concurrency or config.push_concurrency))
        self.requested_by, self.job_id = requested_by, job_id
        self.continues = int(continues) if continues else None
        """The yielded run this run continues (its slice ended; see the module's *Slices*)."""
        self.run_state = PushRun(
            partner_id=int(partner_id),
            token=uuid.uuid4().hex,
            lease_seconds=config.push_lease_seconds,
            max_tries=config.push_max_tries,
            max_backoff=config.push_max_backoff,
            concurrency=workers,
            batch_size=max(1, config.push_batch_size or workers),
            only_transactions=None if only_transactions is None else set(only_transactions),
            after_item=after_item or (lambda _item_id: None),
            psa=client,
            slice_seconds=max(0.0, float(slice_seconds or 0)),
            # a continuation has shown its push is long: it yields to a fresh job at its first batch boundary
            short_slice_seconds=0.0 if self.continues else max(0.0, float(short_slice_seconds or 0)),
            on_slice_end=self._queue_continuation,
            room=self._room,
            capacity=self._capacity,
        )
        self.delivery = Delivery(self.run_state)
        self.catalog_seen = catalog_seen
        """An approved preview's fresh catalog read: the catalog step does not read again what it answers."""
        self._taken_over: int | None = None
        """The run whose expired lease this one took over (marked abandoned at our start)."""
        self.phase_seconds: dict[str, float] = {}
        """Wall time of each step the run went through, in order (logged at its end)."""
        self._stepped = False
        """The run has gone past its wait for the request window into its steps (until then it has done nothing
        worth a row in the run history)."""

    @property
    def partner_id(self) -> int:
        """The partner pushed."""
        return self.run_state.partner_id

    @property
    def result(self) -> RunResult:
        """The run's record in memory."""
        return self.run_state.result

    @property
    def client(self) -> PsaClient | None:
        """The PSA client of the run (once started)."""
        return self.run_state.psa

    def run(self, wait: bool = False) -> RunResult:
        """Take the lease, push, record the run; ``busy`` when another run holds the lease.

        With ``wait`` (the job), wait up to one lease period for it: a killed run's lease expires.
        """
        run = self.run_state
        deadline = time.monotonic() + (run.lease_seconds + 2 if wait else 0)
        while not self._start():
            if time.monotonic() >= deadline:
                return self.result
            time.sleep(min(1.0, run.lease_seconds / 4))
        notify_run_alert(self._taken_over)
        run.pool = ThreadPoolExecutor(run.concurrency, thread_name_prefix=f"psa-push-{run.partner_id}")
        try:
            self._phases()
        except (IntegrationStoppedError, IntegrationInactiveError) as err:
            self._stop("stopped", err.message)
        except SliceEnded as err:
            self._yielded(str(err))
        except LeaseLost as err:
            self._stop("abandoned", str(err))
        except (PsaUnavailable, psa.PsaError, RateLimitTimeout) as err:
            self._stop("failed", str(err))
        finally:
            run.pool.shutdown(wait=True)
            self._finish()
        return self.result

    def _phases(self) -> None:
        """Recover, refresh the outbox, move, sync the catalog, push; the outcome in ``result.status``."""
        run = self.run_state
        run.began = time.monotonic()
        run.guard()
        run.psa = run.psa or self._client()
        if self.continues:
            with self._timed("wait"):
                run.await_room()
        self._stepped = True
        with self._timed("recover"):
            self.delivery.recover()
        with self._timed("outbox"):
            OutboxRefresh(run)()
        with self._timed("move"):
            MovePushedRows(run, self.delivery)()
        with self._timed("preflight"):
            PreflightPhase(run)()
        with self._timed("catalog"):
            catalog = self._sync_catalog()
        with self._timed("delivery"):
            self.delivery.push_pending(*catalog)
        self._count_ineligible()
        counts = self.result.counts
        self.result.status = "partial" if counts.get(FAILED) or counts.get("blocked") else "succeeded"

    @contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        """Time one step of the run (``phase_seconds``), whether it ends or raises."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.phase_seconds[phase] = time.monotonic() - started

    def catalog(self, dry_run: bool = False) -> CatalogSync:
        """The catalog step alone, on this push's client and exactly-once creates (``flask psa catalog sync``)."""
        self.run_state.psa = self.run_state.psa or self._client()
        return CatalogSync(self.partner_id, self.run_state.psa, self.delivery.create_once, dry_run=dry_run)

    def _queue_continuation(self, slice_over: bool) -> bool:
        """When a fresh job waits in the sync queue, or the slice is over and another push's continuation waits
        (the partner's own waiting push aside: it would deliver the same rows), queue this push's continuation on
        ``sync-later`` (True: the run yields); False when nobody waits or the queue does not answer (the run goes
        on). A continuation that starts before this run has freed its lease waits for it (``run(wait=True)``)."""
        try:
            mine = self.partner_id
            if not jobs_waiting(SYNC, mine) and not (slice_over and jobs_waiting(SYNC_LATER, mine)):
                return False
            enqueue_push(self.partner_id, self.requested_by, continues=self._continued_by_next)
        except QueueUnavailable:
            log.warning("push partner=%s run=%s: the queue does not answer; it goes on", self.partner_id, self.run_id)
            return False
        return True

    @property
    def _empty(self) -> bool:
        """A continuation that yields before its steps (it waited for its request window and a fresh job came):
        it did nothing, so it leaves no run in the history, and the next run continues the one it continued."""
        return self.continues is not None and not self._stepped

    @property
    def _continued_by_next(self) -> int | None:
        """The run the queued continuation continues: this one, or for an empty slice, the one it continued."""
        return self.continues if self._empty else self.result.run_id

    @cached_property
    def _limiter(self) -> PartnerRateLimiter | None:
        """The partner's shared request limit (None: no limit), read when a sliced run first asks."""
        limiter = partner_limiter(self.partner_id)
        session().rollback()
        return limiter

    def _room(self, amount: int) -> float:
        """Seconds until the partner's shared request limit has ``amount`` slots free (0 when it has, when the
        partner has no limit, or when Redis does not answer: the batch then waits inside, as without slices)."""
        return self._limiter.room(amount) if self._limiter is not None else 0.0

    def _capacity(self, seconds: float) -> float:
        """Requests the partner's shared request limit allows within ``seconds`` from an unspent window (inf: no
        limit)."""
        return self._limiter.capacity(seconds) if self._limiter is not None else math.inf

    @property
    def run_id(self) -> int | None:
        """The run record's id (once started)."""
        return self.result.run_id

    def _yielded(self, detail: str) -> None:
        """The run gave its worker back: its delivered rows are settled, the rest stay pending for the
        continuation queued behind the other jobs."""
        session().rollback()
        self.result.status = "yielded"
        self.result.error = (
            f"Yielded its worker to the other partners' pushes {detail}; the rows "
            "still pending are pushed by the next run, queued behind them."
        )
        log.info("push partner=%s run=%s yielded: %s", self.partner_id, self.run_id, detail)

    def _stop(self, status: str, message: str) -> None:
        """Record why the run ended early."""
        session().rollback()
        self.result.status, self.result.error = status, message
        log.info("push partner=%s run=%s %s: %s", self.partner_id, self.result.run_id, status, message)

    @transaction
    def _start(self) -> bool:
        """Acquire the lease and create the run record (one transaction)."""
        run = self.run_state
        SyncLeaseDAO.ensure(run.partner_id)
        taken, previous = SyncLeaseDAO.acquire(run.partner_id, run.token, run.lease_seconds)
        if not taken:
            self.result.status = "busy"
            return False
        if SyncRunDAO.abandon(previous):
            self._taken_over = previous
        record = SyncRunDAO.create(
            partner_id=run.partner_id,
            status="running",
            requested_by=self.requested_by,
            job_id=self.job_id,
            heartbeat_at=clock.now(),
            continues_run_id=self.continues,
        )
        SyncLeaseDAO.renew(run.partner_id, run.token, run.lease_seconds, run_id=record.id)
        self.result.run_id = record.id
        return True

    def _client(self) -> PsaClient:
        """The partner's PSA on the integration's credentials, throttled by the partner's shared rate limit."""
        client = psa_for(IntegrationDAO.for_partner(self.partner_id))
        session().rollback()
        return client

    def _sync_catalog(self) -> tuple[dict[int, int | None], dict[int, tuple[str, str]], dict]:
        """Catalog items of the pending rows' products; ({product: item id or None}, {refused product: reason},
        {product: the catalog check that blocks its charges}); rows blocked by a catalog check whose product is
        fine now are pending again."""
        run = self.run_state
        client, before, writes = run.psa, run.psa.call_count, self.result.writes
        run.catalog_base = (before, writes)  # the catalog's own creates are counted in catalog_calls
        sync = CatalogSync(
            self.partner_id,
            client,
            self.delivery.create_once,
            retry_refused=False,
            on_record=run.renew,
            seen=self.catalog_seen,
        )
        catalog = sync.ensure_pending()
        if sync.plan.new_lists:
            refresh_after_catalog(self.partner_id)
        self.result.catalog_calls, self.result.writes = client.call_count - before, writes
        run.catalog_base = None
        release_catalog_blocks(run, catalog, sync.blocks)
        refused = [pid for pid, remote_id in catalog.items() if remote_id is None and pid not in sync.blocks]
        return catalog, _refusals(self.partner_id, refused), sync.blocks

    @transaction
    def _count_ineligible(self) -> None:
        """Count an approved preview's transactions no longer eligible (no row, skipped, or pushed by an earlier
        run)."""
        only = self.run_state.only_transactions
        if only is None:
            return
        states = outbox_states(sorted(only))
        gone = [
            t
            for t in only
            if states.get(t, (SKIPPED, None))[0] == SKIPPED
            or (states[t][0] == PUSHED and states[t][1] != self.result.run_id)
        ]
        if gone:
            self.result.counts["ineligible"] = len(gone)

    def _finish(self) -> None:
        """Record the run's outcome and calls, refresh the revenue totals, release the lease, send the alert."""
        if self.result.run_id is None:
            return
        if self.result.status == "running":  # an unexpected error is on its way up
            self.result.status, self.result.error = "failed", "The run stopped on an unexpected error (worker log)."
        log.info(
            "push partner=%s run=%s %s; steps: %s",
            self.partner_id,
            self.run_id,
            self.result.status,
            ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in self.phase_seconds.items()),
        )
        figures = self.run_state.figures()
        r = self.result
        r.psa_calls, r.writes, r.lookups, r.catalog_calls = (
            figures[name] for name in ("psa_calls", "writes", "lookups", "catalog_calls")
        )
        if r.status == "yielded" and self._empty:
            self._drop_run()
            return
        try:
            self._record_run()
        finally:
            self._release()
        notify_run_alert(self.result.run_id)

    @transaction
    def _drop_run(self) -> None:
        """An empty slice: delete its run record and free the lease, which names the run it continued again (one
        transaction). The job's result says which run the push continues."""
        SyncRunDAO.delete(self.run_id)
        SyncLeaseDAO.release(self.partner_id, self.run_state.token, run_id=self.continues)
        self.result.run_id = None
        self.result.error = f"{self.result.error} No run was recorded: the push still continues run {self.continues}."

    @transaction
    def _record_run(self) -> None:
        """Write the run record and the touched customers' running totals."""
        record, r = SyncRunDAO.get(self.result.run_id), self.result
        record.status, record.finished_at, record.error = r.status, clock.now(), r.error
        self.run_state.publish_progress(final=True)  # the counts and calls, as every progress write
        touched = sorted(self.run_state.touched_customers)
        state = ReconciliationStateDAO.for_partner(self.partner_id) if touched else None
        for start in range(0, len(touched) if state is not None else 0, CHUNK):
            RevenueTotalsDAO.recompute_customers(state, touched[start : start + CHUNK])

    @transaction
    def _release(self) -> None:
        """Free the lease."""
        SyncLeaseDAO.release(self.partner_id, self.run_state.token)


@transaction
def _refusals(partner_id: int, product_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(code, message) of the PSA's refusal per refused product (plain values, read once per run)."""
    rows = CatalogSyncDAO.for_products(partner_id, product_ids)
    return {pid: (row.error_code or "ProductNotInCatalog", row.error_message or "") for pid, row in rows.items()}
