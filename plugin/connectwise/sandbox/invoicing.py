"""The sandbox's agreement invoicing run: one ``Agreement`` invoice per agreement and calendar month.

A simplified model of ConnectWise's agreement invoicing (❓ inferred; docs/sandbox.md lists
what it leaves out). For the month starting at ``period_start``:

- an agreement is invoiced when it is not cancelled, its billing cycle is monthly (or unset),
  it started on or before the month's last day, it has not ended before the month's first day,
  and it has no ``Agreement`` invoice dated inside the month yet (so a second run adds nothing);
- each ``Billable`` addition overlapping the month adds quantity x unitPrice, prorated by days
  (days active / days in the month, rounded to cents half-up) where it starts or ends inside
  the month; ``effectiveDate`` and ``cancelledDate`` are both days of service;
- each adjustment whose ``effectiveDate`` falls in the month adds its amount;
- the invoice is dated the month's last day, so the existing delete rule (``invoiced_by``)
  sees every addition and adjustment it bills as invoiced.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import records
from .conditions import parse_datetime
from .resources import RESOURCES, Record
from .store import Store

CENT = Decimal("0.01")
DUE_DAYS = 30  # every invoice is due 30 days after its date (billing terms are not modelled)
MONTHLY = "monthly"


@dataclass(frozen=True)
class Period:
    """A calendar month, both ends included."""

    start: date
    end: date

    @classmethod
    def month(cls, start: date) -> Period:
        """The calendar month starting at ``start``.

        :raises ValueError: when ``start`` is not the first day of a month.
        """
        if isinstance(start, datetime) or start.day != 1:
            raise ValueError(f"period_start must be the first day of a month, not {start!r}")
        return cls(start, start.replace(day=calendar.monthrange(start.year, start.month)[1]))

    @property
    def days(self) -> int:
        """Days in the month."""
        return (self.end - self.start).days + 1

    def covers(self, day: date | None) -> bool:
        """True when ``day`` lies in the month."""
        return day is not None and self.start <= day <= self.end


def _day(value: str | None) -> date | None:
    """The UTC date of a stored ConnectWise datetime."""
    return parse_datetime(value).date() if value else None


def _money(value: Decimal) -> Decimal:
    """Rounded to cents, half-up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def addition_amount(addition: Record, period: Period) -> Decimal | None:
    """What a ``Billable`` addition adds to the month's invoice (prorated by days), None when nothing."""
    if addition.get("billCustomer") != "Billable":
        return None
    first = max(_day(addition.get("effectiveDate")) or period.start, period.start)
    last = min(_day(addition.get("cancelledDate")) or period.end, period.end)
    if first > last:
        return None
    full = Decimal(str(addition.get("quantity") or 0)) * Decimal(str(addition.get("unitPrice") or 0))
    return _money(full * ((last - first).days + 1) / period.days)


def adjustment_amount(adjustment: Record, period: Period) -> Decimal | None:
    """An adjustment's amount when its effective date falls in the month, else None."""
    if not period.covers(_day(adjustment.get("effectiveDate"))):
        return None
    return _money(Decimal(str(adjustment.get("amount") or 0)))


def skip_reason(store: Store, account: str, agreement: Record, period: Period) -> str | None:
    """Why the agreement gets no invoice for the month, or None."""
    cycle = ((agreement.get("billingCycle") or {}).get("name") or MONTHLY).lower()
    start, end = _day(agreement.get("startDate")), _day(agreement.get("endDate"))
    if agreement.get("cancelledFlag"):
        return "cancelled"
    if cycle != MONTHLY:
        return f"billing cycle {cycle} is not modelled (monthly only)"
    if start and start > period.end:
        return "not started"
    if end and not agreement.get("noEndingDateFlag") and end < period.start:
        return "ended"
    existing = already_invoiced(store, account, agreement["id"], period)
    return f"already invoiced on {existing.get('invoiceNumber')}" if existing else None


def already_invoiced(store: Store, account: str, agreement_id: int, period: Period) -> Record | None:
    """The agreement's ``Agreement`` invoice dated inside the month, if any."""
    return next(
        (
            inv
            for inv in store.scan(account, "invoices", agreement_id)
            if inv.get("type") == "Agreement" and period.covers(_day(inv.get("date")))
        ),
        None,
    )


def agreement_total(store: Store, account: str, agreement_id: int, period: Period) -> Decimal:
    """Additions (prorated) plus adjustments of the agreement for the month."""
    lines = [addition_amount(a, period) for a in store.scan(account, "additions", agreement_id)]
    lines += [adjustment_amount(a, period) for a in store.scan(account, "adjustments", agreement_id)]
    return _money(sum((x for x in lines if x is not None), Decimal(0)))


def invoice_body(agreement: Record, period: Period, total: Decimal) -> dict[str, Any]:
    """The ``Agreement`` invoice of the agreement for the month (invoice number ``YYYYMM-<agreement id>``)."""
    amount = float(total)
    dated = datetime.combine(period.end, datetime.min.time(), UTC)
    return {
        "invoiceNumber": f"{period.start:%Y%m}-{agreement['id']}",
        "type": "Agreement",
        "company": {"id": (agreement.get("company") or {}).get("id")},
        "agreement": {"id": agreement["id"]},
        "date": dated.isoformat(),
        "dueDate": (dated + timedelta(days=DUE_DAYS)).isoformat(),
        "subtotal": amount,
        "salesTax": 0,
        "total": amount,
        "balance": amount,
        "applyToType": "Agreement",
        "applyToId": agreement["id"],
    }


def run(store: Store, account: str, period_start: date, agreement_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """Invoice the month for the account's agreements (or only ``agreement_ids``), atomically.

    :raises ValueError: when ``period_start`` is not the first day of a month.
    :raises records.NotFound: for an agreement id the account does not have.
    """
    period = Period.month(period_start)
    created, skipped = [], []
    with store.lock:
        for agreement in _agreements(store, account, agreement_ids):
            reason = skip_reason(store, account, agreement, period)
            if reason:
                skipped.append({"agreementId": agreement["id"], "reason": reason})
                continue
            total = agreement_total(store, account, agreement["id"], period)
            body = invoice_body(agreement, period, total)
            created.append(records.create(store, account, RESOURCES["invoices"], body))
    return {
        "periodStart": period.start.isoformat(),
        "periodEnd": period.end.isoformat(),
        "created": created,
        "skipped": skipped,
    }


def _agreements(store: Store, account: str, ids: Iterable[int] | None) -> list[Record]:
    """Every agreement of the account, or the given ones.

    :raises records.NotFound: for an unknown id.
    """
    if ids is None:
        return list(store.scan(account, "agreements"))
    return [records.load(store, account, RESOURCES["agreements"], int(i)) for i in dict.fromkeys(ids)]
