"""The pre-flight checks as pure rules: codes, messages, fixes, the identifier case, the totals' text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from msphub_psa.domain import billing, checks
from msphub_psa.domain.checks import AgreementFacts, ItemFacts

JAN1, JAN31 = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
TODAY = dt.date(2026, 6, 15)


def codes(blocks):
    return [b.code for b in blocks]


@pytest.mark.parametrize(
    ("quantity", "price", "amount", "start", "end", "expected"),
    [
        (D(3), D("10"), D("30"), JAN1, JAN31, []),
        (D(3), D("10"), D("17.10"), JAN1, JAN31, []),  # a proration: above zero, below q x p
        (D(0), D("10"), D("0"), JAN1, JAN31, ["QuantityNotPositive"]),
        (D(-2), D("10"), D("-20"), JAN1, JAN31, ["QuantityNotPositive"]),
        (D(2), D("-1"), D("-2"), JAN1, JAN31, ["UnitPriceNegative"]),
        (D(2), D("10"), D("20"), JAN31, JAN1, ["PeriodEndBeforeStart"]),
        (D(2), D("10"), D("25"), JAN1, JAN31, ["AmountMismatch"]),
        (D(2), D("10"), D("0"), JAN1, JAN31, ["AmountMismatch"]),
        (D(2), D("0"), D("0"), JAN1, JAN31, []),
    ],
)
def test_charge_blocks(quantity, price, amount, start, end, expected):
    assert codes(checks.charge_blocks(quantity, price, amount, start, end)) == expected


def test_every_check_has_a_code_a_cause_a_message_and_a_fix():
    for code, check in checks.CHECKS.items():
        assert check.code == code and check.cause and check.message and check.fix


def test_a_proration_is_what_the_push_carries_exactly():
    pricing = billing.addition_pricing(D(3), D("12.40"), D("20.42"))
    assert pricing.quantity * pricing.unit_price == D("20.42")
    assert checks.charge_blocks(D(3), D("12.40"), D("20.42"), JAN1, JAN31) == []


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (AgreementFacts(7, "A", status="Active"), []),
        (AgreementFacts(7, "A", found=False), ["AgreementNotFound"]),
        (AgreementFacts(7, "A", cancelled=True), ["AgreementCancelled"]),
        (AgreementFacts(7, "A", status="Cancelled"), ["AgreementCancelled"]),
        (AgreementFacts(7, "A", status="Expired"), ["AgreementExpired"]),
        (AgreementFacts(7, "A", status="Inactive"), ["AgreementExpired"]),
        (AgreementFacts(7, "A", end_date=dt.date(2026, 6, 14)), ["AgreementEnded"]),
        (AgreementFacts(7, "A", end_date=TODAY), []),  # ending today is still open
        (AgreementFacts(7, "A", end_date=dt.date(2026, 6, 14), no_ending_date=True), []),
        (AgreementFacts(7, "A", company_deleted=True), ["CompanyDeleted"]),
        (AgreementFacts(7, "A", company_status="Inactive"), ["CompanyInactive"]),
        (AgreementFacts(7, "A", company_status="Active"), []),
    ],
)
def test_agreement_blocks(facts, expected):
    assert codes(checks.agreement_blocks(facts, TODAY)) == expected


def test_agreement_message_names_it_and_the_fix_says_where_to_click():
    (found,) = checks.agreement_blocks(AgreementFacts(7, "Microsoft CSP", cancelled=True), TODAY)
    assert found.message == "Agreement 7 (Microsoft CSP) is cancelled in ConnectWise."
    assert "Finance > Agreements" in found.fix


@pytest.mark.parametrize(
    ("cycle", "frequency", "accepted", "expected"),
    [
        ("Monthly", "monthly", False, None),
        ("Yearly", "monthly", False, "BillingCycleMismatch"),
        ("Yearly", "monthly", True, None),
        ("Monthly", "annual", False, "BillingCycleMismatch"),
        ("Yearly", "annual", False, None),
        (None, "annual", False, None),
        ("Fortnightly", "annual", False, None),  # unknown cycle: never blocks
    ],
)
def test_cycle_block(cycle, frequency, accepted, expected):
    found = checks.cycle_block(AgreementFacts(3, "A", billing_cycle=cycle), frequency, accepted)
    assert (found.code if found else None) == expected


def test_catalog_adopts_only_what_is_ours():
    theirs = ItemFacts(41, "DBX-BUS-STD")
    found = checks.catalog_block("dbx-bus-std", [theirs])
    assert found is not None and found.code == "IdentifierTaken"
    assert "identifier dbx-bus-std taken by catalog item 41" in found.message.casefold()
    alternative = checks.alternative_identifier("dbx-bus-std")
    assert alternative in found.fix and checks.fold(alternative) != checks.fold("dbx-bus-std")
    assert checks.alternative_identifier("dbx-bus-std") == alternative  # deterministic
    assert checks.alternative_identifier("DBX-BUS-STD") != alternative
    assert checks.catalog_block("DBX-BUS-STD", [theirs]) is None  # identical: ours
    assert checks.catalog_block("dbx-bus-std", [theirs], known_ids=[41]) is None  # adopted before: ours
    assert checks.catalog_block("dbx-bus-std", []) is None  # none: created


def test_catalog_inactive_item_of_ours_blocks():
    found = checks.catalog_block("X1", [ItemFacts(5, "X1", inactive=True)])
    assert found is not None and found.code == "CatalogItemInactive"
    assert checks.catalog_block("X1", [ItemFacts(5, "X1"), ItemFacts(6, "x1", inactive=True)]) is None


def test_summary_and_top_causes():
    counts = {"AgreementCancelled": 9, "CatalogItemInactive": 3}
    assert checks.summary(counts) == (
        "12 transactions blocked: 9 agreement cancelled in ConnectWise, 3 catalog item inactive"
    )
    assert checks.summary({}) == ""
    assert [c["code"] for c in checks.top_causes(counts)] == ["AgreementCancelled", "CatalogItemInactive"]


def test_blocked_state_transitions():
    assert billing.transition("pending", "block") == billing.OutboxState.BLOCKED
    assert billing.transition("blocked", "unblock") == billing.OutboxState.PENDING
    assert billing.transition("blocked", "became_ineligible") == billing.OutboxState.SKIPPED
    with pytest.raises(billing.IllegalTransitionError):
        billing.transition("blocked", "attempt")
