"""Revenue assurance's read-back (docs/billing.md, Revenue assurance): read every agreement holding our records
back from the PSA, compare with the outbox's pushed rows, and keep the findings.

Reads only: one call per page of 1,000 additions or adjustments per agreement (concurrently, on
``PSA_PUSH_CONCURRENCY`` threads; no database there), plus the agreements themselves in batched reads. No
transaction is open across a PSA call. Findings are kept by key across read-backs: a person's decision
(ignored, accepted) holds while the PSA holds the same values; an open finding the read-back no longer sees is
``cleared``, a re-created one ``recreated``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.delivery import record_of
from msphub_psa.commands.psa_client import psa_for
from msphub_psa.daos.assurance import ACTIVE, AssuranceDAO
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.domain import assurance
from msphub_psa.domain.assurance import AgreementState, Finding, InvoiceSeen, Line, Sent
from msphub_psa.domain.billing import parse_reference
from msphub_psa.psa import errors as psa
from msphub_psa.psa.port import PsaClient
from msphub_psa.psa.records import CHARGE, CREDIT, Agreement, Charge, Record
from msphub_psa.settings import settings

log = logging.getLogger(__name__)


@dataclass
class Snapshot:
    """What the ledger says, read in one short transaction before any call."""

    run_id: int
    sent: list[Sent]
    known: set[int]
    accepted: dict[int, dict]

    @property
    def agreements(self) -> list[int]:
        """The agreements holding our records."""
        return sorted({row.agreement_id for row in self.sent})


@dataclass
class Reading:
    """What the PSA holds: lines by agreement, agreement states, calls made."""

    held: dict[int, list[Line]] = field(default_factory=dict)
    states: dict[int, AgreementState] = field(default_factory=dict)
    invoices: list[InvoiceSeen] = field(default_factory=list)
    calls: int = 0

    @property
    def records(self) -> int:
        return sum(len(lines) for lines in self.held.values())


def line_of_record(record: Record) -> Line:
    """A PSA record as compared."""
    return Line(
        record.kind,
        record.agreement_id,
        parse_reference(record.reference_text),
        record.id,
        record.catalog_item_id,
        record.quantity,
        record.unit_price,
        record.unit_cost,
        record.amount,
        record.period_start,
        record.period_end,
    )


def sent_of(item, tx, product, synced) -> Sent:
    """A pushed row and the record the push sent for it (rebuilt exactly as the push builds it)."""
    record = record_of(tx, product, synced.remote_id if synced and synced.remote_id else 0, item.reference)
    if isinstance(record, Charge):
        line = Line(
            CHARGE,
            item.agreement_remote_id,
            tx.id,
            item.remote_record_id,
            record.catalog_item_id,
            record.quantity,
            record.unit_price,
            record.unit_cost,
            None,
            record.period_start,
            record.period_end,
        )
    else:
        line = Line(
            CREDIT,
            item.agreement_remote_id,
            tx.id,
            item.remote_record_id,
            amount=record.amount,
            period_start=record.effective_date,
        )
    return Sent(item.id, tx.id, item.reference, item.agreement_remote_id, item.remote_record_id, line)


def state_of(agreement: Agreement) -> AgreementState:
    """An agreement's state as compared."""
    return AgreementState(
        agreement.id, agreement.cancelled, agreement.date_cancelled, agreement.end_date, agreement.no_ending_date
    )


class ReadBackCommand:
    """One read-back of a partner's PSA (the job ``assurance_readback``, or in the process)."""

    def __init__(
        self,
        partner_id: int,
        requested_by: str = "system",
        client: PsaClient | None = None,
        concurrency: int | None = None,
    ):
        self.partner_id, self.requested_by, self._given = int(partner_id), requested_by, client
        self.concurrency = concurrency

    def run(self) -> dict:
        """Read, compare, keep the findings; the run's summary.

        :raises PsaError: the PSA could not be read (the run is recorded ``failed``).
        """
        snapshot = self._load()
        try:
            reading = self.read(snapshot.agreements)
        except psa.PsaError as err:
            self._fail(snapshot.run_id, err)
            raise
        findings = assurance.compare(snapshot.sent, reading.held, reading.states, snapshot.accepted, snapshot.known)
        findings += invoice_findings(snapshot.sent, reading)
        try:
            return self._store(snapshot.run_id, findings, reading, len(snapshot.agreements))
        except IntegrityError:  # a concurrent read-back stored the same new finding first: merge with it
            return self._store(snapshot.run_id, findings, reading, len(snapshot.agreements))

    @transaction
    def _load(self) -> Snapshot:
        """The pushed rows, the ledger's transaction ids, the accepted values; the run recorded."""
        sent = [sent_of(*row) for chunk in AssuranceDAO.pushed_chunks(self.partner_id) for row in chunk]
        sent = [row for row in sent if row.agreement_id is not None]
        run = AssuranceDAO.create_run(partner_id=self.partner_id, requested_by=self.requested_by, status="running")
        return Snapshot(
            run.id, sent, AssuranceDAO.known_transactions(self.partner_id), AssuranceDAO.accepted(self.partner_id)
        )

    def _client(self) -> PsaClient:
        """The partner's PSA (throttled by the partner's shared limit)."""
        if self._given is not None:
            return self._given
        client = psa_for(IntegrationDAO.for_partner(self.partner_id))
        session().rollback()
        return client

    def read(self, agreement_ids: list[int]) -> Reading:
        """Every agreement's additions and adjustments, concurrently; the agreements' states."""
        reading = Reading()
        if not agreement_ids:
            return reading
        client = self._client()
        before = client.call_count
        try:
            with ThreadPoolExecutor(max_workers=self.concurrency or settings().push_concurrency) as pool:
                read = pool.map(lambda a: _lines(client, a), agreement_ids)
                reading.held = dict(zip(agreement_ids, read, strict=True))
            found = client.get_agreements(agreement_ids)
            reading.states = {a: state_of(found[a]) for a in agreement_ids if a in found}
            reading.invoices = [
                InvoiceSeen(i.agreement_id, i.number, i.date, i.total)
                for i in client.iter_agreement_invoices(agreement_ids)
            ]
            reading.calls = client.call_count - before
        finally:
            if self._given is None:
                client.close()
        return reading

    @transaction
    def _fail(self, run_id: int, err: psa.PsaError) -> None:
        """Record a read-back that could not read the PSA."""
        run = AssuranceDAO.run(run_id)
        run.status, run.finished_at, run.error = "failed", clock.now(), f"{err.code}: {err.message}"

    @transaction
    def _store(self, run_id: int, findings: list[Finding], reading: Reading, agreements: int) -> dict:
        """Keep the findings by key (decisions hold), clear what is no longer found, finish the run."""
        existing, seen, new = AssuranceDAO.by_key(self.partner_id), set(), 0
        for finding in findings:
            seen.add(finding.key)
            row = existing.get(finding.key)
            if row is None:
                AssuranceDAO.add(partner_id=self.partner_id, key=finding.key, run_id=run_id, **_values(finding))
                new += 1
            else:
                _refresh(row, finding, run_id)
        for key, row in existing.items():
            if key not in seen and row.status in ACTIVE:
                _settled(row)
        run = AssuranceDAO.run(run_id)
        run.status, run.finished_at = "succeeded", clock.now()
        run.agreements, run.records, run.psa_calls = agreements, reading.records, reading.calls
        run.counts = dict(Counter(f.code.value for f in findings))
        session().flush()
        return {**run_json(run), "new": new}


def invoice_findings(sent: list[Sent], reading: Reading) -> list[Finding]:
    """Invoices of months holding some of our records, against our lines as sent plus the partner's own lines."""
    ours: dict[int, list[Line]] = {}
    months: set[tuple[int, object]] = set()
    for row in sent:
        ours.setdefault(row.agreement_id, []).append(row.line)
        months.update((row.agreement_id, first) for first in _months(row.line))
    theirs = {a: [line for line in lines if line.transaction_id is None] for a, lines in reading.held.items()}
    invoices = [i for i in reading.invoices if (i.agreement_id, assurance.month_of(i.date)[0]) in months]
    return assurance.invoice_findings(invoices, ours, theirs)


def _months(line: Line) -> list:
    """The first days of the calendar months a line of ours bills in."""
    start = line.period_start
    if start is None:
        return []
    end = line.period_end or start
    first, months = assurance.month_of(start)[0], []
    while first <= end and len(months) < 120:
        months.append(first)
        first = assurance.month_of(assurance.month_of(first)[1] + dt.timedelta(days=1))[0]
    return months


def _lines(client: PsaClient, agreement_id: int) -> list[Line]:
    """One agreement's records, additions then adjustments (a call per page of 1,000)."""
    return [line_of_record(r) for kind in (CHARGE, CREDIT) for r in client.iter_records(agreement_id, kind)]


def _values(finding: Finding) -> dict:
    """A finding's columns."""
    return {
        "code": finding.code.value,
        "status": "open",
        "agreement_remote_id": finding.agreement_id,
        "item_id": finding.item_id,
        "transaction_id": finding.transaction_id,
        "record_id": finding.record_id,
        "sent": finding.sent,
        "held": finding.held,
        "amount": finding.amount,
        "detail": finding.detail,
    }


def _refresh(row, finding: Finding, run_id: int) -> None:
    """A finding seen again: its values now; a decision holds while the PSA holds what was decided on."""
    decided_on = row.held
    for name, value in _values(finding).items():
        if name != "status":
            setattr(row, name, value)
    row.last_seen_at, row.run_id = clock.now(), run_id
    if row.status == "ignored" and decided_on == finding.held:
        return
    if row.status != "recreating":
        row.status, row.resolved_by, row.resolved_at, row.reason = "open", None, None, None


def _settled(row) -> None:
    """A finding the read-back no longer sees: cleared, or recreated when a re-create was asked."""
    row.status = "recreated" if row.status == "recreating" else "cleared"
    if row.resolved_at is None:
        row.resolved_by, row.resolved_at = "system", clock.now()
        row.reason = "No longer found by the read-back."


def run_json(run) -> dict:
    """A read-back run as JSON."""
    return {
        "run_id": run.id,
        "status": run.status,
        "requested_by": run.requested_by,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "agreements": run.agreements,
        "records": run.records,
        "psa_calls": run.psa_calls,
        "counts": run.counts or {},
        "error": run.error,
    }
