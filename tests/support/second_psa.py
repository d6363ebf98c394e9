"""A second PSA for the tests: an in-memory implementation of the PSA port (``msphub_psa.psa.port.PsaClient``)
that shares nothing with ConnectWise — its own ids, its own words for the records ("line", "credit line"), our
reference kept in a field of its own — and faults injected per call, seeded.

The push's exactly-once tests run through it (tests/integration/push/test_push_second_psa.py): what they prove
holds for any adapter that keeps the port's contract, which is what a HaloPSA or Autotask adapter must do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal

from msphub_psa.psa import errors as psa
from msphub_psa.psa.port import LIST_KINDS
from msphub_psa.psa.records import (
    CHARGE,
    CREDIT,
    Agreement,
    AgreementInvoice,
    CatalogItem,
    Charge,
    Company,
    Credit,
    ListEntry,
    Named,
    NewCatalogItem,
    Record,
)

RECORD_NAMES = {CHARGE: "line", CREDIT: "credit line"}
WRITES = ("create_charge", "create_credit", "remove", "create_catalog_item", "create_list_entry")


class Crash(BaseException):
    """The process died here (a SIGKILL in the middle of a call): nothing after it runs, nothing is caught."""


@dataclasses.dataclass
class Faults:
    """What goes wrong, drawn per call from a seeded generator.

    ``transient``: a write fails before it reaches the PSA (a 503, a refused connection); reads are retried
    inside an adapter (the port's contract), so they fail only with ``transient_reads``.
    ``lost_answer``: a write lands but its answer is lost (``outcome_unknown``).
    ``lost_request``: a write may have landed but did not (``outcome_unknown`` too).
    ``crash_after_write``: the N-th write lands, then the process dies (:class:`Crash`).
    ``refuse``: references the PSA refuses (a validation error).
    ``stop``: every call raises :class:`~msphub_psa.psa.errors.RunStopping` (credentials revoked).
    """

    seed: int = 0
    transient: float = 0.0
    transient_reads: float = 0.0
    lost_answer: float = 0.0
    lost_request: float = 0.0
    crash_after_write: int | None = None
    refuse: frozenset[str] = frozenset()
    stop: bool = False


class SecondPsa:
    """The PSA's side: agreements, records, catalog and lists, and a log of every call."""

    def __init__(self, agreements: list[Agreement], companies: list[Company]) -> None:
        self.agreements = {a.id: a for a in agreements}
        self.companies = {c.id: c for c in companies}
        self.records: dict[int, Record] = {}
        self.catalog: dict[int, CatalogItem] = {}
        self.lists: dict[str, list[ListEntry]] = {kind: [] for kind in LIST_KINDS}
        self.calls: list[str] = []
        self.invoices: list[AgreementInvoice] = []
        self.faults = Faults()
        self._rng = random.Random(0)
        self._ids = itertools.count(70_001)
        self._writes = 0
        self._lock = threading.Lock()

    def set_faults(self, faults: Faults) -> None:
        """Inject ``faults`` from now on."""
        with self._lock:
            self.faults, self._rng, self._writes = faults, random.Random(faults.seed), 0

    def client(self) -> SecondPsaClient:
        """A partner's client on this PSA (what the adapter's ``open`` returns)."""
        return SecondPsaClient(self)

    # -- what the tests read back ------------------------------------------------------------------------------

    def ours(self, agreement_id: int | None = None) -> Counter:
        """How many records carry each reference (on one agreement, or all)."""
        return Counter(
            r.reference_text for r in self.records.values() if agreement_id is None or r.agreement_id == agreement_id
        )

    def by_reference(self) -> dict[str, Record]:
        """The records by reference (the caller has checked each is alone)."""
        return {r.reference_text: r for r in self.records.values() if r.reference_text}

    # -- the calls, with their faults --------------------------------------------------------------------------

    def call(self, name: str, write: bool) -> tuple[bool, bool]:
        """Log a call and draw its fault: raises before it reaches the PSA, or says (land, answer) for a write."""
        with self._lock:
            self.calls.append(name)
            faults = self.faults
            if faults.stop:
                raise psa.RunStopping("The API member's credentials were revoked.", code="Unauthorized", status=401)
            if self._rng.random() < (faults.transient if write else faults.transient_reads):
                raise psa.Transient("Service unavailable.", code="Unavailable", status=503)
            if not write:
                return True, True
            draw = self._rng.random()
            if draw < faults.lost_answer:
                return True, False
            if draw < faults.lost_answer + faults.lost_request:
                return False, False
            return True, True

    def after_write(self) -> None:
        """Count a landed write; the N-th one kills the process when asked."""
        with self._lock:
            self._writes += 1
            if self.faults.crash_after_write == self._writes:
                raise Crash(f"killed after write {self._writes}")

    def new_id(self) -> int:
        """The next record id."""
        with self._lock:
            return next(self._ids)


class SecondPsaClient:
    """The port (``PsaClient``) over :class:`SecondPsa`."""

    kind = "second"

    def __init__(self, psa_side: SecondPsa) -> None:
        self.side = psa_side
        self._calls = 0

    def __enter__(self) -> SecondPsaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def call_count(self) -> int:
        """Calls made through this client."""
        return self._calls

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """No wait: the double's faults do not depend on time."""
        return 0.0

    def close(self) -> None:
        """Nothing to release."""

    def _call(self, name: str, write: bool = False) -> tuple[bool, bool]:
        self._calls += 1
        return self.side.call(name, write)

    # -- the ledger ----------------------------------------------------------------------------------------------

    def _agreement(self, agreement_id: int) -> Agreement:
        agreement = self.side.agreements.get(agreement_id)
        if agreement is None:
            raise psa.NotFound(f"Contract {agreement_id} does not exist.", code="NotFound", status=404)
        if agreement.cancelled:
            raise psa.Permanent(f"Contract {agreement_id} is cancelled.", code="ContractClosed", status=400)
        return agreement

    def _create(self, name: str, agreement_id: int, record: Record) -> Record:
        land, answer = self._call(name, write=True)
        self._agreement(agreement_id)
        if record.reference_text in self.side.faults.refuse:
            raise psa.Permanent("The line's product is not sold on this contract.", code="Refused", status=400)
        if land:
            self.side.records[record.id] = record
            self.side.after_write()
        if not answer:
            raise psa.Transient("The connection closed before the PSA answered.", outcome_unknown=True)
        return record

    @staticmethod
    def check(record: Charge | Credit) -> None:
        """The PSA's limits, before any call."""
        check(record)

    def create_charge(self, agreement_id: int, charge: Charge) -> Record:
        """A contract line bounded to its period."""
        check(charge)
        record = Record(
            self.side.new_id(),
            CHARGE,
            agreement_id,
            charge.reference,
            catalog_item_id=charge.catalog_item_id,
            quantity=Decimal(charge.quantity),
            unit_price=Decimal(charge.unit_price),
            unit_cost=Decimal(charge.unit_cost),
            amount=Decimal(charge.quantity) * Decimal(charge.unit_price),
            period_start=charge.period_start,
            period_end=charge.period_end,
        )
        return self._create("create_charge", agreement_id, record)

    def create_credit(self, agreement_id: int, credit: Credit) -> Record:
        """A credit line at the period's start."""
        check(credit)
        record = Record(
            self.side.new_id(),
            CREDIT,
            agreement_id,
            credit.reference,
            amount=Decimal(credit.amount),
            period_start=credit.effective_date,
        )
        return self._create("create_credit", agreement_id, record)

    def find_ours(self, agreement_id: int, kind: str, reference: str) -> list[Record]:
        """The agreement's records of ``kind`` whose reference field is ``reference``."""
        self._call("find_ours")
        return [
            r
            for r in self.side.records.values()
            if r.agreement_id == agreement_id and r.kind == kind and r.reference_text == reference
        ]

    def get_record(self, agreement_id: int, kind: str, record_id: int) -> Record:
        """One record by id."""
        self._call("get_record")
        found = self.side.records.get(record_id)
        if found is None or found.agreement_id != agreement_id or found.kind != kind:
            raise psa.NotFound(f"Line {record_id} does not exist.", code="NotFound", status=404)
        return found

    def remove(self, agreement_id: int, kind: str, record_id: int) -> None:
        """Delete one record."""
        land, answer = self._call("remove", write=True)
        found = self.side.records.get(record_id)
        if found is None or found.agreement_id != agreement_id:
            raise psa.NotFound(f"Line {record_id} does not exist.", code="NotFound", status=404)
        if land:
            del self.side.records[record_id]
            self.side.after_write()
        if not answer:
            raise psa.Transient("The connection closed before the PSA answered.", outcome_unknown=True)

    def iter_records(self, agreement_id: int, kind: str) -> Iterator[Record]:
        """The contract's lines of ``kind``, by id, a page of 1,000 per call."""
        lines = sorted(
            (r for r in self.side.records.values() if r.agreement_id == agreement_id and r.kind == kind),
            key=lambda r: r.id,
        )
        for start in range(0, max(len(lines), 1), 1000):
            self._call("iter_records")
            yield from lines[start : start + 1000]

    def iter_agreement_invoices(self, agreement_ids: list[int]) -> Iterator[AgreementInvoice]:
        """The contracts' invoices the test put in ``invoices`` (one call)."""
        self._call("iter_agreement_invoices")
        wanted = set(agreement_ids)
        yield from (i for i in self.side.invoices if i.agreement_id in wanted)

    # -- the catalog ---------------------------------------------------------------------------------------------

    def find_catalog_item(self, identifier: str) -> CatalogItem | None:
        """The item with exactly this identifier."""
        self._call("find_catalog_item")
        return next((i for i in self.side.catalog.values() if i.identifier == identifier), None)

    def create_catalog_item(self, item: NewCatalogItem) -> CatalogItem:
        """A new item."""
        self._call("create_catalog_item", write=True)
        names = {kind: {e.id: e.name for e in self.side.lists[kind]} for kind in LIST_KINDS}
        created = CatalogItem(
            self.side.new_id(),
            item.identifier,
            item.description,
            Named(item.category_id, names["category"].get(item.category_id)),
            Named(item.subcategory_id, names["subcategory"].get(item.subcategory_id)),
            Named(item.type_id, names["type"].get(item.type_id)),
            item.product_class,
        )
        self.side.catalog[created.id] = created
        return created

    def list_entries(self, kind: str) -> list[ListEntry]:
        """One list's entries."""
        self._call("list_entries")
        return list(self.side.lists[kind])

    def create_list_entry(self, kind: str, name: str, category_id: int | None = None) -> ListEntry:
        """A new list entry."""
        self._call("create_list_entry", write=True)
        entry = ListEntry(self.side.new_id(), name, category_id)
        self.side.lists[kind].append(entry)
        return entry

    # -- the directory -------------------------------------------------------------------------------------------

    def iter_companies(self, updated_since: dt.datetime | None = None) -> Iterator[Company]:
        """Every company."""
        self._call("iter_companies")
        yield from self.side.companies.values()

    def iter_agreements(self, updated_since: dt.datetime | None = None) -> Iterator[Agreement]:
        """Every agreement."""
        self._call("iter_agreements")
        yield from self.side.agreements.values()

    def get_agreements(self, ids: Iterable[int]) -> dict[int, Agreement]:
        """Agreements by id (one call)."""
        self._call("get_agreements")
        return {i: self.side.agreements[i] for i in sorted(set(ids)) if i in self.side.agreements}

    def get_companies(self, ids: Iterable[int]) -> dict[int, Company]:
        """Companies by id (one call)."""
        self._call("get_companies")
        return {i: self.side.companies[i] for i in sorted(set(ids)) if i in self.side.companies}

    def find_catalog_items(self, identifiers: Iterable[str]) -> dict[str, list[CatalogItem]]:
        """Items by identifier, compared exactly (this PSA is case-sensitive; one call)."""
        self._call("find_catalog_items")
        return {t: [i for i in self.side.catalog.values() if i.identifier == t] for t in identifiers}


def check(record: Charge | Credit) -> None:
    """What this PSA cannot take: a unit price of a million or more, a credit not below zero."""
    if isinstance(record, Charge):
        if abs(Decimal(record.unit_price)) >= 1_000_000:
            raise psa.Permanent(f"The unit price {record.unit_price} is over the PSA's limit.", code="PayloadError")
    elif Decimal(record.amount) >= 0:
        raise psa.Permanent("A credit line's amount must be negative.", code="PayloadError")
