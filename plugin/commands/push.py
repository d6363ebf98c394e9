"""The billing push: eligible billing transactions into ConnectWise agreements, exactly once.

One run per partner at a time, under a database lease with an expiry (renewed before each
batch and while a batch's calls are in flight; a crashed run's lease simply expires). A run:

1. recovers rows left in ``sending`` (only a dead run can have left them: we hold the lease) by
   reading ConnectWise for our reference: adopt what is there, create only what is not;
2. brings the outbox up to date in chunks (new eligible transactions → ``pending``; pending rows that
   are no longer eligible → ``skipped``; skipped ones eligible again → ``pending``; pending rows
   follow a re-mapped subscription to its new agreement);
3. moves the pushed rows a person chose to move to a new agreement (``moving``, or ``removing``
   left by a dead run): marks ``removing`` and commits, reads ours on the old agreement, deletes
   it only when it carries our reference, then ``pending`` for the new agreement (step 5 creates it);
4. syncs the catalog for the products of the pending rows;
5. pushes the pending rows (with an approved preview: only its transactions) in batches of
   ``PSA_PUSH_BATCH_SIZE`` (default: the concurrency): the integration guard and the lease once per batch; one transaction re-checks the batch's eligibility
   and marks its rows ``sending`` (**commit**); the creates run concurrently on
   ``PSA_PUSH_CONCURRENCY`` threads (no database there); one transaction records each row's outcome
   (``_settle``: ``pushed`` + the id, ``failed`` with ConnectWise's reason; **commit**).

The database stays single-threaded (the main thread); the threads only call ConnectWise. Transient
errors retry with backoff per row (bounded); a POST whose outcome is unknown is looked up by reference
before anything is created again; permanent errors fail that row with ConnectWise's code and message
and the run goes on. A run-stopping error in any thread halts the batch's other threads before their
next call: rows not sent go back to ``pending``, rows whose outcome is unknown stay ``sending`` for
the next run's recovery. No transaction is open across an HTTP call.
"""
from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any, Callable


from msphub_psa.settings import settings
from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.catalog import CatalogSync, _message
from msphub_psa.commands.connectwise import client_for
from msphub_psa.commands.exceptions import IntegrationInactiveError, IntegrationStoppedError
from msphub_psa.commands.run_progress import RunProgress
from msphub_psa.connectwise import CWError, NewAddition, NewAdjustment
from msphub_psa.connectwise.client import ConnectWiseClient, is_retryable
from msphub_psa.connectwise.errors import CWAuthError, CWForbidden, CWNotFound, CWRateLimited, CWTLSError, CWURLRefused
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.outbox import (
    FAILED, MOVING, PENDING, PUSHED, REMOVING, SENDING, SKIPPED, CatalogSyncDAO, OutboxDAO, PushDataDAO, SyncLeaseDAO,
    SyncRunDAO,
)
from msphub_psa.domain import billing
from msphub_psa.domain.billing import OutboxEvent as Ev
from msphub_psa.domain.errors import PayloadError

from msphub_psa.ratelimit import RateLimitTimeout

log = logging.getLogger(__name__)
RUN_STOPPERS = (CWAuthError, CWForbidden, CWURLRefused, CWTLSError)
"""Errors that concern every row (credentials, role, address): the run stops, rows stay pending."""
CHUNK = 1000
"""Rows read per query when streaming the outbox (refresh, recovery, pending ids)."""


class LeaseLost(RuntimeError):
    """Our lease expired and someone else may hold it: stop before the next row."""


class ConnectWiseUnavailable(RuntimeError):
    """Transient errors outlasted the retries: stop the run, rows stay pending for the next."""


class _Halted(RuntimeError):
    """Another row of the batch met a run-stopping error: make no further call for this one."""


@dataclass
class Outcome:
    """What delivering one row came to.

    ``state``: ``pushed`` (with ``remote_id``), ``failed`` (ConnectWise's code and message), ``pending``
    (not sent: the run stopped first) or ``sending`` (outcome unknown: left for recovery).
    ``stop``: the run-stopping error met while delivering this row, if any.
    """

    state: str
    remote_id: int | None = None
    code: str | None = None
    message: str | None = None
    stop: BaseException | None = None


@dataclass
class _Track:
    """One row's delivery: True while an earlier call's outcome is unknown (look up before creating)."""

    uncertain: bool


@dataclass
class RunResult:
    """The run's record in memory."""

    run_id: int | None
    status: str
    counts: Counter = field(default_factory=Counter)
    psa_calls: int = 0
    writes: int = 0
    lookups: int = 0
    catalog_calls: int = 0
    error: str | None = None

    def as_dict(self) -> dict:
        """JSON form (the job's result)."""
        return {"run_id": self.run_id, "status": self.status, "counts": dict(self.counts),
                "psa_calls": self.psa_calls, "writes": self.writes, "lookups": self.lookups,
                "catalog_calls": self.catalog_calls, "error": self.error}


def _transition(item, event: Ev, by_run: int | None, detail: str | None = None, /, **values) -> None:
    """Move a row through the domain's state machine and record it."""
    new = billing.transition(item.state, event)
    OutboxDAO.set_state(item, new.value, event.value, by_run=by_run, detail=detail, **values)


class PushBillingCommand:
    """One billing push for a partner (the sync job's body; also ``flask psa sync run --inline``)."""

    def __init__(self, partner_id: int, requested_by: str = "system", job_id: str | None = None,
                 after_item: Callable[[int], None] | None = None, client: ConnectWiseClient | None = None,
                 only_transactions: set[int] | None = None, concurrency: int | None = None):
        self.partner_id, self.requested_by, self.job_id = int(partner_id), requested_by, job_id
        # Sync control (issue 9): push only these transactions (an approved preview); other rows stay pending
        self.only_transactions = None if only_transactions is None else set(only_transactions)
        self.after_item = after_item or (lambda _item_id: None)
        self.client = client
        self.token = uuid.uuid4().hex
        config = settings()  # read here: the threads have no app context
        self.lease_seconds = config.push_lease_seconds
        self.max_tries = config.push_max_tries
        self.max_backoff = config.push_max_backoff
        self.concurrency = max(1, int(concurrency or config.push_concurrency))
        self.batch_size = max(1, config.push_batch_size or self.concurrency)
        self.result = RunResult(None, "running")
        self.rng = random.Random()
        self.touched_customers: set[int] = set()
        self.progress = RunProgress()
        self._halt = threading.Event()
        self._counting = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    # -- the run -------------------------------------------------------------------------------

    def run(self, wait: bool = False) -> RunResult:
        """Take the lease, push, record the run; ``busy`` when another run holds the lease.

        With ``wait`` (the job), wait up to one lease period for it: a killed run's lease expires.
        """
        deadline = time.monotonic() + (self.lease_seconds + 2 if wait else 0)
        while not self._start():
            if time.monotonic() >= deadline:
                return self.result
            time.sleep(min(1.0, self.lease_seconds / 4))
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"psa-push-{self.partner_id}")
        try:
            self._guard()
            self.client = self.client or self._client()
            self._recover()
            self._refresh_outbox()
            self._move_pushed_rows()
            self._push_pending()
            self._count_ineligible()  # sync control (issue 9): approved transactions that were not pushable
            self.result.status = "partial" if self.result.counts.get(FAILED) or self.result.counts.get("blocked") \
                else "succeeded"
        except IntegrationStoppedError as err:
            self._stop("stopped", err.message)
        except IntegrationInactiveError as err:
            self._stop("stopped", err.message)
        except LeaseLost as err:
            self._stop("abandoned", str(err))
        except (ConnectWiseUnavailable, CWError, RateLimitTimeout) as err:
            self._stop("failed", str(err))
        finally:
            self._pool.shutdown(wait=True)
            self._finish()
        return self.result

    def _stop(self, status: str, message: str) -> None:
        """Record why the run ended early."""
        session().rollback()
        self.result.status, self.result.error = status, message
        log.info("push partner=%s run=%s %s: %s", self.partner_id, self.result.run_id, status, message)

    @transaction
    def _start(self) -> bool:
        """Acquire the lease and create the run record (one transaction)."""
        SyncLeaseDAO.ensure(self.partner_id)
        taken, previous = SyncLeaseDAO.acquire(self.partner_id, self.token, self.lease_seconds)
        if not taken:
            self.result.status = "busy"
            return False
        SyncRunDAO.abandon(previous)
        run = SyncRunDAO.create(partner_id=self.partner_id, status="running", requested_by=self.requested_by,
                                job_id=self.job_id, heartbeat_at=clock.now())
        SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds, run_id=run.id)
        self.result.run_id = run.id
        return True

    @transaction
    def _guard(self) -> None:
        """The feature is on and the integration active (re-read in its own transaction).

        :raises IntegrationStoppedError:
        """
        from msphub_psa.jobs import connectwise_guard

        connectwise_guard(self.partner_id)()

    def _client(self) -> ConnectWiseClient:
        """A client on the integration's credentials, throttled by the partner's shared rate limit
        (``client_for`` adds ``partner_limiter`` to every client of the partner: push, refreshes, validation)."""
        integration = IntegrationDAO.for_partner(self.partner_id)
        client = client_for(integration)
        session().rollback()
        return client

    @transaction
    def _heartbeat(self) -> None:
        """Renew the lease (before a recovery batch, and while a batch's calls outlast a third of the lease).

        :raises LeaseLost: when it is no longer ours.
        """
        if not SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds):
            raise LeaseLost("The push lease expired; another run may have taken over.")

    def _finish(self) -> None:
        """Record the run's outcome and calls, refresh the revenue totals, release the lease."""
        if self.result.run_id is None:
            return
        if self.result.status == "running":  # an unexpected error is on its way up
            self.result.status, self.result.error = "failed", "The run stopped on an unexpected error (worker log)."
        if self.client is not None:
            self.result.psa_calls = self.client.call_count
        try:
            self._record_run()
        finally:
            self._release()
        from msphub_psa.commands.alerts import notify_run_alert  # issue 9: once per failed/partial/stopped run

        notify_run_alert(self.result.run_id)

    @transaction
    def _record_run(self) -> None:
        """Write the run record and the touched customers' running totals."""
        run = SyncRunDAO.get(self.result.run_id)
        r = self.result
        run.status, run.finished_at, run.counts, run.error = r.status, clock.now(), dict(r.counts), r.error
        run.psa_calls, run.writes, run.lookups, run.catalog_calls = r.psa_calls, r.writes, r.lookups, r.catalog_calls
        self._progress(final=True)
        if self.touched_customers:
            from msphub_psa.daos.directory import ReconciliationStateDAO
            from msphub_psa.daos.revenue import RevenueTotalsDAO

            state = ReconciliationStateDAO.for_partner(self.partner_id)
            touched = sorted(self.touched_customers)
            for start in range(0, len(touched) if state is not None else 0, CHUNK):
                RevenueTotalsDAO.recompute_customers(state, touched[start:start + CHUNK])

    @transaction
    def _release(self) -> None:
        """Free the lease."""
        SyncLeaseDAO.release(self.partner_id, self.token)

    # -- outbox refresh ------------------------------------------------------------------------

    def _refresh_outbox(self) -> None:
        """New eligible transactions → pending; pending/skipped rows follow eligibility and mapping.

        In chunks of ``CHUNK`` rows, one short transaction and a few queries each (never a query per row).
        """
        after = 0
        while (after := self._add_new_rows(after)) is not None:
            pass
        after = 0
        while (after := self._follow_chunk(after)) is not None:
            pass

    @transaction
    def _add_new_rows(self, after: int) -> int | None:
        """Pending rows (and their ``created`` transitions) for a chunk of new eligible transactions;
        the last transaction id seen, or None when there were none."""
        new = OutboxDAO.eligible_new(self.partner_id, after, CHUNK)
        if not new:
            return None
        OutboxDAO.add_pending([_new_row(self.partner_id, t, self.result.run_id) for t in new])
        OutboxDAO.record_created(OutboxDAO.created_rows([t.transaction_id for t in new]), self.result.run_id)
        return new[-1].transaction_id

    @transaction
    def _follow_chunk(self, after: int) -> int | None:
        """A chunk of pending/skipped rows against the current eligibility; the last row id, or None at the end."""
        rows = OutboxDAO.follow_page(self.partner_id, (PENDING, SKIPPED), after, CHUNK)
        if not rows:
            return None
        targets = OutboxDAO.targets(self.partner_id, [r.transaction_id for r in rows])
        moving = {r.id for r in rows if _follow_needed(r, targets.get(r.transaction_id))}
        for item in OutboxDAO.get_many(sorted(moving)):
            self._follow(item, targets.get(item.transaction_id))
        session().flush()
        return rows[-1].id

    def _follow(self, item, target) -> None:
        """One pending or skipped row against the current eligibility."""
        run_id = self.result.run_id
        if target is None:
            if item.state == PENDING:
                _transition(item, Ev.BECAME_INELIGIBLE, run_id, "no longer eligible (unmapped or before the From Date)",
                            reason="not eligible", flush=False)
            return
        if item.state == SKIPPED:
            _transition(item, Ev.BECAME_ELIGIBLE, run_id, f"eligible for agreement {target.agreement_remote_id}",
                        reason=None, agreement_remote_id=target.agreement_remote_id, flush=False)
        elif item.agreement_remote_id != target.agreement_remote_id:
            OutboxDAO.set_state(item, PENDING, "retarget", by_run=run_id,
                                detail=f"agreement {item.agreement_remote_id} → {target.agreement_remote_id}",
                                agreement_remote_id=target.agreement_remote_id, flush=False)

    # -- recovery of rows left in sending --------------------------------------------------------

    def _recover(self) -> None:
        """Settle every row left in ``sending`` by a dead run, in batches: look up, adopt or create."""
        for item_ids in self._batches(SENDING):
            self._guard()
            self._heartbeat()
            snapshots = [snap for snap in _snapshots(item_ids) if snap["state"] == SENDING]
            self.result.counts["recovered"] += len(snapshots)
            self._run_batch(snapshots, uncertain=True)

    # -- moving pushed rows to a subscription's new agreement --------------------------------------

    def _move_pushed_rows(self) -> None:
        """Rows a person asked to move (``moving``) and rows a dead run left in ``removing``: remove ours from the
        old agreement, then ``pending`` for the new one (``_push_pending`` creates it there: exactly once).

        Per row: marked ``removing`` and committed before any call; our record read first (by id, else by
        reference) and deleted only when it carries our reference; a record already gone counts as removed.
        A refused delete fails the row, the record staying on the old agreement with its id.
        """
        for item_id in _ids(self.partner_id, REMOVING) + _ids(self.partner_id, MOVING):
            self._guard()
            self._heartbeat()
            snap = self._begin_removal(item_id)
            if snap is not None:
                self._end_removal(snap, self._remove(snap))

    @transaction
    def _begin_removal(self, item_id: int) -> dict | None:
        """Mark a ``moving`` row ``removing`` (committed before the calls); cancel a move no longer wanted.

        Wanted = the transaction is still eligible and its mapping's agreement is another one than the
        record's. Returns plain values for the calls, or None when there is nothing to call.
        """
        item = OutboxDAO.get(item_id, lock=True)
        if item is None or item.state not in (MOVING, REMOVING):
            return None
        target = OutboxDAO.eligible(self.partner_id, [item.transaction_id]).get(item.transaction_id)
        target_cw = target.agreement_remote_id if target is not None else None
        wanted = target_cw is not None and target_cw != item.agreement_remote_id
        if item.state == REMOVING:
            self.result.counts["recovered"] += 1
        elif not wanted:
            _transition(item, Ev.MOVE_CANCELLED, self.result.run_id,
                        f"move cancelled: {'no longer eligible' if target is None else 'mapped to this agreement again'}"
                        f"; stays on agreement {item.agreement_remote_id}")
            self.result.counts["move_cancelled"] += 1
            self.touched_customers.add(item.customer_id)
            return None
        else:
            _transition(item, Ev.REMOVE_ATTEMPT, self.result.run_id,
                        f"removing {item.record_kind} {item.remote_record_id} from agreement {item.agreement_remote_id}",
                        sending_since=clock.now(), run_id=self.result.run_id)
        return {"item_id": item.id, "transaction_id": item.transaction_id, "kind": item.record_kind,
                "agreement": item.agreement_remote_id, "record_id": item.remote_record_id, "reference": item.reference,
                "target": target_cw, "wanted": wanted}

    def _remove(self, snap: dict) -> Outcome:
        """Read ours on the old agreement and delete it: PENDING once gone, PUSHED when kept (move no longer
        wanted), FAILED when ConnectWise refuses or the record no longer carries our reference.

        :raises ConnectWiseUnavailable: transient errors outlasted the client's retries (the row stays
            ``removing``: the next run reads first again).
        """
        try:
            record_id = self._find_ours(snap)
            if record_id is None:
                return Outcome(PENDING)
            if not snap["wanted"]:
                return Outcome(PUSHED, remote_id=record_id)
            self.result.writes += 1
            if snap["kind"] == "addition":
                self.client.delete_addition(snap["agreement"], record_id)
            else:
                self.client.delete_adjustment(snap["agreement"], record_id)
            return Outcome(PENDING, remote_id=record_id)
        except (_Conflict, _NotOurs) as err:
            return Outcome(FAILED, code=err.code, message=str(err))
        except CWNotFound:
            return Outcome(PENDING)  # gone meanwhile: a repeated DELETE whose first try landed, or a deleted agreement
        except CWForbidden as err:  # a role may create additions but not delete them: fail this row, not every run
            return Outcome(FAILED, code=err.code or "Forbidden", message=(
                f"{_message(err)} — the API member's security role may not read or delete agreement "
                f"{snap['kind']}s; grant it in ConnectWise, then Retry failed."))
        except RUN_STOPPERS:
            raise
        except CWError as err:
            if err.outcome_unknown or is_retryable(err):
                raise ConnectWiseUnavailable(f"ConnectWise kept failing while removing {snap['reference']}: {err}; "
                                             "the next run reads it first.") from err
            return Outcome(FAILED, code=err.code or type(err).__name__, message=_message(err))

    def _find_ours(self, snap: dict) -> int | None:
        """Our record's id on the old agreement: read by id (one call), by reference when that id is gone; None: gone.

        :raises _NotOurs: the record at our id no longer carries our reference (never deleted).
        :raises _Conflict: several records carry our reference (none is deleted).
        """
        if snap["record_id"] is not None:
            self.result.lookups += 1
            try:
                if snap["kind"] == "addition":
                    found = self.client.get_addition(snap["agreement"], snap["record_id"])
                    text = found.serial_number
                else:
                    found = self.client.get_adjustment(snap["agreement"], snap["record_id"])
                    text = found.description
            except CWNotFound:
                found = None
            if found is not None:
                if billing.parse_reference(text) != snap["transaction_id"]:
                    raise _NotOurs(f"ConnectWise {snap['kind']} {found.id} on agreement {snap['agreement']} no longer "
                                   f"carries {snap['reference']} ({text!r}), so it was not removed. Remove it in "
                                   "ConnectWise or put the reference back, then Retry failed.")
                return found.id
        record = self._lookup(snap)
        return record.id if record is not None else None

    @transaction
    def _end_removal(self, snap: dict, outcome: Outcome) -> None:
        """Record the removal's outcome (committed right after the calls)."""
        item = OutboxDAO.get(snap["item_id"], lock=True)
        run_id, old = self.result.run_id, snap["agreement"]
        if outcome.state == PENDING:
            target = snap["target"] or item.agreement_remote_id
            done = f"ours ({outcome.remote_id}) removed" if outcome.remote_id else "ours already gone"
            _transition(item, Ev.REMOVED, run_id, f"{done} from agreement {old}; to push to agreement {target}",
                        agreement_remote_id=target, remote_record_id=None, pushed_at=None, sending_since=None, reason=None,
                        last_error_code=None, last_error_message=None)
            self.result.counts["removed"] += 1
        elif outcome.state == PUSHED:
            _transition(item, Ev.MOVE_CANCELLED, run_id, f"move no longer wanted; ours ({outcome.remote_id}) stays on "
                        f"agreement {old}", remote_record_id=outcome.remote_id, sending_since=None)
            self.result.counts["move_cancelled"] += 1
            self.touched_customers.add(item.customer_id)
        else:
            _transition(item, Ev.REMOVE_REFUSED, run_id, f"{outcome.code}: {outcome.message}", sending_since=None,
                        last_error_code=(outcome.code or "")[:100], last_error_message=outcome.message)
            self.result.counts[FAILED] += 1

    # -- pushing ---------------------------------------------------------------------------------

    def _push_pending(self) -> None:
        """Catalog sync for the pending rows' products, then the pending rows in batches.

        Per batch: the integration guard; the claim (lease renewed in the same transaction); the creates
        concurrently; the settle (one transaction); then ``after_item`` for each of the batch's row ids.
        """
        catalog, refusals = self._sync_catalog()
        pending = _ids(self.partner_id, PENDING, self.only_transactions) if self.only_transactions is not None else None
        self._progress(total=len(pending) if pending is not None else _count(self.partner_id, PENDING))
        batches = self._batches(PENDING) if pending is None else (
            pending[start:start + self.batch_size] for start in range(0, len(pending), self.batch_size))
        for item_ids in batches:
            self._guard()
            self._run_batch(self._claim(item_ids, catalog, refusals), uncertain=False)
            for item_id in item_ids:
                self.after_item(item_id)

    def _sync_catalog(self) -> tuple[dict[int, int | None], dict[int, tuple[str, str]]]:
        """Catalog items of the pending rows' products; ({product: item id or None}, {refused product: reason})."""
        before, writes = self.client.call_count, self.result.writes
        catalog = CatalogSync(self.partner_id, self.client, self._create_once, retry_refused=False).ensure_pending()
        self.result.catalog_calls = self.client.call_count - before
        self.result.writes = writes  # the catalog's own creates are counted in catalog_calls
        return catalog, _refusals(self.partner_id, [pid for pid, remote_id in catalog.items() if remote_id is None])

    def _batches(self, state: str):
        """The ids of the partner's rows in ``state``, read ``CHUNK`` at a time, yielded ``batch_size`` at a time."""
        after = 0
        while ids := _ids_after(self.partner_id, state, after, CHUNK):
            for start in range(0, len(ids), self.batch_size):
                yield ids[start:start + self.batch_size]
            after = ids[-1]

    @transaction
    def _claim(self, item_ids: list[int], catalog: dict[int, int | None],
               refusals: dict[int, tuple[str, str]]) -> list[dict]:
        """Renew the lease, re-check a batch and mark its rows ``sending`` (committed before the calls);
        their snapshots. One query each for the rows, their eligibility and their transactions.

        :raises LeaseLost: when the lease is no longer ours (nothing claimed).
        """
        if not SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds):
            raise LeaseLost("The push lease expired; another run may have taken over.")
        rows = [item for item in OutboxDAO.get_many(item_ids, lock=True) if item.state == PENDING]
        tx_ids = [item.transaction_id for item in rows]
        targets = OutboxDAO.targets(self.partner_id, tx_ids)
        data = PushDataDAO.transactions(tx_ids)
        snapshots = [self._claim_row(item, targets.get(item.transaction_id), *data[item.transaction_id], catalog,
                                     refusals) for item in rows]
        session().flush()
        return [snap for snap in snapshots if snap is not None]

    def _claim_row(self, item, target, tx, product, catalog: dict[int, int | None],
                   refusals: dict[int, tuple[str, str]]) -> dict | None:
        """One row of the claim: skipped when no longer eligible, kept pending while its product is refused,
        else ``sending``; its snapshot, or None."""
        if target is None:
            _transition(item, Ev.BECAME_INELIGIBLE, self.result.run_id,
                        "no longer eligible before its push (unmapped, disassociated or before the From Date)",
                        reason="not eligible", flush=False)
            self.result.counts[SKIPPED] += 1
            return None
        catalog_id = catalog.get(product.id)
        if catalog_id is None and item.record_kind == "addition":
            return self._block(item, product, refusals.get(product.id))
        _transition(item, Ev.ATTEMPT, self.result.run_id, agreement_remote_id=target.agreement_remote_id,
                    attempts=item.attempts + 1, sending_since=clock.now(), run_id=self.result.run_id, reason=None,
                    flush=False)
        return _payload_snapshot(item, tx, product, catalog_id)

    def _block(self, item, product, refusal: tuple[str, str] | None) -> None:
        """Keep a row pending while its product is refused by ConnectWise (the reason says so)."""
        item.reason = "product refused"
        item.last_error_code = refusal[0] if refusal else "ProductNotInCatalog"
        item.last_error_message = (f"Product {product.product_id} was refused by ConnectWise's catalog: "
                                   f"{refusal[1] if refusal else 'not synced'}")
        self.result.counts["blocked"] += 1
        return None

    # -- sync control (issue 9): what an approved preview could not push ---------------------------

    @transaction
    def _count_ineligible(self) -> None:
        """Count chosen transactions no longer eligible (no row, skipped, or pushed by an earlier run)."""
        if self.only_transactions is None:
            return
        from msphub_psa.daos.control import outbox_states

        states = outbox_states(sorted(self.only_transactions))
        gone = [t for t in self.only_transactions if states.get(t, (SKIPPED, None))[0] == SKIPPED
                or (states[t][0] == PUSHED and states[t][1] != self.result.run_id)]
        if gone:
            self.result.counts["ineligible"] = len(gone)

    # -- a batch: concurrent calls, one settle ----------------------------------------------------

    def _run_batch(self, snapshots: list[dict], uncertain: bool) -> None:
        """Deliver a claimed batch concurrently and record every outcome in one transaction.

        :raises: the first run-stopping error a row met (after the batch is settled), or ``LeaseLost``.
        """
        if not snapshots:
            return
        outcomes, lost = self._send(snapshots, uncertain)
        self._settle_all(snapshots, outcomes)
        stop = lost or next((o.stop for o in outcomes if o.stop is not None), None)
        if stop is not None:
            raise stop

    def _send(self, snapshots: list[dict], uncertain: bool) -> tuple[list[Outcome], LeaseLost | None]:
        """Each row's delivery on the pool; the lease is renewed (from this thread) while they run."""
        self._halt.clear()
        futures = [self._pool.submit(contextvars.copy_context().run, self._deliver, snap, uncertain)
                   for snap in snapshots]
        running, lost = set(futures), None
        while running:
            _done, running = wait_futures(running, timeout=max(self.lease_seconds / 3, 0.5))
            if running and lost is None:
                try:
                    self._heartbeat()
                except LeaseLost as err:
                    lost = err
                    self._halt.set()
        return [_outcome_of(future) for future in futures], lost

    @transaction
    def _settle_all(self, snapshots: list[dict], outcomes: list[Outcome]) -> None:
        """Record a batch's outcomes (one transaction, committed right after the calls)."""
        rows = {item.id: item for item in OutboxDAO.get_many([snap["item_id"] for snap in snapshots], lock=True)}
        for snap, outcome in zip(snapshots, outcomes):
            item = rows.get(snap["item_id"])
            if item is not None and item.state == SENDING:
                self._settle(item, outcome)
        session().flush()
        self._progress()  # done / failures so far, in this batch's transaction (throttled)

    def _settle(self, item, outcome: Outcome) -> None:
        """Record one row's outcome: the one place where a row's outcome is recorded (inside ``_settle_all``)."""
        run_id = self.result.run_id
        if outcome.state == PUSHED:
            _transition(item, Ev.SUCCEEDED, run_id, f"ConnectWise id {outcome.remote_id}", remote_record_id=outcome.remote_id,
                        pushed_at=clock.now(), sending_since=None, last_error_code=None, last_error_message=None,
                        flush=False)
            self.touched_customers.add(item.customer_id)
        elif outcome.state == FAILED:
            _transition(item, Ev.PERMANENT_ERROR, run_id, f"{outcome.code}: {outcome.message}",
                        sending_since=None, last_error_code=(outcome.code or "")[:100],
                        last_error_message=outcome.message, flush=False)
        elif outcome.state == PENDING:
            _transition(item, Ev.TRANSIENT_ERROR, run_id, f"not sent: the run stopped ({outcome.message})",
                        sending_since=None, flush=False)
            return
        else:
            return  # outcome unknown: stays ``sending``; the next run's recovery looks it up before any create
        self.result.counts[outcome.state] += 1

    # -- delivering one row (in a pool thread: no database, no app context) ------------------------

    def _deliver(self, snap: dict, uncertain: bool) -> Outcome:
        """Create the row's record once: look up first when the outcome of an earlier call is unknown."""
        if snap.get("payload_error"):
            return Outcome(FAILED, code="PayloadError", message=snap["payload_error"])
        track = _Track(uncertain)
        try:
            record = self._create_tracked(lambda: self._create(snap), lambda: self._lookup(snap), track)
        except _Conflict as err:
            return Outcome(FAILED, code="DuplicateInConnectWise", message=str(err))
        except _Halted as err:
            return Outcome(SENDING if track.uncertain else PENDING, message=str(err))
        except (*RUN_STOPPERS, ConnectWiseUnavailable, RateLimitTimeout) as err:
            self._halt.set()
            return Outcome(SENDING if track.uncertain else PENDING, message=str(err), stop=err)
        except CWError as err:
            return Outcome(FAILED, code=err.code or type(err).__name__, message=_message(err))
        return Outcome(PUSHED, remote_id=record.id)

    def _create_once(self, create: Callable[[], Any], find: Callable[[], Any], uncertain: bool = False) -> Any:
        """Create a record exactly once: bounded retries with backoff; look up whenever an outcome is unknown.

        :raises CWError: a permanent error (validation, not found...), as ConnectWise gave it.
        :raises ConnectWiseUnavailable: transient errors outlasted the retries.
        """
        return self._create_tracked(create, find, _Track(uncertain))

    def _create_tracked(self, create: Callable[[], Any], find: Callable[[], Any], track: _Track) -> Any:
        """``_create_once`` keeping ``track.uncertain`` up to date (what a stopped row's state must be).

        :raises _Halted: another row of the batch stopped the run before this row's next call.
        """
        for attempt in range(1, self.max_tries + 1):
            if self._halt.is_set():
                raise _Halted("another row of the batch stopped the run")
            try:
                if track.uncertain:
                    found = find()
                    if found is not None:
                        return found
                    track.uncertain = False
                self._count("writes")
                return create()
            except CWError as err:
                if isinstance(err, RUN_STOPPERS) or not (err.outcome_unknown or is_retryable(err)):
                    raise
                track.uncertain = track.uncertain or err.outcome_unknown
                self._backoff(err, attempt)
        raise ConnectWiseUnavailable(f"ConnectWise kept failing after {self.max_tries} tries; "
                                     "the remaining rows wait for the next run.")

    def _count(self, name: str) -> None:
        """Add one to a run counter (``writes``, ``lookups``) from any thread."""
        with self._counting:
            setattr(self.result, name, getattr(self.result, name) + 1)

    def _backoff(self, err: CWError, attempt: int) -> None:
        """Wait before the next try: Retry-After for a 429, else jittered exponential backoff (a halt cuts it short)."""
        delay = err.retry_after if isinstance(err, CWRateLimited) and err.retry_after is not None else None
        if delay is None:
            delay = self.client.retry.backoff(attempt, self.rng)
        self._halt.wait(min(delay, self.max_backoff))

    def _create(self, snap: dict) -> Any:
        """POST the addition or adjustment."""
        if snap["kind"] == "addition":
            return self.client.create_addition(snap["agreement"], snap["payload"])
        return self.client.create_adjustment(snap["agreement"], snap["payload"])

    def _lookup(self, snap: dict) -> Any:
        """Read the agreement's records carrying our reference (one call); adopt one, refuse several."""
        self._count("lookups")
        if snap["kind"] == "addition":
            found = self.client.find_additions_by_reference(snap["agreement"], snap["reference"])
            records = [(r.id, r.serial_number) for r in found]
        else:
            found = self.client.find_adjustments_by_reference(snap["agreement"], snap["reference"])
            records = [(r.id, r.description) for r in found]
        decision = billing.recovery_decision(snap["transaction_id"], records)
        if decision.action == billing.RecoveryAction.CONFLICT:
            raise _Conflict(f"Several ConnectWise records carry {snap['reference']}: ids "
                            f"{', '.join(map(str, decision.cw_ids))}; none was changed. Remove the extra ones "
                            "in ConnectWise, then retry.")
        return next((r for r in found if r.id == decision.remote_id), None)

    def _progress(self, total: int | None = None, final: bool = False) -> None:
        """Publish done / total / failures so far on the run row and in the job's meta (throttled).

        Call it after a row's outcome is counted in ``self.result.counts`` (it joins the caller's
        transaction), once with ``total`` = the rows about to be pushed, and with ``final`` at the end.
        """
        self.progress.publish(self.result.run_id, self.result.counts, total, final)


class _Conflict(Exception):
    """Several ConnectWise records carry one reference (a person must resolve it)."""

    code = "DuplicateInConnectWise"


class _NotOurs(Exception):
    """The record at our ConnectWise id no longer carries our reference: it is never deleted."""

    code = "ReferenceMissing"


def _new_row(partner_id: int, target, run_id: int | None) -> dict:
    """A new pending outbox row for an eligible transaction."""
    now = clock.now()
    return {"partner_id": partner_id, "transaction_id": target.transaction_id,
            "subscription_id": target.subscription_id, "customer_id": target.customer_id,
            "reference": billing.reference(target.transaction_id),
            "record_kind": "adjustment" if target.kind == "credit" else "addition",
            "state": PENDING, "agreement_remote_id": target.agreement_remote_id, "attempts": 0,
            "run_id": run_id, "created_at": now, "updated_at": now}


@transaction
def _ids(partner_id: int, state: str, only: set[int] | None = None) -> list[int]:
    """Row ids in one state (own short transaction); with ``only``, of those transactions alone."""
    if only is None:
        return OutboxDAO.item_ids(partner_id, state)
    return [item.id for item in OutboxDAO.items(partner_id, (state,)) if item.transaction_id in only]


def _outcome_of(future) -> Outcome:
    """A delivery's outcome; an unexpected error leaves the row ``sending`` (its fate is unknown) and stops the
    run once the batch's other outcomes are recorded."""
    error = future.exception()
    return future.result() if error is None else Outcome(SENDING, message=repr(error), stop=error)


def _follow_needed(row, target) -> bool:
    """True when a pending/skipped row (id, transaction, state, agreement) must move for ``target``."""
    if target is None:
        return row.state == PENDING
    return row.state == SKIPPED or row.agreement_remote_id != target.agreement_remote_id


@transaction
def _ids_after(partner_id: int, state: str, after: int, limit: int) -> list[int]:
    """A chunk of row ids in one state (own short transaction)."""
    return OutboxDAO.ids_after(partner_id, state, after, limit)


@transaction
def _count(partner_id: int, state: str) -> int:
    """How many of the partner's rows are in one state (own short transaction)."""
    return OutboxDAO.state_counts(partner_id).get(state, 0)


@transaction
def _refusals(partner_id: int, product_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(code, message) of ConnectWise's refusal per refused product (plain values, read once per run)."""
    rows = CatalogSyncDAO.for_products(partner_id, product_ids)
    return {pid: (row.error_code or "ProductNotInCatalog", row.error_message or "") for pid, row in rows.items()}


@transaction
def _snapshots(item_ids: list[int]) -> list[dict]:
    """``sending`` rows' payloads, rebuilt from their transactions (for recovery; a few queries per batch)."""
    rows = OutboxDAO.get_many(item_ids)
    data = PushDataDAO.transactions([item.transaction_id for item in rows])
    products = sorted({product.id for _tx, product in data.values()})
    catalog = CatalogSyncDAO.for_products(rows[0].partner_id, products) if rows else {}
    snapshots = []
    for item in rows:
        tx, product = data[item.transaction_id]
        row = catalog.get(product.id)
        snapshots.append(_payload_snapshot(item, tx, product, row.remote_id if row else None))
    return snapshots


def _payload_snapshot(item, tx, product, catalog_id: int | None) -> dict:
    """Plain values for the call (no ORM objects cross the HTTP call)."""
    snap = {"item_id": item.id, "state": item.state, "transaction_id": tx.id, "kind": item.record_kind,
            "agreement": item.agreement_remote_id, "reference": item.reference, "payload": None, "payload_error": None}
    try:
        snap["payload"] = build_payload(tx, product, catalog_id)
    except PayloadError as err:
        snap["payload_error"] = str(err)
    return snap


def _domain_tx(tx, product) -> billing.Transaction:
    """The domain's view of a transaction."""
    return billing.Transaction(tx.id, tx.kind, tx.period_start, tx.period_end, tx.quantity, tx.unit_price,
                               tx.unit_cost, tx.amount, product.title)


def build_payload(tx, product, catalog_id: int | None) -> NewAddition | NewAdjustment:
    """The addition (charge) or adjustment (credit) exactly as BILLING.md says.

    :raises PayloadError: a value ConnectWise cannot carry exactly, or a charge without catalog item.
    """
    view = _domain_tx(tx, product)
    if tx.kind == billing.Kind.CREDIT:
        data = billing.adjustment_payload(view)
        return NewAdjustment(amount=-abs(tx.amount), description=data["description"],
                             effective_date=tx.period_start)
    if catalog_id is None:
        raise PayloadError(f"Product {product.product_id} has no ConnectWise catalog item.")
    pricing = billing.addition_pricing(tx.quantity, tx.unit_price, tx.amount)
    billing.json_number(pricing.unit_price)
    billing.json_number(tx.unit_cost)
    description = billing.invoice_description(view)
    if pricing.note:
        description = f"{description} [{pricing.note}]"
    return NewAddition(product_id=catalog_id, quantity=pricing.quantity, unit_price=pricing.unit_price,
                       unit_cost=tx.unit_cost, effective_date=tx.period_start, cancelled_date=tx.period_end,
                       bill_customer="Billable", invoice_description=description,
                       serial_number=billing.reference(tx.id))
