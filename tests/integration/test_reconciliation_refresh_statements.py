"""A directory refresh makes a number of SQL statements that does not grow with the directory: a fixed part
(the state, the exact-name mappings, the auto-associations, their audit events, the running totals) plus a
fixed number per page of 1,000 records read from the PSA."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from msphub_psa import clock
from msphub_psa.commands.directory import PAGE, RefreshDirectoryCommand
from msphub_psa.commands.reconciliation import current_totals
from msphub_psa.connectwise.sandbox import seed as cw_seed
from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows, next_id, sync_sequence
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction, Customer, Product, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, RevenueMonth, SubscriptionMapping
from tests.support.reconciliation import pilot_ready
from tests.support.sql import counting

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

PER_PAGE = 4
"""A page of new records: the state row read, the page's existing ids read, the insert, the progress update."""
SUBSCRIPTIONS = 2


def name(number: int) -> str:
    """The customer's and its company's (exact) name."""
    return f"Statement Count Customer {number:05d}"


def add_customers(partner_id: int, first: int, last: int) -> None:
    """Customers ``first``..``last - 1`` with two monthly subscriptions and a charge each."""
    product = session().scalar(select(Product.id).where(Product.billing_frequency == "monthly").order_by(Product.id))
    customer_id, sub_id, tx_id = next_id(Customer), next_id(Subscription), next_id(BillingTransaction)
    customers, subscriptions, charges = [], [], []
    today = clock.today("UTC")
    for number in range(first, last):
        customers.append(
            {"id": customer_id, "partner_id": partner_id, "external_id": f"SC-{number:05d}", "name": name(number)}
        )
        for _ in range(SUBSCRIPTIONS):
            subscriptions.append(
                {
                    "id": sub_id,
                    "partner_id": partner_id,
                    "customer_id": customer_id,
                    "product_id": product,
                    "external_id": f"SCS-{sub_id:08d}",
                    "name": "Sub",
                    "quantity": Decimal(1),
                    "unit_price": Decimal(10),
                    "unit_cost": Decimal(8),
                    "status": "active",
                    "start_date": today.replace(day=1),
                }
            )
            charges.append(
                {
                    "id": tx_id,
                    "partner_id": partner_id,
                    "customer_id": customer_id,
                    "subscription_id": sub_id,
                    "kind": "charge",
                    "period_start": today.replace(day=1),
                    "period_end": today,
                    "quantity": Decimal(1),
                    "unit_price": Decimal(10),
                    "unit_cost": Decimal(8),
                    "amount": Decimal(10),
                    "currency": "USD",
                }
            )
            sub_id, tx_id = sub_id + 1, tx_id + 1
        customer_id += 1
    for model, rows in ((Customer, customers), (Subscription, subscriptions), (BillingTransaction, charges)):
        insert_rows(model, rows)
        sync_sequence(model)
    session().commit()


def seed_companies(cw_live, count: int) -> None:
    """The sandbox's demo account with exactly ``count`` companies (the customers' names) and their agreements."""
    demo, other = cw_seed.default_seed()["accounts"]
    companies = [cw_seed.company(number, name(number)) for number in range(1, count + 1)]
    agreements = cw_seed.default_agreements([c["id"] for c in companies])
    default = cw_live.sandbox.seed
    cw_live.sandbox.reset({"accounts": [{**demo, "companies": companies, "agreements": agreements}, other]})
    cw_live.sandbox.seed = default  # the next test's ``cw_live`` resets to the default seed again


def forget_directory(partner_id: int) -> None:
    """Back to a partner whose directory was never read: no cached rows, no mappings, no totals."""
    for model in (SubscriptionMapping, CustomerMapping, RevenueMonth, PsaAgreement, PsaCompany):
        session().execute(delete(model).where(model.partner_id == partner_id))
    session().commit()


def refresh(cw_live, partner_id: int, actor, companies: int) -> tuple[int, int, dict]:
    """A full refresh of ``companies`` companies: (statements, pages of records, result)."""
    seed_companies(cw_live, companies)
    current_totals(partner_id)  # the page folds new charges when it opens; the refresh finds none
    agreements = len(cw_live.state("agreements"))
    with counting(session().get_bind()) as statements:
        result = RefreshDirectoryCommand(actor, partner_id, full=True).run()
    assert (result["companies"], result["agreements"], result["exact_mapped"]) == (companies, agreements, companies)
    mapped = session().scalar(
        select(func.count(SubscriptionMapping.id)).where(
            SubscriptionMapping.partner_id == partner_id, SubscriptionMapping.ended_at.is_(None)
        )
    )
    assert mapped == companies * SUBSCRIPTIONS  # each subscription fits its company's one monthly agreement
    return len(statements), math.ceil(companies / PAGE) + math.ceil(agreements / PAGE), result


def test_refresh_statements_grow_by_pages_only(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live, refresh=False)
        add_customers(partner_id, 1, 51)
        small, small_pages, _ = refresh(cw_live, partner_id, actor, 50)
        forget_directory(partner_id)
        add_customers(partner_id, 51, 2001)
        large, large_pages, result = refresh(cw_live, partner_id, actor, 2000)
        assert result["inserted"] == result["companies"] + result["agreements"]
        assert (small_pages, large_pages) == (2, 7)
        assert large - small == PER_PAGE * (large_pages - small_pages), (small, large)
        assert small <= 70, small
