"""The typed values of a push: what crosses from the database to the PSA calls and back (no ORM object crosses a
call), and the run's record in memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from msphub_psa.psa.records import Charge, Credit


@dataclass(frozen=True)
class Row:
    """One outbox row claimed for delivery: its record to create, or why none can be built (``error``)."""

    item_id: int
    state: str
    transaction_id: int
    kind: str
    agreement: int | None
    reference: str
    record: Charge | Credit | None = None
    error: str | None = None


@dataclass(frozen=True)
class Removal:
    """One pushed row on its way to another agreement: ours on ``agreement`` (``record_id`` if known) is removed
    when the move is still ``wanted`` (the transaction's mapping points at ``target``)."""

    item_id: int
    transaction_id: int
    kind: str
    agreement: int | None
    record_id: int | None
    reference: str
    target: int | None
    wanted: bool


@dataclass
class Outcome:
    """What delivering one row came to.

    ``state``: ``pushed`` (with ``remote_id``), ``failed`` (the PSA's code and message), ``pending`` (not sent:
    the run stopped first) or ``sending`` (outcome unknown: left for recovery). ``stop``: the run-stopping error
    met while delivering this row, if any.
    """

    state: str
    remote_id: int | None = None
    code: str | None = None
    message: str | None = None
    stop: BaseException | None = None
    foreseen: bool = False  # failed before any call (the adapter's check): not a PSA refusal


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
    check_calls: int = 0
    error: str | None = None

    def as_dict(self) -> dict:
        """JSON form (the job's result)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "counts": dict(self.counts),
            "psa_calls": self.psa_calls,
            "writes": self.writes,
            "lookups": self.lookups,
            "catalog_calls": self.catalog_calls,
            "check_calls": self.check_calls,
            "error": self.error,
        }
