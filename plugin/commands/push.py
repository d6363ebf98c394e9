"""The billing push: eligible billing transactions into ConnectWise agreements, exactly once.

One run per partner at a time, under a database lease with an expiry (renewed before each
row; a crashed run's lease simply expires). A run:

1. recovers rows left in ``sending`` (only a dead run can have left them: we hold the lease) by
   reading ConnectWise for our reference: adopt what is there, create only what is not;
2. brings the outbox up to date (new eligible transactions → ``pending``; pending rows that are
   no longer eligible → ``skipped``; skipped ones eligible again → ``pending``; pending rows
   follow a re-mapped subscription to its new agreement);
3. moves the pushed rows a person chose to move to a new agreement (``moving``, or ``removing``
   left by a dead run): marks ``removing`` and commits, reads ours on the old agreement, deletes
   it only when it carries our reference, then ``pending`` for the new agreement (step 5 creates it);
4. syncs the catalog for the products of the pending rows;
5. pushes each pending row: checks the integration and the row's eligibility, marks it
   ``sending`` and **commits**, calls ConnectWise, records ``pushed`` + the id and **commits**.

Transient errors retry with backoff inside the run (bounded); a POST whose outcome is unknown is
looked up by reference before anything is created again; permanent errors fail that row with
ConnectWise's code and message and the run goes on. No transaction is open across an HTTP call.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app

from plugin.commands.base import transaction
from plugin.commands.catalog import CatalogSync, _message
from plugin.commands.connectwise import client_for
from plugin.commands.exceptions import IntegrationInactiveError, IntegrationStoppedError
from plugin.commands.run_progress import RunProgress
from plugin.connectwise import CWError, NewAddition, NewAdjustment
from plugin.connectwise.client import ConnectWiseClient, is_retryable
from plugin.connectwise.errors import CWAuthError, CWForbidden, CWNotFound, CWRateLimited, CWTLSError, CWURLRefused
from plugin.daos.base import session
from plugin.daos.integration import IntegrationDAO
from plugin.daos.outbox import (
    FAILED, MOVING, PENDING, PUSHED, REMOVING, SENDING, SKIPPED, OutboxDAO, PushDataDAO, SyncLeaseDAO, SyncRunDAO,
)
from plugin.domain import billing
from plugin.domain.billing import OutboxEvent as Ev
from plugin.domain.errors import PayloadError
from plugin.models.hub import utcnow
from plugin.ratelimit import RateLimitTimeout

log = logging.getLogger(__name__)
RUN_STOPPERS = (CWAuthError, CWForbidden, CWURLRefused, CWTLSError)
"""Errors that concern every row (credentials, role, address): the run stops, rows stay pending."""


class LeaseLost(RuntimeError):
    """Our lease expired and someone else may hold it: stop before the next row."""


class ConnectWiseUnavailable(RuntimeError):
    """Transient errors outlasted the retries: stop the run, rows stay pending for the next."""


@dataclass
class Outcome:
    """What delivering one row came to."""

    state: str
    cw_id: int | None = None
    code: str | None = None
    message: str | None = None


@dataclass
class RunResult:
    """The run's record in memory."""

    run_id: int | None
    status: str
    counts: Counter = field(default_factory=Counter)
    cw_calls: int = 0
    writes: int = 0
    lookups: int = 0
    catalog_calls: int = 0
    error: str | None = None

    def as_dict(self) -> dict:
        """JSON form (the job's result)."""
        return {"run_id": self.run_id, "status": self.status, "counts": dict(self.counts),
                "cw_calls": self.cw_calls, "writes": self.writes, "lookups": self.lookups,
                "catalog_calls": self.catalog_calls, "error": self.error}


def _setting(name: str, default: float) -> float:
    """A numeric push setting from config."""
    return float(current_app.config.get(name, default))


def _transition(item, event: Ev, by_run: int | None, detail: str | None = None, /, **values) -> None:
    """Move a row through the domain's state machine and record it."""
    new = billing.transition(item.state, event)
    OutboxDAO.set_state(item, new.value, event.value, by_run=by_run, detail=detail, **values)


class PushBillingCommand:
    """One billing push for a partner (the sync job's body; also ``flask psa sync run --inline``)."""

    def __init__(self, partner_id: int, requested_by: str = "system", job_id: str | None = None,
                 after_item: Callable[[int], None] | None = None, client: ConnectWiseClient | None = None,
                 only_transactions: set[int] | None = None):
        self.partner_id, self.requested_by, self.job_id = int(partner_id), requested_by, job_id
        # Sync control (issue 9): push only these transactions (an approved preview); other rows stay pending
        self.only_transactions = None if only_transactions is None else set(only_transactions)
        self.after_item = after_item or (lambda _item_id: None)
        self.client = client
        self.token = uuid.uuid4().hex
        self.lease_seconds = _setting("PSA_PUSH_LEASE_SECONDS", 60)
        self.max_tries = int(_setting("PSA_PUSH_MAX_TRIES", 6))
        self.result = RunResult(None, "running")
        self.rng = random.Random()
        self.touched_customers: set[int] = set()
        self.progress = RunProgress()

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
                                job_id=self.job_id, heartbeat_at=utcnow())
        SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds, run_id=run.id)
        self.result.run_id = run.id
        return True

    @transaction
    def _guard(self) -> None:
        """The feature is on and the integration active (re-read in its own transaction).

        :raises IntegrationStoppedError:
        """
        from plugin.jobs import connectwise_guard

        connectwise_guard(self.partner_id)()

    def _client(self) -> ConnectWiseClient:
        """A client on the integration's credentials, throttled by the partner's shared rate limit."""
        integration = IntegrationDAO.for_partner(self.partner_id)
        client = client_for(integration, throttle=self._throttle())
        session().rollback()
        return client

    def _throttle(self):
        """The partner's shared per-minute limit (None when configured off)."""
        from plugin.commands.sync_settings import partner_requests_per_minute  # the partner's limit (issue 9)

        per_minute = partner_requests_per_minute(self.partner_id)
        if per_minute < 1:
            return None
        from plugin.ratelimit import PartnerRateLimiter

        return PartnerRateLimiter(current_app.config["REDIS_URL"], self.partner_id, per_minute,
                                  namespace=current_app.config["PSA_QUEUE_PREFIX"])

    @transaction
    def _heartbeat(self) -> None:
        """Renew the lease before a row.

        :raises LeaseLost: when it is no longer ours.
        """
        if not SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds):
            raise LeaseLost("The push lease expired; another run may have taken over.")

    def _finish(self) -> None:
        """Record the run's outcome and calls, refresh the revenue totals, release the lease."""
        if self.result.run_id is None:
            return
        if self.client is not None:
            self.result.cw_calls = self.client.call_count
        try:
            self._record_run()
        finally:
            self._release()
        from plugin.commands.alerts import notify_run_alert  # issue 9: once per failed/partial/stopped run

        notify_run_alert(self.result.run_id)

    @transaction
    def _record_run(self) -> None:
        """Write the run record and the touched customers' running totals."""
        run = SyncRunDAO.get(self.result.run_id)
        r = self.result
        run.status, run.finished_at, run.counts, run.error = r.status, utcnow(), dict(r.counts), r.error
        run.cw_calls, run.writes, run.lookups, run.catalog_calls = r.cw_calls, r.writes, r.lookups, r.catalog_calls
        self._progress(final=True)
        if self.touched_customers:
            from plugin.daos.directory import ReconciliationStateDAO
            from plugin.daos.revenue import RevenueTotalsDAO

            state = ReconciliationStateDAO.for_partner(self.partner_id)
            if state is not None:
                RevenueTotalsDAO.recompute_customers(state, sorted(self.touched_customers))

    @transaction
    def _release(self) -> None:
        """Free the lease."""
        SyncLeaseDAO.release(self.partner_id, self.token)

    # -- outbox refresh ------------------------------------------------------------------------

    @transaction
    def _refresh_outbox(self) -> None:
        """New eligible transactions → pending; pending/skipped rows follow eligibility and mapping."""
        eligible = OutboxDAO.eligible(self.partner_id)
        known = OutboxDAO.known_transactions(self.partner_id)
        new = [t for tx_id, t in eligible.items() if tx_id not in known]
        if new:
            rows = [_new_row(self.partner_id, t, self.result.run_id) for t in new]
            OutboxDAO.add_pending(rows)
            OutboxDAO.record_created(OutboxDAO.by_transactions([t.transaction_id for t in new]), self.result.run_id)
        for item in OutboxDAO.items(self.partner_id, (PENDING, SKIPPED)):
            self._follow(item, eligible.get(item.transaction_id))

    def _follow(self, item, target) -> None:
        """One pending or skipped row against the current eligibility."""
        run_id = self.result.run_id
        if target is None:
            if item.state == PENDING:
                _transition(item, Ev.BECAME_INELIGIBLE, run_id, "no longer eligible (unmapped or before the From Date)",
                            reason="not eligible")
            return
        if item.state == SKIPPED:
            _transition(item, Ev.BECAME_ELIGIBLE, run_id, f"eligible for agreement {target.agreement_cw_id}",
                        reason=None, agreement_cw_id=target.agreement_cw_id)
        elif item.agreement_cw_id != target.agreement_cw_id:
            OutboxDAO.set_state(item, PENDING, "retarget", by_run=run_id,
                                detail=f"agreement {item.agreement_cw_id} → {target.agreement_cw_id}",
                                agreement_cw_id=target.agreement_cw_id)

    # -- recovery of rows left in sending --------------------------------------------------------

    def _recover(self) -> None:
        """Settle every row left in ``sending`` by a dead run: look up, adopt or create."""
        ids = _ids(self.partner_id, SENDING)
        for item_id in ids:
            self._guard()
            self._heartbeat()
            snapshot = _snapshot(item_id)
            if snapshot is None or snapshot["state"] != SENDING:
                continue
            self.result.counts["recovered"] += 1
            self._settle(snapshot, self._deliver(snapshot, uncertain=True))

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
        target_cw = target.agreement_cw_id if target is not None else None
        wanted = target_cw is not None and target_cw != item.agreement_cw_id
        if item.state == REMOVING:
            self.result.counts["recovered"] += 1
        elif not wanted:
            _transition(item, Ev.MOVE_CANCELLED, self.result.run_id,
                        f"move cancelled: {'no longer eligible' if target is None else 'mapped to this agreement again'}"
                        f"; stays on agreement {item.agreement_cw_id}")
            self.result.counts["move_cancelled"] += 1
            self.touched_customers.add(item.customer_id)
            return None
        else:
            _transition(item, Ev.REMOVE_ATTEMPT, self.result.run_id,
                        f"removing {item.record_kind} {item.cw_record_id} from agreement {item.agreement_cw_id}",
                        sending_since=utcnow(), run_id=self.result.run_id)
        return {"item_id": item.id, "transaction_id": item.transaction_id, "kind": item.record_kind,
                "agreement": item.agreement_cw_id, "record_id": item.cw_record_id, "reference": item.reference,
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
                return Outcome(PUSHED, cw_id=record_id)
            self.result.writes += 1
            if snap["kind"] == "addition":
                self.client.delete_addition(snap["agreement"], record_id)
            else:
                self.client.delete_adjustment(snap["agreement"], record_id)
            return Outcome(PENDING, cw_id=record_id)
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
            target = snap["target"] or item.agreement_cw_id
            done = f"ours ({outcome.cw_id}) removed" if outcome.cw_id else "ours already gone"
            _transition(item, Ev.REMOVED, run_id, f"{done} from agreement {old}; to push to agreement {target}",
                        agreement_cw_id=target, cw_record_id=None, pushed_at=None, sending_since=None, reason=None,
                        last_error_code=None, last_error_message=None)
            self.result.counts["removed"] += 1
        elif outcome.state == PUSHED:
            _transition(item, Ev.MOVE_CANCELLED, run_id, f"move no longer wanted; ours ({outcome.cw_id}) stays on "
                        f"agreement {old}", cw_record_id=outcome.cw_id, sending_since=None)
            self.result.counts["move_cancelled"] += 1
            self.touched_customers.add(item.customer_id)
        else:
            _transition(item, Ev.REMOVE_REFUSED, run_id, f"{outcome.code}: {outcome.message}", sending_since=None,
                        last_error_code=(outcome.code or "")[:100], last_error_message=outcome.message)
            self.result.counts[FAILED] += 1

    # -- pushing ---------------------------------------------------------------------------------

    def _push_pending(self) -> None:
        """Catalog sync for the pending rows' products, then each row in transaction order."""
        pending = _pending_transactions(self.partner_id, self.only_transactions)
        self._progress(total=len(pending))
        before, writes = self.client.call_count, self.result.writes
        catalog = CatalogSync(self.partner_id, self.client, self._create_once).ensure(pending)
        self.result.catalog_calls = self.client.call_count - before
        self.result.writes = writes  # the catalog's own creates are counted in catalog_calls
        for item_id in _ids(self.partner_id, PENDING, self.only_transactions):
            self._guard()
            self._heartbeat()
            snapshot = self._claim(item_id, catalog)
            if snapshot is not None:
                self._settle(snapshot, self._deliver(snapshot, uncertain=False))
            self.after_item(item_id)

    @transaction
    def _claim(self, item_id: int, catalog: dict[int, int | None]) -> dict | None:
        """Re-check the row and mark it ``sending`` (committed before the call); None to skip it."""
        item = OutboxDAO.get(item_id, lock=True)
        if item is None or item.state != PENDING:
            return None
        target = OutboxDAO.eligible(self.partner_id, [item.transaction_id]).get(item.transaction_id)
        if target is None:
            _transition(item, Ev.BECAME_INELIGIBLE, self.result.run_id,
                        "no longer eligible before its push (unmapped, disassociated or before the From Date)",
                        reason="not eligible")
            self.result.counts[SKIPPED] += 1
            return None
        tx, product = PushDataDAO.transactions([item.transaction_id])[item.transaction_id]
        catalog_id = catalog.get(product.id)
        if catalog_id is None and item.record_kind == "addition":
            return self._block(item, product)
        _transition(item, Ev.ATTEMPT, self.result.run_id, agreement_cw_id=target.agreement_cw_id,
                    attempts=item.attempts + 1, sending_since=utcnow(), run_id=self.result.run_id, reason=None)
        return _payload_snapshot(item, tx, product, catalog_id)

    def _block(self, item, product) -> None:
        """Keep a row pending while its product is refused by ConnectWise (the reason says so)."""
        from plugin.daos.outbox import CatalogSyncDAO

        row = CatalogSyncDAO.for_products(self.partner_id, [product.id]).get(product.id)
        item.reason = "product refused"
        item.last_error_code = row.error_code if row else "ProductNotInCatalog"
        item.last_error_message = (f"Product {product.product_id} was refused by ConnectWise's catalog: "
                                   f"{row.error_message if row else 'not synced'}")
        session().flush()
        self.result.counts["blocked"] += 1
        return None

    # -- sync control (issue 9): what an approved preview could not push ---------------------------

    @transaction
    def _count_ineligible(self) -> None:
        """Count chosen transactions no longer eligible (no row, skipped, or pushed by an earlier run)."""
        if self.only_transactions is None:
            return
        from plugin.daos.control import outbox_states

        states = outbox_states(sorted(self.only_transactions))
        gone = [t for t in self.only_transactions if states.get(t, (SKIPPED, None))[0] == SKIPPED
                or (states[t][0] == PUSHED and states[t][1] != self.result.run_id)]
        if gone:
            self.result.counts["ineligible"] = len(gone)

    # -- delivering one row ----------------------------------------------------------------------

    def _deliver(self, snap: dict, uncertain: bool) -> Outcome:
        """Create the row's record once: look up first when the outcome of an earlier call is unknown."""
        if snap.get("payload_error"):
            return Outcome(FAILED, code="PayloadError", message=snap["payload_error"])
        try:
            record = self._create_once(lambda: self._create(snap), lambda: self._lookup(snap), uncertain=uncertain)
        except _Conflict as err:
            return Outcome(FAILED, code="DuplicateInConnectWise", message=str(err))
        except RUN_STOPPERS:
            raise
        except ConnectWiseUnavailable:
            raise
        except CWError as err:
            return Outcome(FAILED, code=err.code or type(err).__name__, message=_message(err))
        return Outcome(PUSHED, cw_id=record.id)

    def _create_once(self, create: Callable[[], Any], find: Callable[[], Any], uncertain: bool = False) -> Any:
        """Create a record exactly once: bounded retries with backoff; look up whenever an outcome is unknown.

        :raises CWError: a permanent error (validation, not found...), as ConnectWise gave it.
        :raises ConnectWiseUnavailable: transient errors outlasted the retries.
        """
        for attempt in range(1, self.max_tries + 1):
            try:
                if uncertain:
                    found = find()
                    if found is not None:
                        return found
                    uncertain = False
                self.result.writes += 1
                return create()
            except CWError as err:
                if isinstance(err, RUN_STOPPERS) or not (err.outcome_unknown or is_retryable(err)):
                    raise
                uncertain = uncertain or err.outcome_unknown
                self._backoff(err, attempt)
        raise ConnectWiseUnavailable(f"ConnectWise kept failing after {self.max_tries} tries; "
                                     "the remaining rows wait for the next run.")

    def _backoff(self, err: CWError, attempt: int) -> None:
        """Sleep before the next try: Retry-After for a 429, else jittered exponential backoff."""
        delay = err.retry_after if isinstance(err, CWRateLimited) and err.retry_after is not None else None
        if delay is None:
            delay = self.client.retry.backoff(attempt, self.rng)
        time.sleep(min(delay, _setting("PSA_PUSH_MAX_BACKOFF", 30)))

    def _create(self, snap: dict) -> Any:
        """POST the addition or adjustment."""
        if snap["kind"] == "addition":
            return self.client.create_addition(snap["agreement"], snap["payload"])
        return self.client.create_adjustment(snap["agreement"], snap["payload"])

    def _lookup(self, snap: dict) -> Any:
        """Read the agreement's records carrying our reference (one call); adopt one, refuse several."""
        self.result.lookups += 1
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
        return next((r for r in found if r.id == decision.cw_id), None)

    @transaction
    def _settle(self, snap: dict, outcome: Outcome) -> None:
        """Record the row's outcome (committed right after the call)."""
        item = OutboxDAO.get(snap["item_id"], lock=True)
        run_id = self.result.run_id
        if outcome.state == PUSHED:
            _transition(item, Ev.SUCCEEDED, run_id, f"ConnectWise id {outcome.cw_id}", cw_record_id=outcome.cw_id,
                        pushed_at=utcnow(), sending_since=None, last_error_code=None, last_error_message=None)
            self.touched_customers.add(item.customer_id)
        else:
            _transition(item, Ev.PERMANENT_ERROR, run_id, f"{outcome.code}: {outcome.message}",
                        sending_since=None, last_error_code=(outcome.code or "")[:100],
                        last_error_message=outcome.message)
        self.result.counts[outcome.state] += 1
        self._progress()

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
    now = utcnow()
    return {"partner_id": partner_id, "transaction_id": target.transaction_id,
            "subscription_id": target.subscription_id, "customer_id": target.customer_id,
            "reference": billing.reference(target.transaction_id),
            "record_kind": "adjustment" if target.kind == "credit" else "addition",
            "state": PENDING, "agreement_cw_id": target.agreement_cw_id, "attempts": 0,
            "run_id": run_id, "created_at": now, "updated_at": now}


@transaction
def _ids(partner_id: int, state: str, only: set[int] | None = None) -> list[int]:
    """Row ids in one state (own short transaction); with ``only``, of those transactions alone."""
    if only is None:
        return OutboxDAO.item_ids(partner_id, state)
    return [item.id for item in OutboxDAO.items(partner_id, (state,)) if item.transaction_id in only]


@transaction
def _pending_transactions(partner_id: int, only: set[int] | None = None) -> list[int]:
    """Transaction ids of the pending rows (with ``only``, of those transactions alone)."""
    return [item.transaction_id for item in OutboxDAO.items(partner_id, (PENDING,))
            if only is None or item.transaction_id in only]


@transaction
def _snapshot(item_id: int) -> dict | None:
    """A ``sending`` row's payload, rebuilt from its transaction (for recovery)."""
    item = OutboxDAO.get(item_id)
    if item is None:
        return None
    tx, product = PushDataDAO.transactions([item.transaction_id])[item.transaction_id]
    from plugin.daos.outbox import CatalogSyncDAO

    row = CatalogSyncDAO.for_products(item.partner_id, [product.id]).get(product.id)
    return _payload_snapshot(item, tx, product, row.cw_id if row else None)


def _payload_snapshot(item, tx, product, catalog_id: int | None) -> dict:
    """Plain values for the call (no ORM objects cross the HTTP call)."""
    snap = {"item_id": item.id, "state": item.state, "transaction_id": tx.id, "kind": item.record_kind,
            "agreement": item.agreement_cw_id, "reference": item.reference, "payload": None, "payload_error": None}
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
