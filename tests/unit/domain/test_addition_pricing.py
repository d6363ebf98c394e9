"""addition_pricing: the addition always bills MSP Hub's exact amount."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from msphub_psa.domain.billing import addition_pricing


def test_full_period_keeps_quantity_and_resale_price():
    p = addition_pricing(D(5), D("12.40"), D("62.00"))
    assert (p.quantity, p.unit_price, p.prorated, p.note) == (D(5), D("12.40"), False, "")


def test_prorated_exact_division_keeps_the_seats():
    p = addition_pricing(D(4), D(5), D(10))
    assert (p.quantity, p.unit_price, p.prorated) == (D(4), D("2.5"), True)


def test_prorated_inexact_division_bills_one_at_the_amount_and_names_the_seats():
    p = addition_pricing(D(3), D(5), D(10))
    assert (p.quantity, p.unit_price, p.note) == (D(1), D(10), "prorated, 3 × 5")


def test_zero_quantity_with_an_amount():
    p = addition_pricing(D(0), D(5), D("2.00"))
    assert p.quantity * p.unit_price == D("2.00")


@given(st.integers(0, 500), st.decimals("0.01", "999.99", places=2), st.decimals("-999.99", "99999.99", places=2))
def test_quantity_times_unit_price_is_always_the_amount(quantity, price, amount):
    p = addition_pricing(D(quantity), price, amount)
    assert p.quantity * p.unit_price == amount
