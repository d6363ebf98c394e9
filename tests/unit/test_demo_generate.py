"""The demo generator: deterministic, realistic, and consistent billing periods."""

import datetime as dt
import itertools
from decimal import Decimal

from msphub_psa.demo import catalog
from msphub_psa.demo.generate import DemoGenerator, DemoSize, add_months, customer_names, periods

TODAY = dt.date(2026, 11, 26)


def book(seed=7, customers=30):
    gen = DemoGenerator(DemoSize(seed=seed, customers=customers), TODAY)
    products = gen.products(1, 1)
    custs = gen.customers(1, customers, True, 1)
    ids = {"subscription": 1, "transaction": 1}
    subs, txs = [], []
    for s, t in gen.book(custs, products, "USD", ids, 3):
        subs += s
        txs += t
    return custs, subs, txs


def test_same_seed_same_data_and_other_seed_differs():
    assert book(7) == book(7)
    assert book(7)[1] != book(8)[1]


def test_special_names_are_present_and_names_unique():
    import random

    names = customer_names(random.Random(1), 200, special=True)
    assert names[: len(catalog.SPECIAL_CUSTOMERS)] == catalog.SPECIAL_CUSTOMERS
    assert len(set(names)) == 200


def test_month_end_anchor_clamps():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 1, 31), 2, anchor_day=31) == dt.date(2026, 3, 31)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_monthly_periods_are_contiguous_and_stop_at_the_end_date():
    got = list(periods(dt.date(2026, 1, 31), "monthly", dt.date(2026, 5, 1), dt.date(2026, 4, 15)))
    assert got[0] == (dt.date(2026, 1, 31), dt.date(2026, 2, 27))
    assert all(a[1] + dt.timedelta(days=1) == b[0] for a, b in itertools.pairwise(got))
    assert got[-1][0] <= dt.date(2026, 4, 15)


def test_transactions_are_consistent():
    _custs, subs, txs = book()
    by_id = {s["id"]: s for s in subs}
    assert txs
    for tx in txs:
        sub = by_id[tx["subscription_id"]]
        assert tx["period_end"] >= tx["period_start"]
        assert tx["amount"] == (tx["quantity"] * tx["unit_price"]).quantize(Decimal("0.01"))
        assert tx["amount"] >= 0 and tx["kind"] in ("charge", "credit")
        if sub["end_date"] and tx["kind"] == "charge":
            assert tx["period_start"] <= sub["end_date"]
