"""Billing periods, the From Date and eligible agreements (docs/billing.md).

Dates are plain ``datetime.date`` values; "today" is always passed in by the caller,
in the partner's timezone, so nothing here reads a clock.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from msphub_psa.domain.errors import AlreadyMappedError, EmptyFromDateRangeError, FromDateOutOfRangeError

NO_ELIGIBLE_AGREEMENT = "no eligible agreement in ConnectWise"
"""Auto-association's reason when no agreement is eligible."""
NO_FITTING_AGREEMENT = "no agreement billed in its cycle or currency — choose one (with a warning)"
"""Auto-association's reason when agreements can take it but none fits its cycle or currency (Associate offers them)."""
SEVERAL_ELIGIBLE_AGREEMENTS = "several eligible agreements — choose one"
"""Auto-association's reason when more than one agreement is eligible."""


class Frequency(StrEnum):
    """How often a subscription is billed in MSP Hub."""

    MONTHLY = "monthly"
    ANNUAL = "annual"
    ONE_TIME = "one_time"


class AgreementStatus(StrEnum):
    """ConnectWise's ``agreementStatus`` values."""

    ACTIVE = "Active"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    INACTIVE = "Inactive"


class Ineligibility(StrEnum):
    """Why an agreement cannot take a subscription's billing (the value is the short text)."""

    OTHER_COMPANY = "other company"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    INACTIVE = "inactive"
    ENDED = "ended"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of dates."""

    lower: date
    upper: date

    def __contains__(self, day: object) -> bool:
        """True when ``day`` lies within the range, bounds included."""
        return isinstance(day, date) and self.lower <= day <= self.upper


@dataclass(frozen=True)
class Agreement:
    """The facts of a ConnectWise agreement that eligibility looks at."""

    id: int
    company_id: int
    cancelled: bool = False
    status: str = AgreementStatus.ACTIVE
    start_date: date | None = None
    end_date: date | None = None
    no_ending: bool = False
    billing_cycle: str | None = None
    currency: str | None = None
    bill_start_date: date | None = None


@dataclass(frozen=True)
class Subscription:
    """A subscription as mapping sees it; ``company_id`` is its customer's ConnectWise company."""

    id: int
    company_id: int | None
    start_date: date
    frequency: str
    currency: str | None = None
    mapped_agreement_id: int | None = None


@dataclass(frozen=True)
class Eligibility:
    """Whether an agreement may take a subscription, and whether it fits (with a warning)."""

    eligible: bool
    reason: Ineligibility | None = None
    fits: bool = True
    warning: str | None = None


@dataclass(frozen=True)
class AutoAssociation:
    """Auto-association's decision: associate (agreement, From Date) or do nothing (reason)."""

    agreement_id: int | None = None
    from_date: date | None = None
    reason: str | None = None

    @property
    def associate(self) -> bool:
        """True when the subscription should be associated."""
        return self.agreement_id is not None


# --- periods ---------------------------------------------------------------------


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by ``months``, its day clamped to the month's last (31 -> 30, 28/29)."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor.day, last_day))


def current_period_start(sub_start: date, frequency: str, today: date) -> date:
    """Start of the billing period containing ``today``, anchored on the subscription start.

    Monthly periods start on the start's day of month (the last day in shorter
    months); annual ones on its anniversary (29 February -> 28 February in common
    years); a one-time subscription has one period, starting at ``sub_start``. Before
    the subscription starts, its first period is the current one.

    :raises ValueError: for an unknown frequency.
    """
    step = {Frequency.MONTHLY: 1, Frequency.ANNUAL: 12, Frequency.ONE_TIME: 0}.get(Frequency(frequency))
    if not step or today <= sub_start:
        return sub_start
    elapsed = (today.year - sub_start.year) * 12 + today.month - sub_start.month
    periods = elapsed // step
    start = add_months(sub_start, periods * step)
    return start if start <= today else add_months(sub_start, (periods - 1) * step)


# --- From Date -------------------------------------------------------------------


def _earliest(agreement_bill_start: date | None, agreement_start: date | None, sub_start: date) -> tuple[date, str]:
    """The lower bound of the From Date and what it comes from."""
    if agreement_bill_start is not None:
        agreement_bound, label = agreement_bill_start, "the agreement's billing start date"
    elif agreement_start is not None:
        agreement_bound, label = agreement_start, "the agreement's start date"
    else:
        return sub_start, "the subscription's start date"
    if sub_start > agreement_bound:
        return sub_start, "the subscription's start date"
    return agreement_bound, label


def from_date_range(
    agreement_bill_start: date | None, agreement_start: date | None, sub_start: date, today: date
) -> DateRange:
    """Allowed From Dates: the later of the agreement's billing start (its start date
    where it has none) and the subscription's start, up to ``today``.

    The lower bound is also the "all history" From Date.

    :raises EmptyFromDateRangeError: when that lower bound is after today.
    """
    lower, label = _earliest(agreement_bill_start, agreement_start, sub_start)
    if lower > today:
        raise EmptyFromDateRangeError(
            f"No From Date is possible yet: the earliest allowed date, {lower.isoformat()} "
            f"({label}), is after today, {today.isoformat()}.",
            lower,
            today,
        )
    return DateRange(lower, today)


def validate_custom_from_date(day: date, allowed: DateRange) -> date:
    """Return ``day`` when it lies within ``allowed``.

    :raises FromDateOutOfRangeError: "From Date must be between <lower> and <upper>".
    """
    if day not in allowed:
        raise FromDateOutOfRangeError(
            f"From Date must be between {allowed.lower.isoformat()} and {allowed.upper.isoformat()}",
            allowed.lower,
            allowed.upper,
        )
    return day


def is_eligible_transaction(period_end: date, from_date: date) -> bool:
    """True when a transaction's period ends on or after the From Date."""
    return period_end >= from_date


# --- eligible agreements -----------------------------------------------------------

_CYCLE_WORDS = {
    "monthly": "monthly",
    "month": "monthly",
    "calendarmonth": "monthly",
    "annual": "annual",
    "annually": "annual",
    "yearly": "annual",
    "year": "annual",
    "contractyear": "annual",
    "calendaryear": "annual",
    "onetime": "one_time",
    "once": "one_time",
    "quarterly": "quarterly",
    "semiannual": "semiannual",
    "semiannually": "semiannual",
    "biannual": "semiannual",
    "biweekly": "biweekly",
    "weekly": "weekly",
    "daily": "daily",
}
_FITTING_CYCLES = {
    Frequency.MONTHLY: {"monthly"},
    Frequency.ANNUAL: {"annual", "one_time"},
    Frequency.ONE_TIME: {"annual", "one_time"},
}


def cycle_kind(billing_cycle: str | None) -> str | None:
    """What a ConnectWise billing cycle name means ("Yearly" -> "annual"), None if unknown."""
    if not billing_cycle:
        return None
    return _CYCLE_WORDS.get(re.sub(r"[\s_\-]+", "", billing_cycle.casefold()))


def _ineligibility(agreement: Agreement, subscription: Subscription, today: date) -> Ineligibility | None:
    """The first reason the agreement cannot take the subscription, or None."""
    if agreement.company_id != subscription.company_id:
        return Ineligibility.OTHER_COMPANY
    if agreement.cancelled or agreement.status == AgreementStatus.CANCELLED:
        return Ineligibility.CANCELLED
    if agreement.status == AgreementStatus.EXPIRED:
        return Ineligibility.EXPIRED
    if agreement.status == AgreementStatus.INACTIVE:
        return Ineligibility.INACTIVE
    if agreement.end_date is not None and not agreement.no_ending and agreement.end_date < today:
        return Ineligibility.ENDED
    billing_start = agreement.bill_start_date or agreement.start_date
    if billing_start is not None and billing_start > today:
        return Ineligibility.NOT_STARTED
    return None


def _fit_warnings(agreement: Agreement, subscription: Subscription) -> list[str]:
    """Warnings where the agreement's cycle or currency does not fit the subscription."""
    warnings = []
    kind = cycle_kind(agreement.billing_cycle)
    frequency = Frequency(subscription.frequency)
    if kind is not None and kind not in _FITTING_CYCLES[frequency]:
        warnings.append(
            f"The agreement is billed {agreement.billing_cycle}, the subscription {frequency.value.replace('_', '-')}."
        )
    ours, theirs = (subscription.currency or "").upper(), (agreement.currency or "").upper()
    if ours and theirs and ours != theirs:
        warnings.append(f"The agreement is in {theirs}, the subscription in {ours}.")
    return warnings


def agreement_eligibility(agreement: Agreement, subscription: Subscription, today: date) -> Eligibility:
    """Whether ``agreement`` may take ``subscription``'s billing, and whether it fits.

    Eligible: same company, not cancelled, not expired or inactive, end date not
    past (an agreement ending today is still eligible), billing already started.
    Fits: cycle monthly <-> monthly, annual <-> annual or one-time, and the same
    currency where both are known; an unknown cycle or currency fits silently. A
    non-fitting agreement may still be chosen by hand, showing ``warning``.
    """
    warnings = _fit_warnings(agreement, subscription)
    return Eligibility(
        eligible=(reason := _ineligibility(agreement, subscription, today)) is None,
        reason=reason,
        fits=not warnings,
        warning=" ".join(warnings) or None,
    )


def auto_association(subscription: Subscription, agreements: Iterable[Agreement], today: date) -> AutoAssociation:
    """Associate an unmapped subscription with its only eligible, fitting agreement.

    The From Date is the start of the current period (never all history), raised
    to the agreement's allowed lower bound where that is later.

    :raises AlreadyMappedError: when the subscription already has a mapping.
    """
    if subscription.mapped_agreement_id is not None:
        raise AlreadyMappedError(
            f"Subscription {subscription.id} is already mapped to agreement "
            f"{subscription.mapped_agreement_id}; auto-association never changes a mapping."
        )
    checks = [(a, agreement_eligibility(a, subscription, today)) for a in agreements]
    candidates = [a for a, e in checks if e.eligible and e.fits]
    if not candidates:
        usable = any(e.eligible for _, e in checks)
        return AutoAssociation(reason=NO_FITTING_AGREEMENT if usable else NO_ELIGIBLE_AGREEMENT)
    if len(candidates) > 1:
        return AutoAssociation(reason=SEVERAL_ELIGIBLE_AGREEMENTS)
    agreement = candidates[0]
    lower, _ = _earliest(agreement.bill_start_date, agreement.start_date, subscription.start_date)
    period_start = current_period_start(subscription.start_date, subscription.frequency, today)
    return AutoAssociation(agreement.id, max(period_start, lower))
