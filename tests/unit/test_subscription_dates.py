"""From Date rules of the Associate / Change popups (plugin/commands/subscriptions.py), without a database."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.commands.subscriptions import allowed_range, domain_agreement, resolve_from_date
from msphub_psa.models.directory import PsaAgreement

TODAY = dt.date(2026, 11, 26)


def agreement(**values):
    """A transient cached agreement."""
    return PsaAgreement(
        **{
            "id": 1,
            "company_id": 5,
            "name": "A",
            "agreement_status": "Active",
            "cancelled": False,
            "no_ending_date": True,
            **values,
        }
    )


def sub(start):
    """Just what the rules read from a subscription."""
    return SimpleNamespace(id=hash(start) % 1000, start_date=start)


def test_range_is_the_latest_lower_bound_of_the_selection_to_today():
    a = agreement(bill_start_date=dt.date(2025, 2, 1), start_date=dt.date(2025, 1, 1))
    allowed = allowed_range(a, [sub(dt.date(2025, 1, 15)), sub(dt.date(2025, 3, 10))], TODAY)
    assert (allowed.lower, allowed.upper) == (dt.date(2025, 3, 10), TODAY)
    assert allowed_range(
        agreement(start_date=dt.date(2025, 4, 1)), [sub(dt.date(2025, 1, 15))], TODAY
    ).lower == dt.date(2025, 4, 1)  # no billing start: the start date counts


def test_all_history_is_each_subscriptions_own_bound_and_custom_is_checked():
    a = agreement(bill_start_date=dt.date(2025, 2, 1))
    early, late = sub(dt.date(2025, 1, 15)), sub(dt.date(2025, 3, 10))
    allowed = allowed_range(a, [early, late], TODAY)
    assert resolve_from_date("all", None, a, early, allowed, TODAY) == dt.date(2025, 2, 1)
    assert resolve_from_date("all", None, a, late, allowed, TODAY) == dt.date(2025, 3, 10)
    assert resolve_from_date("custom", dt.date(2025, 6, 1), a, early, allowed, TODAY) == dt.date(2025, 6, 1)
    with pytest.raises(InvalidInputError, match="From Date must be between 2025-03-10 and 2026-11-26"):
        resolve_from_date("custom", dt.date(2025, 3, 9), a, early, allowed, TODAY)
    with pytest.raises(InvalidInputError, match="From Date must be between"):
        resolve_from_date("custom", TODAY + dt.timedelta(days=1), a, early, allowed, TODAY)
    with pytest.raises(InvalidInputError, match="Choose a custom From Date"):
        resolve_from_date("custom", None, a, early, allowed, TODAY)
    with pytest.raises(InvalidInputError, match="Unknown From Date option"):
        resolve_from_date("auto", None, a, early, allowed, TODAY)


def test_no_date_possible_yet_is_a_clear_400():
    with pytest.raises(InvalidInputError, match="No From Date is possible yet"):
        allowed_range(agreement(bill_start_date=dt.date(2027, 1, 1)), [sub(dt.date(2025, 1, 1))], TODAY)


def test_cached_agreement_as_the_domain_sees_it():
    a = domain_agreement(agreement(billing_cycle="Monthly", agreement_status=None, end_date=dt.date(2030, 1, 1)))
    assert (a.status, a.billing_cycle, a.no_ending, a.currency) == ("Active", "Monthly", True, None)
