"""What one push run shares between its phases: the partner, the lease, the PSA client, the run's counts, the
settings read once (the delivery threads have no app context), and the errors that end a run."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.progress import RunProgress
from msphub_psa.commands.billing.rows import RunResult
from msphub_psa.commands.integration import IntegrationGuard
from msphub_psa.daos.outbox import OutboxDAO, SyncLeaseDAO
from msphub_psa.domain import billing
from msphub_psa.jobqueue import lower_priority
from msphub_psa.psa.port import PsaClient

CHUNK = 1000
"""Rows read per query when streaming the outbox (refresh, recovery, pending ids)."""


class LeaseLost(RuntimeError):
    """Our lease expired and someone else may hold it: stop before the next row."""


class PsaUnavailable(RuntimeError):
    """Transient errors outlasted the retries: stop the run, rows stay pending for the next."""


class Halted(RuntimeError):
    """Another row of the batch met a run-stopping error: make no further call for this one."""


ROOM_WAIT = 0.2
"""Between two batches of a sliced run: a wait for the request limit longer than this is spent at the boundary,
asking the queues every ``ROOM_WAIT`` seconds (a fresh push waits at most this long for the worker; at 1 s, the
small pushes of a slot that found every free worker taken started 1 s later beside large pushes than without)."""
BEAT = 1.0
"""While a run waits at a boundary, it renews its lease (a database write) at most every ``BEAT`` seconds."""


class SliceEnded(RuntimeError):
    """The run's delivery slice is over and its continuation is queued: end the run ``yielded`` between two
    batches (every claimed row settled, nothing left in ``sending``)."""


@dataclass
class PushRun:
    """One run of the push: its lease token, counts, client and settings, shared by the phases."""

    partner_id: int
    token: str
    lease_seconds: float
    max_tries: int
    max_backoff: float
    concurrency: int
    batch_size: int
    only_transactions: set[int] | None = None
    after_item: Callable[[int], None] = lambda _item_id: None
    psa: PsaClient | None = None
    result: RunResult = field(default_factory=lambda: RunResult(None, "running"))
    touched_customers: set[int] = field(default_factory=set)
    progress: RunProgress = field(default_factory=RunProgress)
    rng: random.Random = field(default_factory=random.Random)
    halt: threading.Event = field(default_factory=threading.Event)
    pool: ThreadPoolExecutor | None = None
    catalog_base: tuple[int, int] | None = None
    """(client calls, writes) when the catalog step began, while it runs: its calls are ``catalog_calls``."""
    slice_seconds: float = 0.0
    """Delivery time after which the run yields to other pushes' continuations (0: it runs to its end)."""
    short_slice_seconds: float = 0.0
    """Delivery time after which the run yields to a fresh job (at most ``slice_seconds``)."""
    on_slice_end: Callable[[bool], bool] = lambda slice_over: False
    """Called at each batch boundary with whether the slice is over: True when the run must yield (a fresh push
    waits, or the slice is over and a continuation waits) and its continuation is queued; False otherwise (or when
    the queue does not answer)."""
    room: Callable[[int], float] = lambda amount: 0.0
    """Seconds until the partner's request limit has ``amount`` slots free (0: now, or no limit)."""
    capacity: Callable[[float], float] = lambda seconds: math.inf
    """Requests the partner's request limit allows within so many seconds from an unspent window (inf: no limit)."""
    known_rows: int = 0
    """Rows the run knows it has to deliver, at least: the new outbox rows added so far, then the pending rows when
    its delivery begins."""
    began: float = 0.0
    """When the run's steps began (``time.monotonic``): ``check_steps`` counts from here."""
    slice_started: float | None = None
    slice_sent: int = 0
    """Rows this run has claimed for sending: a run that sent none yet (only rows kept pending) does not yield."""
    _counting: threading.Lock = field(default_factory=threading.Lock)
    _beat: float = field(default_factory=time.monotonic)
    """When the lease was last renewed."""

    @property
    def run_id(self) -> int | None:
        """The run record's id."""
        return self.result.run_id

    def count(self, name: str) -> None:
        """Add one to a run counter (``writes``, ``lookups``) from any thread."""
        with self._counting:
            setattr(self.result, name, getattr(self.result, name) + 1)

    @transaction
    def guard(self) -> None:
        """The feature is on and the integration active (re-read in its own transaction).

        :raises IntegrationStoppedError:
        """
        IntegrationGuard(self.partner_id)()

    @transaction
    def heartbeat(self) -> None:
        """Renew the lease.

        :raises LeaseLost: when it is no longer ours.
        """
        self.renew()

    def renew(self) -> None:
        """Renew the lease in the caller's transaction, with the run's heartbeat (its figures so far, throttled).

        :raises LeaseLost: when it is no longer ours.
        """
        if not SyncLeaseDAO.renew(self.partner_id, self.token, self.lease_seconds):
            raise LeaseLost("The push lease expired; another run may have taken over.")
        self._beat = time.monotonic()
        self.publish_progress()

    def start_slice(self) -> None:
        """The delivery begins: its slice counts from now."""
        self.slice_started = time.monotonic()

    def check_slice(self) -> None:
        """Between two batches, once this run has sent rows: after its short slice (at once when the run is
        ``long``), yield as soon as a fresh job waits; after its slice, as soon as another push's continuation
        waits; while nobody waits (or the queue does not answer) the run goes on, asking again at each batch, at a
        lower CPU priority from its short slice on (in a work horse: ``lower_priority``).

        :raises SliceEnded: the run must end ``yielded`` now.
        """
        if not self.slice_seconds or self.slice_started is None or not self.slice_sent:
            return
        while True:
            elapsed = time.monotonic() - self.slice_started
            self._take_turns(elapsed, True, f"after its slice ({elapsed:.0f} s of delivery)")
            # the partner's limit would hold the next batch back (its window is spent): wait here, not inside the
            # batch, so a job arriving meanwhile takes the worker instead of waiting behind a run that is waiting
            wait = self.room(self.batch_size)
            if wait <= ROOM_WAIT:
                return
            self._pause(wait)

    def check_steps(self, step: str, progress: bool) -> None:
        """Between two committed chunks of a step before delivery that runs long for a large partner (50,000 rows:
        new rows added to the outbox, eligibility followed, the pre-flight checks), the rule of ``check_slice`` with
        its time counted from the run's start: after the short slice (a continuation: at once), yield as soon as a
        fresh job waits, else go on as background work. Only a step that made ``progress`` (rows added, kept by the
        next run) also yields to other pushes' continuations after the slice: otherwise two large pushes could hand
        their workers to each other before either delivered anything. An approved preview's push never yields.

        :raises SliceEnded: the run must end ``yielded`` now (every chunk so far committed).
        """
        if not self.slice_seconds or self.only_transactions is not None:
            return
        elapsed = time.monotonic() - self.began
        self._take_turns(elapsed, progress, f"in its steps before delivery ({step}, {elapsed:.0f} s after its start)")

    @property
    def long(self) -> bool:
        """The run knows more rows than its partner's request limit lets it deliver in its short slice (about one
        request a row, the window unspent): its push cannot end within it, so the short slice would only keep
        fresh pushes waiting."""
        return self.known_rows > self.capacity(self.short_slice_seconds)

    def _take_turns(self, elapsed: float, to_continuations: bool, where: str) -> None:
        """The slice rule, once the run has run ``elapsed`` seconds (of delivery or of steps): from its short
        slice on, or at once when the run is ``long`` (as its continuation would), yield when a fresh job waits
        (and, with ``to_continuations``, after its slice when another push's continuation waits); otherwise go on
        as background work, at a lower CPU priority.

        :raises SliceEnded: with ``where`` as its reason.
        """
        if elapsed < min(self.short_slice_seconds, self.slice_seconds) and not self.long:
            return
        if self.on_slice_end(to_continuations and elapsed >= self.slice_seconds):
            raise SliceEnded(where)
        lower_priority()  # a long run goes on as background work: fresh pushes keep the CPU

    def await_room(self) -> None:
        """Before a sliced continuation's steps: while the partner's request limit has no room for a batch (the
        slice before spent its window), wait here, asking the queues every ``ROOM_WAIT`` seconds, instead of inside
        the steps' own reads (the catalog's and the agreements'), where nothing could take the worker back.

        :raises SliceEnded: a fresh job arrived meanwhile: the run yields before doing anything.
        """
        if not self.slice_seconds:
            return
        while (wait := self.room(self.batch_size)) > ROOM_WAIT:
            if self.on_slice_end(False):
                raise SliceEnded("before its steps (its request limit was spent)")
            self._pause(wait)

    def _pause(self, wait: float) -> None:
        """Wait up to ``ROOM_WAIT`` of ``wait`` seconds for the request limit at a boundary; renew the lease when
        the last renewal is ``BEAT`` seconds old."""
        time.sleep(min(wait, ROOM_WAIT))
        if time.monotonic() - self._beat >= BEAT:
            self.heartbeat()

    def figures(self) -> dict:
        """The run's counts and calls so far, as the run record holds them (the catalog's creates are
        ``catalog_calls``, not ``writes``)."""
        r, calls = self.result, self.psa.call_count if self.psa is not None else 0
        writes, catalog_calls = r.writes, r.catalog_calls
        if self.catalog_base is not None:
            catalog_calls, writes = calls - self.catalog_base[0], self.catalog_base[1]
        return {
            "counts": dict(r.counts),
            "psa_calls": calls,
            "writes": writes,
            "lookups": r.lookups,
            "catalog_calls": catalog_calls,
            "check_calls": r.check_calls,
        }

    def transition(self, item, event: billing.OutboxEvent, detail: str | None = None, /, **values) -> None:
        """Move a row through the domain's state machine and record it, under this run."""
        new = billing.transition(item.state, event)
        OutboxDAO.set_state(item, new.value, event.value, by_run=self.run_id, detail=detail, **values)

    def publish_progress(self, total: int | None = None, final: bool = False) -> None:
        """Done / total / failures so far on the run row and in the job's meta, with the run's counts, calls and
        heartbeat (throttled; joins the caller's transaction). Call it after an outcome is counted, when the lease
        is renewed, once with ``total``, and with ``final`` at the end."""
        self.progress.publish(self.run_id, self.result.counts, total, final, self.figures)
