"""Generate the demo's marketplace rows, deterministically, without I/O.

Rows are plain dicts with explicit ids (``ids`` gives the first free id of
each table), so millions of them can be bulk-inserted in chunks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from msphub_psa.demo import catalog

CENT = Decimal("0.01")


@dataclass(frozen=True)
class DemoSize:
    """How much to generate."""

    seed: int = 42
    customers: int = 60
    subscriptions_per_customer: int = 3
    months: int = 12
    other_partner_customers: int = 8


def add_months(day: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``day`` moved by ``months``, clamped to the month's end (anchored on ``anchor_day``)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(anchor_day or day.day, last))


def customer_names(rng: random.Random, count: int, special: bool) -> list[str]:
    """Unique realistic company names; the special ones first for the pilot partner."""
    names = list(catalog.SPECIAL_CUSTOMERS) if special else []
    seen = set(names)
    while len(names) < count:
        name = f"{rng.choice(catalog.PREFIXES)} {rng.choice(catalog.TRADES)}{rng.choice(catalog.SUFFIXES)}"
        if name in seen:
            name = f"{name} {len(names)}"
        seen.add(name)
        names.append(name)
    return names[:count]


def periods(start: dt.date, frequency: str, until: dt.date, end: dt.date | None) -> Iterator[tuple[dt.date, dt.date]]:
    """Billing periods of a subscription from its start up to ``until`` (and its end date)."""
    if frequency == "one_time":
        yield start, start
        return
    step = 1 if frequency == "monthly" else 12
    period_start, n = start, 0
    stop = min(until, end) if end else until
    while period_start <= stop:
        n += 1
        next_start = add_months(start, step * n, anchor_day=start.day)
        yield period_start, next_start - dt.timedelta(days=1)
        period_start = next_start


def money(value: Decimal) -> Decimal:
    """Round to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class DemoGenerator:
    """Builds partners' customers, subscriptions and transactions for one seed."""

    def __init__(self, size: DemoSize, today: dt.date):
        self.size = size
        self.today = today
        self.rng = random.Random(size.seed)
        self.window_start = add_months(today.replace(day=1), -(size.months - 1))

    def products(self, distributor_id: int, first_id: int) -> list[dict]:
        """The catalog rows."""
        return [
            {
                "id": first_id + i,
                "distributor_id": distributor_id,
                "publisher": p[0],
                "item_type": p[1],
                "product_id": p[2],
                "title": p[3],
                "billing_term": p[4],
                "billing_frequency": p[5],
            }
            for i, p in enumerate(catalog.PRODUCTS)
        ]

    def customers(self, partner_id: int, count: int, special: bool, first_id: int) -> list[dict]:
        """Customer rows of one partner."""
        return [
            {
                "id": first_id + i,
                "partner_id": partner_id,
                "external_id": f"CUS-{first_id + i:07d}",
                "name": name,
                "created_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            }
            for i, name in enumerate(customer_names(self.rng, count, special))
        ]

    def subscription(self, sub_id: int, customer: dict, product: dict, price: Decimal) -> dict:
        """One subscription row with a random start, quantity and status."""
        rng = self.rng
        start = (
            self.window_start - dt.timedelta(days=rng.randint(0, 540))
            if rng.random() < 0.7
            else self.window_start
            + dt.timedelta(days=rng.randint(0, max(1, (self.today - self.window_start).days - 20)))
        )
        cancelled = rng.random() < 0.08
        end = start + dt.timedelta(days=rng.randint(60, 400)) if cancelled else None
        if end and end >= self.today:
            end, cancelled = None, False
        cost = money(price)
        return {
            "id": sub_id,
            "partner_id": customer["partner_id"],
            "customer_id": customer["id"],
            "product_id": product["id"],
            "external_id": f"SUB-{sub_id:08d}",
            "name": product["title"],
            "quantity": Decimal(rng.choice([1, 1, 2, 3, 5, 5, 10, 12, 15, 25, 40, 50])),
            "unit_price": money(cost * catalog.MARKUP),
            "unit_cost": cost,
            "status": "cancelled" if cancelled else "active",
            "start_date": start,
            "end_date": end,
        }

    def transactions(self, sub: dict, product: dict, currency: str, first_id: int) -> list[dict]:
        """Charges for every period in the window, and now and then a credit."""
        rows = []
        for start, end in periods(sub["start_date"], product["billing_frequency"], self.today, sub["end_date"]):
            if end < self.window_start:
                continue
            rows.append(self._transaction(first_id + len(rows), sub, "charge", start, end, sub["quantity"], currency))
        if rows and self.rng.random() < 0.03:
            last = rows[-1]
            rows.append(
                self._transaction(
                    first_id + len(rows), sub, "credit", last["period_start"], last["period_end"], Decimal(1), currency
                )
            )
        return rows

    @staticmethod
    def _transaction(
        tx_id: int, sub: dict, kind: str, start: dt.date, end: dt.date, quantity: Decimal, currency: str
    ) -> dict:
        """One billing transaction row (credits carry a positive amount)."""
        return {
            "id": tx_id,
            "partner_id": sub["partner_id"],
            "customer_id": sub["customer_id"],
            "subscription_id": sub["id"],
            "kind": kind,
            "period_start": start,
            "period_end": end,
            "quantity": quantity,
            "unit_price": sub["unit_price"],
            "unit_cost": sub["unit_cost"],
            "amount": money(quantity * sub["unit_price"]),
            "currency": currency,
            "created_at": dt.datetime.combine(start, dt.time(6), tzinfo=dt.UTC),
        }

    def book(
        self, customers: list[dict], products: list[dict], currency: str, ids: dict[str, int], per_customer: int
    ) -> Iterator[tuple[list[dict], list[dict]]]:
        """Yield (subscriptions, transactions) per customer, advancing ``ids`` in place."""
        for customer in customers:
            subs, txs = [], []
            for _ in range(per_customer):
                product = self.rng.choice(products)
                price = Decimal(catalog.PRODUCTS[product["id"] - products[0]["id"]][6])
                sub = self.subscription(ids["subscription"], customer, product, price)
                ids["subscription"] += 1
                rows = self.transactions(sub, product, currency, ids["transaction"])
                ids["transaction"] += len(rows)
                subs.append(sub)
                txs.extend(rows)
            yield subs, txs
