"""Delivering outbox rows to the PSA, exactly once: recovery of rows left in ``sending``, and the pending rows in
batches.

Per batch: one transaction renews the lease, re-checks the rows' eligibility and marks them ``sending``
(**commit**); the creates run concurrently on ``PSA_PUSH_CONCURRENCY`` threads (no database there); one transaction
records each row's outcome (``pushed`` with the id, ``failed`` with the PSA's reason; **commit**). Transient errors
retry with backoff per row (bounded); a create whose outcome is unknown is looked up by our reference before
anything is created again; a permanent error fails that row and the run goes on. A run-stopping error in any
thread halts the batch's other threads before their next call: rows not sent go back to ``pending``, rows whose
outcome is unknown stay ``sending`` for the next run's recovery. No transaction is open across a PSA call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any, TypeVar

from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.rows import Outcome, Row
from msphub_psa.commands.billing.run import CHUNK, Halted, LeaseLost, PsaUnavailable, PushRun
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import CatalogSyncDAO, OutboxDAO, PushDataDAO
from msphub_psa.domain import billing
from msphub_psa.domain.billing import OutboxEvent as Ev
from msphub_psa.domain.billing import OutboxState
from msphub_psa.psa import errors as psa
from msphub_psa.psa.records import CHARGE, Charge, Credit, Record
from msphub_psa.ratelimit import RateLimitTimeout

T = TypeVar("T")
PENDING, SENDING, PUSHED = OutboxState.PENDING.value, OutboxState.SENDING.value, OutboxState.PUSHED.value
FAILED, SKIPPED = OutboxState.FAILED.value, OutboxState.SKIPPED.value


class Conflict(Exception):
    """Several PSA records carry one reference (a person must resolve it)."""

    code = "DuplicateReference"


@dataclass
class _Track:
    """One row's delivery: True while an earlier call's outcome is unknown (look up before creating)."""

    uncertain: bool


class Delivery:
    """Creates rows' records in the PSA for one run, exactly once."""

    def __init__(self, run: PushRun):
        self.run = run

    # -- phases ---------------------------------------------------------------------------------------------

    def recover(self) -> None:
        """Settle every row left in ``sending`` by a dead run, in batches: look up, adopt or create."""
        for item_ids in self.batches(SENDING):
            self.run.guard()
            self.run.heartbeat()
            rows = [row for row in _rows(item_ids) if row.state == SENDING]
            self.run.result.counts["recovered"] += len(rows)
            self.run_batch(rows, uncertain=True)

    def push_pending(
        self, catalog: dict[int, int | None], refusals: dict[int, tuple[str, str]], blocks: dict | None = None
    ) -> None:
        """The pending rows in batches (with an approved preview: only its transactions).

        Before each batch after the first, the slice: once its time is over, when other jobs wait and the continuation
        is queued behind them, the run ends ``yielded`` (``SliceEnded``) with the batches delivered so far settled.
        Per batch: the integration guard; the claim (lease renewed in the same transaction); the creates
        concurrently; the settle (one transaction); then ``after_item`` for each of the batch's row ids.
        """
        only = self.run.only_transactions
        pending = _ids(self.run.partner_id, PENDING, only) if only is not None else None
        total = len(pending) if pending is not None else _count(self.run.partner_id, PENDING)
        self.run.known_rows = max(self.run.known_rows, total)
        self.run.publish_progress(total=total)
        size = self.run.batch_size
        batches = (
            self.batches(PENDING)
            if pending is None
            else (pending[start : start + size] for start in range(0, len(pending), size))
        )
        if only is None:
            self.run.start_slice()  # an approved preview's push runs to its end: its transactions were chosen
        for number, item_ids in enumerate(batches):
            if number:  # a slice delivers at least one batch: a continuation always makes progress
                self.run.check_slice()
            self.run.guard()
            claimed = self._claim(item_ids, catalog, refusals, blocks or {})
            self.run.slice_sent += len(claimed)
            self.run_batch(claimed, uncertain=False)
            for item_id in item_ids:
                self.run.after_item(item_id)

    def batches(self, state: str) -> Iterator[list[int]]:
        """The ids of the partner's rows in ``state``, read ``CHUNK`` at a time, yielded a batch at a time."""
        after, size = 0, self.run.batch_size
        while ids := _ids_after(self.run.partner_id, state, after, CHUNK):
            for start in range(0, len(ids), size):
                yield ids[start : start + size]
            after = ids[-1]

    # -- the claim ------------------------------------------------------------------------------------------

    @transaction
    def _claim(
        self, item_ids: list[int], catalog: dict[int, int | None], refusals: dict[int, tuple[str, str]], blocks: dict
    ) -> list[Row]:
        """Renew the lease, re-check a batch and mark its rows ``sending`` (committed before the calls). One
        query each for the rows, their eligibility and their transactions.

        :raises LeaseLost: when the lease is no longer ours (nothing claimed).
        """
        self.run.renew()
        items = [item for item in OutboxDAO.get_many(item_ids, lock=True) if item.state == PENDING]
        tx_ids = [item.transaction_id for item in items]
        targets = OutboxDAO.targets(self.run.partner_id, tx_ids)
        data = PushDataDAO.transactions(tx_ids)
        rows = [
            self._claim_row(
                item, targets.get(item.transaction_id), *data[item.transaction_id], catalog, refusals, blocks
            )
            for item in items
        ]
        session().flush()
        return [row for row in rows if row is not None]

    def _claim_row(
        self, item, target, tx, product, catalog: dict[int, int | None], refusals: dict[int, tuple[str, str]], blocks
    ) -> Row | None:
        """One row of the claim: skipped when no longer eligible, kept pending while its product is refused,
        else ``sending``; its values for the call, or None."""
        if target is None:
            self.run.transition(
                item,
                Ev.BECAME_INELIGIBLE,
                "no longer eligible before its push (unmapped, disassociated or before the From Date)",
                reason="not eligible",
                flush=False,
            )
            self.run.result.counts[SKIPPED] += 1
            return None
        catalog_id = catalog.get(product.id)
        if product.id in blocks and item.record_kind == CHARGE:
            self._block_check(item, blocks[product.id])
            return None
        if catalog_id is None and item.record_kind == CHARGE:
            self._block(item, product, refusals.get(product.id))
            return None
        self.run.transition(
            item,
            Ev.ATTEMPT,
            agreement_remote_id=target.agreement_remote_id,
            attempts=item.attempts + 1,
            sending_since=clock.now(),
            run_id=self.run.run_id,
            reason=None,
            flush=False,
        )
        return row_of(item, tx, product, catalog_id)

    def _block_check(self, item, found) -> None:
        """Block a charge whose product's catalog item fails a check (inactive, identifier taken): no call."""
        values = {"reason": "blocked", "last_error_code": found.code, "last_error_message": found.message}
        self.run.transition(item, Ev.BLOCK, f"{found.code}: {found.message}", flush=False, **values)
        self.run.result.counts["blocked"] += 1

    def _block(self, item, product, refusal: tuple[str, str] | None) -> None:
        """Keep a row pending while its product is refused by the PSA's catalog (the reason says so)."""
        item.reason = "product refused"
        item.last_error_code = refusal[0] if refusal else "ProductNotInCatalog"
        item.last_error_message = (
            f"Product {product.product_id} was refused by the PSA's catalog: {refusal[1] if refusal else 'not synced'}"
        )
        self.run.result.counts["blocked"] += 1

    # -- a batch: concurrent calls, one settle -------------------------------------------------------------

    def run_batch(self, rows: list[Row], uncertain: bool) -> None:
        """Deliver a claimed batch concurrently and record every outcome in one transaction.

        :raises: the first run-stopping error a row met (after the batch is settled), or ``LeaseLost``.
        """
        if not rows:
            return
        outcomes, lost = self._send(rows, uncertain)
        self._settle_all(rows, outcomes)
        stop = lost or next((o.stop for o in outcomes if o.stop is not None), None)
        if stop is not None:
            raise stop

    def _send(self, rows: list[Row], uncertain: bool) -> tuple[list[Outcome], LeaseLost | None]:
        """Each row's delivery on the pool; the lease is renewed (from this thread) while they run."""
        self.run.halt.clear()
        futures = [self.run.pool.submit(contextvars.copy_context().run, self._deliver, row, uncertain) for row in rows]
        running, lost = set(futures), None
        while running:
            _done, running = wait_futures(running, timeout=max(self.run.lease_seconds / 3, 0.5))
            if running and lost is None:
                try:
                    self.run.heartbeat()
                except LeaseLost as err:
                    lost = err
                    self.run.halt.set()
        return [_outcome_of(future) for future in futures], lost

    @transaction
    def _settle_all(self, rows: list[Row], outcomes: list[Outcome]) -> None:
        """Record a batch's outcomes (one transaction, committed right after the calls)."""
        items = {item.id: item for item in OutboxDAO.get_many([row.item_id for row in rows], lock=True)}
        for row, outcome in zip(rows, outcomes, strict=True):
            item = items.get(row.item_id)
            if item is not None and item.state == SENDING:
                self._settle(item, outcome)
        session().flush()
        self.run.publish_progress()  # done / failures so far, in this batch's transaction (throttled)

    def _settle(self, item, outcome: Outcome) -> None:
        """Record one row's outcome: the one place where a row's outcome is recorded."""
        if outcome.state == PUSHED:
            self.run.transition(
                item,
                Ev.SUCCEEDED,
                f"PSA record {outcome.remote_id}",
                remote_record_id=outcome.remote_id,
                pushed_at=clock.now(),
                sending_since=None,
                last_error_code=None,
                last_error_message=None,
                flush=False,
            )
            self.run.touched_customers.add(item.customer_id)
        elif outcome.state == FAILED:
            self.run.transition(
                item,
                Ev.PERMANENT_ERROR,
                f"{outcome.code}: {outcome.message}",
                sending_since=None,
                last_error_code=(outcome.code or "")[:100],
                last_error_message=outcome.message,
                flush=False,
            )
            if not outcome.foreseen:
                self.run.result.counts["not_foreseen"] += 1
        elif outcome.state == PENDING:
            self.run.transition(
                item,
                Ev.TRANSIENT_ERROR,
                f"not sent: the run stopped ({outcome.message})",
                sending_since=None,
                flush=False,
            )
            return
        else:
            return  # outcome unknown: stays ``sending``; the next run's recovery looks it up before any create
        self.run.result.counts[outcome.state] += 1

    # -- delivering one row (in a pool thread: no database, no app context) --------------------------------

    def _deliver(self, row: Row, uncertain: bool) -> Outcome:
        """Create the row's record once: look up first when the outcome of an earlier call is unknown."""
        if row.error:
            return Outcome(FAILED, code="PayloadError", message=row.error, foreseen=True)
        try:
            self.run.psa.check(row.record)
        except psa.Permanent as err:
            return Outcome(FAILED, code=err.code or "PayloadError", message=err.message, foreseen=True)
        track = _Track(uncertain)
        try:
            record = self._create_tracked(lambda: self._create(row), lambda: self.lookup(row), track)
        except Conflict as err:
            return Outcome(FAILED, code=err.code, message=str(err))
        except Halted as err:
            return Outcome(SENDING if track.uncertain else PENDING, message=str(err))
        except (psa.RunStopping, PsaUnavailable, RateLimitTimeout) as err:
            self.run.halt.set()
            return Outcome(SENDING if track.uncertain else PENDING, message=str(err), stop=err)
        except psa.PsaError as err:
            return Outcome(FAILED, code=err.code or type(err).__name__, message=err.message)
        return Outcome(PUSHED, remote_id=record.id)

    def create_once(self, create: Callable[[], T], find: Callable[[], T | None], uncertain: bool = False) -> T:
        """Create a record exactly once: bounded retries with backoff; look up whenever an outcome is unknown.

        :raises PsaError: a permanent error, as the PSA gave it.
        :raises PsaUnavailable: transient errors outlasted the retries.
        """
        return self._create_tracked(create, find, _Track(uncertain))

    def _create_tracked(self, create: Callable[[], T], find: Callable[[], T | None], track: _Track) -> T:
        """``create_once`` keeping ``track.uncertain`` up to date (what a stopped row's state must be).

        :raises Halted: another row of the batch stopped the run before this row's next call.
        """
        for attempt in range(1, self.run.max_tries + 1):
            if self.run.halt.is_set():
                raise Halted("another row of the batch stopped the run")
            try:
                if track.uncertain:
                    found = find()
                    if found is not None:
                        return found
                    track.uncertain = False
                self.run.count("writes")
                return create()
            except psa.Transient as err:
                track.uncertain = track.uncertain or err.outcome_unknown
                self._backoff(err, attempt)
        raise PsaUnavailable(
            f"The PSA kept failing after {self.run.max_tries} tries; the remaining rows wait for the next run."
        )

    def _backoff(self, err: psa.Transient, attempt: int) -> None:
        """Wait before the next try: the PSA's Retry-After, else jittered exponential backoff (a halt cuts it
        short)."""
        delay = err.retry_after if err.retry_after is not None else self.run.psa.backoff(attempt, self.run.rng)
        self.run.halt.wait(min(delay, self.run.max_backoff))

    def _create(self, row: Row) -> Record:
        """Create the charge or credit."""
        if isinstance(row.record, Charge):
            return self.run.psa.create_charge(row.agreement, row.record)
        return self.run.psa.create_credit(row.agreement, row.record)

    def lookup(self, row: Row | Any) -> Record | None:
        """Read the agreement's records carrying our reference (one call); adopt one, refuse several.

        :raises Conflict: several records carry it.
        """
        self.run.count("lookups")
        found = self.run.psa.find_ours(row.agreement, row.kind, row.reference)
        decision = billing.recovery_decision(row.transaction_id, [(r.id, r.reference_text) for r in found])
        if decision.action == billing.RecoveryAction.CONFLICT:
            raise Conflict(
                f"Several PSA records carry {row.reference}: ids {', '.join(map(str, decision.remote_ids))}"
                "; none was changed. Remove the extra ones in the PSA, then retry."
            )
        return next((r for r in found if r.id == decision.remote_id), None)


def _outcome_of(future: Future) -> Outcome:
    """A delivery's outcome; an unexpected error leaves the row ``sending`` (its fate is unknown) and stops the
    run once the batch's other outcomes are recorded."""
    error = future.exception()
    return future.result() if error is None else Outcome(SENDING, message=repr(error), stop=error)


@transaction
def _ids(partner_id: int, state: str, only: set[int] | None = None) -> list[int]:
    """Row ids in one state (own short transaction); with ``only``, of those transactions alone."""
    if only is None:
        return OutboxDAO.item_ids(partner_id, state)
    return [item.id for item in OutboxDAO.items(partner_id, (state,)) if item.transaction_id in only]


@transaction
def _ids_after(partner_id: int, state: str, after: int, limit: int) -> list[int]:
    """A chunk of row ids in one state (own short transaction)."""
    return OutboxDAO.ids_after(partner_id, state, after, limit)


@transaction
def _count(partner_id: int, state: str) -> int:
    """How many of the partner's rows are in one state (own short transaction)."""
    return OutboxDAO.state_counts(partner_id).get(state, 0)


@transaction
def _rows(item_ids: list[int]) -> list[Row]:
    """``sending`` rows' records, rebuilt from their transactions (for recovery; a few queries per batch)."""
    items = OutboxDAO.get_many(item_ids)
    data = PushDataDAO.transactions([item.transaction_id for item in items])
    products = sorted({product.id for _tx, product in data.values()})
    catalog = CatalogSyncDAO.for_products(items[0].partner_id, products) if items else {}
    rows = []
    for item in items:
        tx, product = data[item.transaction_id]
        synced = catalog.get(product.id)
        rows.append(row_of(item, tx, product, synced.remote_id if synced else None))
    return rows


def row_of(item, tx, product, catalog_id: int | None) -> Row:
    """Plain values for the call: the record to create, or why none can be built."""
    try:
        record, error = record_of(tx, product, catalog_id, item.reference), None
    except ValueError as err:
        record, error = None, str(err)
    return Row(item.id, item.state, tx.id, item.record_kind, item.agreement_remote_id, item.reference, record, error)


def record_of(tx, product, catalog_id: int | None, reference: str) -> Charge | Credit:
    """The charge or credit exactly as docs/billing.md says: a charge bounded to its period at MSP Hub's amount,
    a credit as a negative amount at the period's start, its description ending with our reference.

    :raises ValueError: a charge whose product has no catalog item.
    """
    view = billing.Transaction(
        tx.id,
        tx.kind,
        tx.period_start,
        tx.period_end,
        tx.quantity,
        tx.unit_price,
        tx.unit_cost,
        tx.amount,
        product.title,
    )
    if tx.kind == billing.Kind.CREDIT:
        return Credit(reference, -abs(tx.amount), billing.adjustment_description(view), tx.period_start)
    if catalog_id is None:
        raise ValueError(f"Product {product.product_id} has no catalog item in the PSA.")
    pricing = billing.addition_pricing(tx.quantity, tx.unit_price, tx.amount)
    description = billing.invoice_description(view)
    if pricing.note:
        description = f"{description} [{pricing.note}]"
    return Charge(
        reference,
        catalog_id,
        pricing.quantity,
        pricing.unit_price,
        tx.unit_cost,
        tx.period_start,
        tx.period_end,
        description,
    )
