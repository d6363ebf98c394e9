"""Billing periods, the From Date range, agreement eligibility and auto-association."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msphub_psa.domain.errors import AlreadyMappedError, EmptyFromDateRangeError, FromDateOutOfRangeError
from msphub_psa.domain.periods import (
    NO_ELIGIBLE_AGREEMENT,
    NO_FITTING_AGREEMENT,
    SEVERAL_ELIGIBLE_AGREEMENTS,
    Agreement,
    DateRange,
    Ineligibility,
    Subscription,
    add_months,
    agreement_eligibility,
    auto_association,
    current_period_start,
    cycle_kind,
    from_date_range,
    is_eligible_transaction,
    validate_custom_from_date,
)

TODAY = date(2026, 11, 26)


# --- periods ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, today, expected",
    [
        (date(2026, 1, 15), date(2026, 11, 26), date(2026, 11, 15)),
        (date(2026, 1, 15), date(2026, 11, 14), date(2026, 10, 15)),
        (date(2026, 1, 15), date(2026, 11, 15), date(2026, 11, 15)),
        (date(2026, 1, 31), date(2026, 2, 28), date(2026, 2, 28)),  # day 31 -> last day of February
        (date(2026, 1, 31), date(2026, 2, 27), date(2026, 1, 31)),
        (date(2026, 1, 31), date(2026, 3, 30), date(2026, 2, 28)),  # anchored on 31, not on 28
        (date(2026, 1, 31), date(2026, 3, 31), date(2026, 3, 31)),
        (date(2024, 1, 31), date(2024, 2, 29), date(2024, 2, 29)),  # leap year
        (date(2026, 1, 30), date(2026, 12, 31), date(2026, 12, 30)),
        (date(2025, 12, 15), date(2026, 1, 20), date(2026, 1, 15)),  # across the year end
        (date(2026, 12, 1), date(2026, 11, 26), date(2026, 12, 1)),  # not started: its first period
    ],
)
def test_monthly_period_start(start, today, expected):
    assert current_period_start(start, "monthly", today) == expected


@pytest.mark.parametrize(
    "start, today, expected",
    [
        (date(2024, 6, 15), date(2026, 11, 26), date(2026, 6, 15)),
        (date(2024, 6, 15), date(2026, 6, 14), date(2025, 6, 15)),
        (date(2024, 2, 29), date(2025, 2, 28), date(2025, 2, 28)),  # Feb 29 -> Feb 28 in a common year
        (date(2024, 2, 29), date(2025, 2, 27), date(2024, 2, 29)),
        (date(2024, 2, 29), date(2028, 2, 29), date(2028, 2, 29)),  # and back to Feb 29 in a leap year
        (date(2024, 2, 29), date(2028, 2, 28), date(2027, 2, 28)),
    ],
)
def test_annual_period_start(start, today, expected):
    assert current_period_start(start, "annual", today) == expected


def test_one_time_period_is_the_start():
    assert current_period_start(date(2020, 5, 5), "one_time", TODAY) == date(2020, 5, 5)


def test_unknown_frequency_is_refused():
    with pytest.raises(ValueError):
        current_period_start(date(2020, 5, 5), "weekly", TODAY)


@given(
    st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    st.sampled_from(["monthly", "annual"]),
)
def test_period_start_contains_today(start, today, frequency):
    period = current_period_start(start, frequency, today)
    if today < start:
        assert period == start
        return
    months = 1 if frequency == "monthly" else 12
    k = (period.year - start.year) * 12 + period.month - start.month
    assert start <= period <= today < add_months(start, k + months)
    assert period == add_months(start, k)


# --- From Date --------------------------------------------------------------------------


def test_range_uses_the_later_of_billing_start_and_subscription_start():
    assert from_date_range(date(2026, 3, 1), date(2026, 1, 1), date(2026, 2, 1), TODAY) == DateRange(
        date(2026, 3, 1), TODAY
    )
    assert from_date_range(date(2026, 3, 1), None, date(2026, 5, 1), TODAY) == DateRange(date(2026, 5, 1), TODAY)


def test_range_falls_back_to_the_agreement_start_without_a_billing_start():
    assert from_date_range(None, date(2026, 4, 1), date(2026, 2, 1), TODAY).lower == date(2026, 4, 1)
    assert from_date_range(None, None, date(2026, 2, 1), TODAY).lower == date(2026, 2, 1)


def test_empty_range_is_an_error_that_says_why():
    with pytest.raises(EmptyFromDateRangeError) as caught:
        from_date_range(date(2026, 12, 1), None, date(2026, 1, 1), TODAY)
    assert str(caught.value) == (
        "No From Date is possible yet: the earliest allowed date, 2026-12-01 "
        "(the agreement's billing start date), is after today, 2026-11-26."
    )
    assert caught.value.lower == date(2026, 12, 1)


def test_today_itself_is_allowed():
    assert from_date_range(None, TODAY, TODAY, TODAY) == DateRange(TODAY, TODAY)


def test_custom_from_date_inside_the_range_is_returned():
    allowed = DateRange(date(2026, 1, 1), TODAY)
    assert validate_custom_from_date(date(2026, 1, 1), allowed) == date(2026, 1, 1)
    assert validate_custom_from_date(TODAY, allowed) == TODAY


@pytest.mark.parametrize("day", [date(2025, 12, 31), date(2026, 11, 27)])
def test_custom_from_date_outside_the_range_states_the_range(day):
    with pytest.raises(FromDateOutOfRangeError) as caught:
        validate_custom_from_date(day, DateRange(date(2026, 1, 1), TODAY))
    assert str(caught.value) == "From Date must be between 2026-01-01 and 2026-11-26"
    assert (caught.value.lower, caught.value.upper) == (date(2026, 1, 1), TODAY)


def test_transaction_whose_period_contains_the_from_date_is_eligible():
    assert is_eligible_transaction(date(2026, 3, 31), date(2026, 3, 15))
    assert is_eligible_transaction(date(2026, 3, 15), date(2026, 3, 15))
    assert not is_eligible_transaction(date(2026, 3, 14), date(2026, 3, 15))


# --- eligibility --------------------------------------------------------------------------

SUB = Subscription(id=1, company_id=10, start_date=date(2025, 1, 15), frequency="monthly", currency="USD")


def agreement(**changes):
    """An active monthly USD agreement of company 10, changed as given."""
    values = dict(id=100, company_id=10, start_date=date(2024, 1, 1), billing_cycle="Monthly", currency="USD")
    return Agreement(**{**values, **changes})


@pytest.mark.parametrize(
    "changes, reason",
    [
        (dict(cancelled=True), Ineligibility.CANCELLED),
        (dict(status="Cancelled"), Ineligibility.CANCELLED),
        (dict(status="Expired"), Ineligibility.EXPIRED),
        (dict(status="Inactive"), Ineligibility.INACTIVE),
        (dict(end_date=date(2026, 11, 25)), Ineligibility.ENDED),
        (dict(company_id=11), Ineligibility.OTHER_COMPANY),
        (dict(start_date=date(2026, 12, 1)), Ineligibility.NOT_STARTED),
        (dict(bill_start_date=date(2026, 12, 1)), Ineligibility.NOT_STARTED),
    ],
)
def test_not_eligible_with_a_reason(changes, reason):
    result = agreement_eligibility(agreement(**changes), SUB, TODAY)
    assert not result.eligible and result.reason == reason


def test_ending_today_is_still_eligible_and_no_ending_ignores_the_end_date():
    assert agreement_eligibility(agreement(end_date=TODAY), SUB, TODAY).eligible
    assert agreement_eligibility(agreement(end_date=date(2020, 1, 1), no_ending=True), SUB, TODAY).eligible


@pytest.mark.parametrize(
    "cycle, frequency, fits",
    [
        ("Monthly", "monthly", True),
        ("Annual", "monthly", False),
        ("Quarterly", "monthly", False),
        ("Yearly", "annual", True),
        ("One Time", "annual", True),
        ("Monthly", "annual", False),
        ("Annual", "one_time", True),
        ("Some custom cycle", "monthly", True),
        (None, "annual", True),
    ],
)
def test_cycle_fit(cycle, frequency, fits):
    sub = Subscription(1, 10, date(2025, 1, 1), frequency)
    result = agreement_eligibility(agreement(billing_cycle=cycle), sub, TODAY)
    assert result.eligible and result.fits is fits
    assert (result.warning is None) is fits


def test_cycle_mismatch_warning_text():
    result = agreement_eligibility(agreement(billing_cycle="Quarterly"), SUB, TODAY)
    assert result.warning == "The agreement is billed Quarterly, the subscription monthly."


def test_currency_mismatch_warns_only_when_both_are_known():
    assert (
        agreement_eligibility(agreement(currency="EUR"), SUB, TODAY).warning
        == "The agreement is in EUR, the subscription in USD."
    )
    assert agreement_eligibility(agreement(currency=None), SUB, TODAY).fits
    assert agreement_eligibility(agreement(currency="usd"), SUB, TODAY).fits


def test_cycle_names():
    assert cycle_kind("Yearly") == cycle_kind("annual") == "annual"
    assert cycle_kind("One-Time") == cycle_kind("one time") == "one_time"
    assert cycle_kind("Fortnightly-ish") is None


# --- auto-association ------------------------------------------------------------------------


def test_one_eligible_agreement_is_associated_from_the_current_period():
    result = auto_association(SUB, [agreement(), agreement(id=101, cancelled=True)], TODAY)
    assert result.associate and result.agreement_id == 100
    assert result.from_date == date(2026, 11, 15)
    assert result.reason is None


def test_from_date_is_raised_to_the_agreement_billing_start():
    result = auto_association(SUB, [agreement(bill_start_date=date(2026, 11, 20))], TODAY)
    assert result.from_date == date(2026, 11, 20)


def test_no_eligible_agreement():
    result = auto_association(SUB, [agreement(status="Expired"), agreement(id=2, status="Cancelled")], TODAY)
    assert not result.associate and result.reason == NO_ELIGIBLE_AGREEMENT == "no eligible agreement in ConnectWise"
    assert auto_association(SUB, [], TODAY).reason == NO_ELIGIBLE_AGREEMENT


def test_an_eligible_agreement_that_does_not_fit_is_named_so_not_called_none():
    """The row's reason does not contradict Associate, which offers that agreement with a warning."""
    result = auto_association(SUB, [agreement(status="Expired"), agreement(id=2, billing_cycle="Annual")], TODAY)
    assert not result.associate and result.reason == NO_FITTING_AGREEMENT


def test_several_eligible_agreements():
    result = auto_association(SUB, [agreement(), agreement(id=101)], TODAY)
    assert not result.associate
    assert result.reason == SEVERAL_ELIGIBLE_AGREEMENTS == "several eligible agreements — choose one"


def test_a_mapped_subscription_is_refused():
    mapped = Subscription(1, 10, date(2025, 1, 15), "monthly", mapped_agreement_id=100)
    with pytest.raises(AlreadyMappedError):
        auto_association(mapped, [agreement()], TODAY)
