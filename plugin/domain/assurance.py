"""Revenue assurance: what the PSA holds now, compared with what the push sent (docs/billing.md, Revenue
assurance). Pure: the caller reads the PSA and the outbox and hands both over as plain values.

Five kinds of finding, each with the money at stake (a positive amount in the partner's currency):

- ``missing``: a record we pushed is gone (the money: the record's value, no longer billed);
- ``edited``: quantity, unit price, unit cost, dates or product changed by hand (before/after kept;
  the money: the change in the record's value, or the whole value when only dates or product changed);
- ``moved_or_cancelled``: the agreement was cancelled, ended or is gone while our record's period is still
  running, or our record now sits on another agreement (the money: the record's value);
- ``double_billing``: a line without our reference on the same agreement, same product, whose dates overlap
  one of our charges (the money: that line's value);
- ``orphan``: a record with our reference that the ledger does not know, or a second record carrying one of
  our references (the money: its value).

And two about an agreement invoice (``invoice_findings``): ``under_invoiced`` / ``over_invoiced``, when the
invoice's total differs from what the ledger expects for that agreement and month (the money: the difference).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

CHARGE, CREDIT = "charge", "credit"
CHARGE_FIELDS = ("quantity", "unit_price", "unit_cost", "period_start", "period_end", "product")
CREDIT_FIELDS = ("amount", "period_start")


class Code(StrEnum):
    """A finding's kind."""

    MISSING = "missing"
    EDITED = "edited"
    MOVED_OR_CANCELLED = "moved_or_cancelled"
    DOUBLE_BILLING = "double_billing"
    ORPHAN = "orphan"
    UNDER_INVOICED = "under_invoiced"
    OVER_INVOICED = "over_invoiced"


RECORD_CODES = (Code.MISSING, Code.EDITED, Code.MOVED_OR_CANCELLED, Code.DOUBLE_BILLING, Code.ORPHAN)
"""The kinds about a record (the drift figure counts these); the other two are about an invoiced period."""
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """A charge or credit as compared: what we sent, or what the PSA holds.

    ``transaction_id`` is the one our reference names (None: no reference of ours).
    """

    kind: str
    agreement_id: int | None
    transaction_id: int | None
    record_id: int | None = None
    product: int | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    amount: Decimal | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @property
    def value(self) -> Decimal:
        """What the line bills: quantity × unit price for a charge, the amount for a credit."""
        if self.kind == CREDIT:
            return self.amount or Decimal(0)
        return (self.quantity or Decimal(0)) * (self.unit_price or Decimal(0))

    def values(self) -> dict[str, Any]:
        """The compared fields (JSON-ready: dates and decimals as text)."""
        names = CHARGE_FIELDS if self.kind == CHARGE else CREDIT_FIELDS
        return {name: _plain(getattr(self, name)) for name in names}


@dataclass(frozen=True)
class Sent:
    """A pushed outbox row: its transaction, where the PSA record should be, and the record we sent."""

    item_id: int
    transaction_id: int
    reference: str
    agreement_id: int
    record_id: int | None
    line: Line


@dataclass(frozen=True)
class AgreementState:
    """What matters of an agreement: cancelled (and when), its end."""

    id: int
    cancelled: bool = False
    date_cancelled: dt.date | None = None
    end_date: dt.date | None = None
    no_ending_date: bool = False


@dataclass(frozen=True)
class Finding:
    """One drift: its kind, the record, what we sent, what the PSA holds now and the money at stake."""

    code: Code
    key: str
    agreement_id: int | None
    amount: Decimal
    detail: str
    item_id: int | None = None
    transaction_id: int | None = None
    record_id: int | None = None
    sent: dict[str, Any] | None = None
    held: dict[str, Any] | None = None
    changed: tuple[str, ...] = field(default=())


def _plain(value: Any) -> Any:
    """Dates and decimals as text; the rest as is."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def finding_key(code: Code, transaction_id: int | None, record_id: int | None) -> str:
    """A finding's identity across read-backs: its kind, our transaction, the PSA record."""
    return f"{code.value}:{transaction_id or '-'}:{record_id or '-'}"


def compare(
    sent: Iterable[Sent],
    held: Mapping[int, list[Line]],
    agreements: Mapping[int, AgreementState],
    accepted: Mapping[int, dict[str, Any]] | None = None,
    known: Iterable[int] = (),
) -> list[Finding]:
    """Every finding on the agreements read.

    :param sent: the pushed rows.
    :param held: every line the PSA holds, by the agreement it was read from (each agreement holding ours).
    :param agreements: those agreements' states (an agreement absent here is gone from the PSA).
    :param accepted: per transaction id, the PSA's values a person accepted (no longer an edit).
    :param known: every transaction id the ledger has an outbox row for (whatever its state).
    """
    rows = list(sent)
    index = _Index(held)
    findings: list[Finding] = []
    for row in rows:
        findings.extend(_check_row(row, index, agreements, (accepted or {}).get(row.transaction_id)))
    ours = {row.transaction_id: row for row in rows}
    findings.extend(_orphans(index, ours, set(known)))
    findings.extend(_doubles(index, rows))
    return sorted(findings, key=lambda f: (f.code.value, f.agreement_id or 0, f.transaction_id or 0, f.key))


class _Index:
    """The lines read, by reference and by (agreement, record id)."""

    def __init__(self, held: Mapping[int, list[Line]]) -> None:
        self.lines = [line for lines in held.values() for line in lines]
        self.by_reference: dict[int, list[Line]] = {}
        self.by_id: dict[tuple[int | None, str, int | None], Line] = {}
        for line in self.lines:
            if line.transaction_id is not None:
                self.by_reference.setdefault(line.transaction_id, []).append(line)
            self.by_id[(line.agreement_id, line.kind, line.record_id)] = line
        self.claimed: set[tuple[int | None, str, int | None]] = set()

    def claim(self, line: Line) -> None:
        """``line`` is accounted for by one of our rows."""
        self.claimed.add((line.agreement_id, line.kind, line.record_id))

    def is_claimed(self, line: Line) -> bool:
        return (line.agreement_id, line.kind, line.record_id) in self.claimed


def _check_row(
    row: Sent, index: _Index, agreements: Mapping[int, AgreementState], accepted: dict[str, Any] | None
) -> list[Finding]:
    """Findings about one pushed row: missing, moved, edited, cancelled under it."""
    found = _found(row, index)
    if found is None:
        return [_finding(Code.MISSING, row, None, row.line.value, "Our record is no longer in the PSA.")]
    index.claim(found)
    if found.agreement_id != row.agreement_id:
        detail = f"Our record now sits on agreement {found.agreement_id}, not {row.agreement_id}."
        return [_finding(Code.MOVED_OR_CANCELLED, row, found, row.line.value, detail)]
    findings = []
    edit = _edit(row, found, accepted)
    if edit is not None:
        findings.append(edit)
    ended = _ended(row.line, agreements.get(row.agreement_id))
    if ended is not None:
        findings.append(_finding(Code.MOVED_OR_CANCELLED, row, found, found.value, ended))
    return findings


def _found(row: Sent, index: _Index) -> Line | None:
    """The line holding our record: by our reference (the pushed id first), else by its id when the reference
    was edited away."""
    candidates = [line for line in index.by_reference.get(row.transaction_id, []) if line.kind == row.line.kind]
    same = [line for line in candidates if line.record_id == row.record_id]
    if same or candidates:
        return (same or candidates)[0]
    by_id = index.by_id.get((row.agreement_id, row.line.kind, row.record_id))
    return by_id if by_id is not None and by_id.transaction_id is None else None


def _edit(row: Sent, found: Line, accepted: dict[str, Any] | None) -> Finding | None:
    """An ``edited`` finding when the held values differ from those sent (or last accepted)."""
    held = found.values()
    expected = accepted if accepted is not None else row.line.values()
    changed = tuple(name for name in held if held[name] != expected.get(name))
    if found.transaction_id is None:
        changed += ("reference",)
    if not changed:
        return None
    stake = abs(found.value - row.line.value) or abs(row.line.value)
    detail = "Changed in the PSA: " + ", ".join(changed) + "."
    finding = _finding(Code.EDITED, row, found, stake, detail)
    return _with(finding, sent=expected, changed=changed)


def _ended(line: Line, agreement: AgreementState | None) -> str | None:
    """Why our record's period outlives its agreement, or None."""
    end = line.period_end or line.period_start
    if agreement is None:
        return "The agreement is gone from the PSA."
    if agreement.cancelled and (agreement.date_cancelled is None or end is None or agreement.date_cancelled < end):
        when = f" on {agreement.date_cancelled}" if agreement.date_cancelled else ""
        return f"The agreement was cancelled{when} while our record's period runs to {end}."
    if agreement.end_date is not None and not agreement.no_ending_date and end is not None:
        if agreement.end_date < end:
            return f"The agreement ended on {agreement.end_date} while our record's period runs to {end}."
    return None


def _orphans(index: _Index, ours: Mapping[int, Sent], known: set[int]) -> list[Finding]:
    """Lines with our reference that no pushed row accounts for (unknown to the ledger, or a second copy)."""
    findings = []
    for line in index.lines:
        if line.transaction_id is None or index.is_claimed(line) or line.transaction_id in known - set(ours):
            continue
        detail = (
            f"A second record carries our reference MSPHUB-T{line.transaction_id}."
            if line.transaction_id in ours
            else f"MSPHUB-T{line.transaction_id} is not a record of this ledger."
        )
        key = finding_key(Code.ORPHAN, line.transaction_id, line.record_id)
        findings.append(
            Finding(
                Code.ORPHAN,
                key,
                line.agreement_id,
                abs(line.value),
                detail,
                transaction_id=line.transaction_id,
                record_id=line.record_id,
                held=line.values(),
            )
        )
    return findings


def _doubles(index: _Index, rows: list[Sent]) -> list[Finding]:
    """Lines without our reference on an agreement of ours, same product, overlapping one of our charges."""
    charges: dict[tuple[int, int | None], list[Sent]] = {}
    for row in rows:
        if row.line.kind == CHARGE:
            charges.setdefault((row.agreement_id, row.line.product), []).append(row)
    findings = []
    for line in index.lines:
        if line.kind != CHARGE or line.transaction_id is not None or index.is_claimed(line):
            continue
        mine = next(
            (r for r in charges.get((line.agreement_id or 0, line.product), []) if _overlap(r.line, line)), None
        )
        if mine is None:
            continue
        detail = (
            f"A line without our reference, for the same product, overlaps {mine.reference} "
            f"({mine.line.period_start} to {mine.line.period_end})."
        )
        finding = _finding(Code.DOUBLE_BILLING, mine, line, abs(line.value), detail)
        findings.append(_with(finding, key=finding_key(Code.DOUBLE_BILLING, mine.transaction_id, line.record_id)))
    return findings


def _overlap(ours: Line, theirs: Line) -> bool:
    """True when the two lines' dates share a day (an open end runs for ever)."""
    start, end = ours.period_start or dt.date.min, ours.period_end or dt.date.max
    other_start, other_end = theirs.period_start or dt.date.min, theirs.period_end or dt.date.max
    return start <= other_end and other_start <= end


def _finding(code: Code, row: Sent, found: Line | None, amount: Decimal, detail: str) -> Finding:
    """A finding about one of our rows."""
    record_id = found.record_id if found is not None and code == Code.DOUBLE_BILLING else row.record_id
    return Finding(
        code,
        finding_key(code, row.transaction_id, record_id),
        found.agreement_id if found is not None else row.agreement_id,
        abs(amount),
        detail,
        item_id=row.item_id,
        transaction_id=row.transaction_id,
        record_id=found.record_id if found is not None else row.record_id,
        sent=row.line.values(),
        held=found.values() if found is not None else None,
    )


def _with(finding: Finding, **changes: Any) -> Finding:
    """A copy of ``finding`` with ``changes``."""
    values = {name: getattr(finding, name) for name in finding.__dataclass_fields__}
    values.update(changes)
    return Finding(**values)


def drift_total(findings: Iterable[Finding]) -> tuple[int, Decimal]:
    """(records, money at stake) over the record findings among ``findings``."""
    count, total = 0, Decimal(0)
    for finding in findings:
        if finding.code not in RECORD_CODES:
            continue
        count += 1
        total += finding.amount
    return count, total


@dataclass(frozen=True)
class InvoiceSeen:
    """An agreement invoice the PSA made: its agreement, number, date and total."""

    agreement_id: int
    number: str
    date: dt.date
    total: Decimal


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month holding ``day``: (first day, last day)."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def month_amount(line: Line, first: dt.date, last: dt.date) -> Decimal:
    """What ``line`` adds to the month's agreement invoice: a charge by its days of service in the month
    (quantity × unit price × days ÷ days of the month, to the cent, half up), a credit when effective in it."""
    if line.kind == CREDIT:
        inside = line.period_start is not None and first <= line.period_start <= last
        return (line.amount or Decimal(0)).quantize(CENT) if inside else Decimal(0)
    start, end = max(line.period_start or first, first), min(line.period_end or last, last)
    if start > end:
        return Decimal(0)
    days, month_days = (end - start).days + 1, (last - first).days + 1
    return (line.value * days / month_days).quantize(CENT, rounding="ROUND_HALF_UP")


def invoice_findings(
    invoices: Iterable[InvoiceSeen], ours: Mapping[int, list[Line]], theirs: Mapping[int, list[Line]]
) -> list[Finding]:
    """Each invoice whose total differs from the ledger's expectation for its agreement and month: our lines as
    sent, plus the partner's own lines (without our reference) as read back."""
    findings = []
    for invoice in invoices:
        first, last = month_of(invoice.date)
        lines = [*ours.get(invoice.agreement_id, []), *theirs.get(invoice.agreement_id, [])]
        expected = sum((month_amount(line, first, last) for line in lines), Decimal(0))
        difference = invoice.total - expected
        if abs(difference) < CENT:
            continue
        code = Code.UNDER_INVOICED if difference < 0 else Code.OVER_INVOICED
        word = "less" if difference < 0 else "more"
        detail = f"Invoice {invoice.number} for {first:%B %Y} bills {abs(difference)} {word} than MSP Hub expects."
        findings.append(
            Finding(
                code,
                f"{code.value}:{invoice.agreement_id}:{first:%Y%m}",
                invoice.agreement_id,
                abs(difference),
                detail,
                sent={"period_start": first.isoformat(), "period_end": last.isoformat(), "expected": str(expected)},
                held={"invoice": invoice.number, "date": invoice.date.isoformat(), "total": _plain(invoice.total)},
            )
        )
    return findings
