"""The sandbox's agreement invoicing arithmetic: periods, proration by days, half-up cents, eligibility."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from msphub_psa.connectwise.sandbox.invoicing import Period, addition_amount, adjustment_amount

MARCH = Period.month(date(2025, 3, 1))


def addition(start=None, end=None, quantity=2, price="10.00", bill="Billable"):
    """A stored addition."""
    return {
        "billCustomer": bill,
        "quantity": quantity,
        "unitPrice": float(price),
        "effectiveDate": start and f"{start}T00:00:00Z",
        "cancelledDate": end and f"{end}T00:00:00Z",
    }


@pytest.mark.parametrize(
    "start, expected",
    [
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2025, 4, 1), date(2025, 4, 30)),
        (date(2025, 12, 1), date(2025, 12, 31)),
    ],
)
def test_periods_are_calendar_months(start, expected):
    period = Period.month(start)
    assert period.end == expected and period.days == expected.day


@pytest.mark.parametrize("bad", [date(2025, 3, 2), datetime(2025, 3, 1, tzinfo=UTC)])
def test_a_period_starts_on_the_first(bad):
    with pytest.raises(ValueError):
        Period.month(bad)


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (None, None, Decimal("20.00")),  # open on both sides: the whole month
        ("2025-01-15", "2025-06-30", Decimal("20.00")),  # spans the month
        ("2025-03-01", "2025-03-31", Decimal("20.00")),  # exactly the month
        ("2025-03-11", None, Decimal("13.55")),  # 21 of 31 days: 20 x 21 / 31 = 13.548...
        ("2025-02-01", "2025-03-10", Decimal("6.45")),  # 10 of 31 days: 6.451...
        ("2025-03-31", "2025-03-31", Decimal("0.65")),  # one day: 0.645... (half-up)
        ("2025-03-10", "2025-03-09", None),  # ends before it starts: no day
        ("2025-04-01", None, None),
        (None, "2025-02-28", None),  # outside the month
    ],
)
def test_additions_are_prorated_by_days(start, end, expected):
    assert addition_amount(addition(start, end), MARCH) == expected


def test_rounding_is_half_up_to_cents():
    april = Period.month(date(2025, 4, 1))
    assert addition_amount(addition("2025-04-16", None, 1, "1.05"), april) == Decimal("0.53")  # 0.525 exactly
    assert addition_amount(addition(None, None, 3, "7.125"), april) == Decimal("21.38")  # 21.375 exactly


def test_only_billable_additions_count():
    assert addition_amount(addition(bill="DoNotBill"), MARCH) is None
    assert addition_amount(addition(bill="NoCharge"), MARCH) is None
    assert addition_amount(addition(quantity=None), MARCH) == Decimal("0.00")


def test_adjustments_count_in_the_month_of_their_effective_date():
    assert adjustment_amount({"amount": -7.2, "effectiveDate": "2025-03-31T00:00:00Z"}, MARCH) == Decimal("-7.20")
    assert adjustment_amount({"amount": 5, "effectiveDate": "2025-04-01T00:00:00Z"}, MARCH) is None
    assert adjustment_amount({"amount": 5}, MARCH) is None  # no effective date: never invoiced
