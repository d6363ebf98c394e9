"""The Reconciliation Center page and its list endpoints make a bounded number of SQL queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from msphub_psa import clock
from msphub_psa.commands.reconciliation import MapExactMatchesCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows, next_id, sync_sequence
from msphub_psa.models.directory import PsaCompany
from msphub_psa.models.hub import BillingTransaction, Customer, Product, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from tests.support import tenants
from tests.support.reconciliation import pilot_ready
from tests.support.sql import counting
from tests.support.web import login

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

API = "/api/v1/psa_reconciliation"
URLS = [
    "/psa/reconciliation/",
    f"{API}/summary?period=last_3_months",
    f"{API}/chart",
    f"{API}/customers?state=unmapped&page_size=25",
    f"{API}/customers?state=unmapped&q=co&page_size=10",
    f"{API}/customers?state=mapped&page_size=25",
    f"{API}/companies?page_size=25",
    f"{API}/companies?q=co&page_size=25",
    f"{API}/exact-matches",
]


def query_counts(app, client) -> dict[str, int]:
    """Statements per URL (each warmed up once, so folding new transactions is not counted)."""
    with app.app_context():
        engine = session().get_bind()
    counts = {}
    for url in URLS:
        assert client.get(url).status_code == 200, url
        with counting(engine) as statements:
            assert client.get(url).status_code == 200
        counts[url] = len(statements)
    with app.app_context():
        ids = (
            session()
            .scalars(
                select(Customer.id).where(Customer.partner_id == tenants.pilot().id).order_by(Customer.id).limit(25)
            )
            .all()
        )
    url = f"{API}/suggestions?customer_ids={','.join(map(str, ids))}"
    client.get(url)
    with counting(engine) as statements:
        assert client.get(url).status_code == 200
    counts["suggestions"] = len(statements)
    counts.update(subscription_tab_counts(app, client, engine))
    return counts


def subscription_tab_counts(app, client, engine) -> dict[str, int]:
    """Products / Subscriptions tab: the expanded row, the popups' agreements and the Change preview."""
    with app.app_context():
        mapping = session().scalar(
            select(SubscriptionMapping)
            .where(SubscriptionMapping.partner_id == tenants.pilot().id, SubscriptionMapping.ended_at.is_(None))
            .order_by(SubscriptionMapping.id)
        )
        customer_id, sub_id, agreement_id = mapping.customer_id, mapping.subscription_id, mapping.agreement_id
    counts = {}
    for url in (
        f"{API}/customers/{customer_id}/subscriptions",
        f"{API}/customers/{customer_id}/agreements",
        f"{API}/subscriptions/{sub_id}/remap-preview?agreement_id={agreement_id}&from_date_mode=all",
    ):
        assert client.get(url).status_code == 200, url
        with counting(engine) as statements:
            assert client.get(url).status_code == 200
        counts[url] = len(statements)
    return counts


def grow(partner_id: int, customers: int, per_customer: int = 2) -> None:
    """Add customers, companies (half of them mapped), subscriptions and a transaction each."""
    product = session().scalar(select(Product.id))
    first_customer, first_company = next_id(Customer), next_id(PsaCompany)
    today = clock.today("UTC")
    insert_rows(
        Customer,
        (
            {
                "id": first_customer + i,
                "partner_id": partner_id,
                "external_id": f"QC-{i:07d}",
                "name": f"Query Count Customer {i:05d}",
            }
            for i in range(customers)
        ),
    )
    insert_rows(
        PsaCompany,
        (
            {
                "id": first_company + i,
                "partner_id": partner_id,
                "remote_id": 500000 + i,
                "identifier": f"QC{i}",
                "name": f"Query Count Company {i:05d}",
                "deleted": False,
                "cached_at": clock.now(),
            }
            for i in range(customers)
        ),
    )
    insert_rows(
        CustomerMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": first_customer + i,
                "company_id": first_company + i,
                "method": "manual",
                "created_by": "test",
                "created_at": clock.now(),
            }
            for i in range(0, customers, 2)
        ),
    )
    first_sub, first_tx = next_id(Subscription), next_id(BillingTransaction)
    subs = [
        {
            "id": first_sub + n,
            "partner_id": partner_id,
            "customer_id": first_customer + n // per_customer,
            "product_id": product,
            "external_id": f"QCS-{n:08d}",
            "name": "Sub",
            "quantity": Decimal(1),
            "unit_price": Decimal(10),
            "unit_cost": Decimal(8),
            "status": "active",
            "start_date": today,
        }
        for n in range(customers * per_customer)
    ]
    insert_rows(Subscription, subs)
    insert_rows(
        BillingTransaction,
        (
            {
                "id": first_tx + n,
                "partner_id": partner_id,
                "customer_id": s["customer_id"],
                "subscription_id": s["id"],
                "kind": "charge",
                "period_start": today,
                "period_end": today,
                "quantity": Decimal(1),
                "unit_price": Decimal(10),
                "unit_cost": Decimal(8),
                "amount": Decimal(10),
                "currency": "USD",
            }
            for n, s in enumerate(subs)
        ),
    )
    for model in (Customer, PsaCompany, CustomerMapping, Subscription, BillingTransaction):
        sync_sequence(model)
    session().commit()


def test_same_query_count_for_10_and_5000_customers(app, client, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        MapExactMatchesCommand(actor, partner_id).run()  # so both lists have rows at the small size too
        small = session().scalar(select(func.count(Customer.id)).where(Customer.partner_id == partner_id))
        assert small <= 20
    login(client, "pilot.admin")
    before = query_counts(app, client)
    with app.app_context():
        grow(partner_id, 5000 - small)
        assert session().scalar(select(func.count(Customer.id)).where(Customer.partner_id == partner_id)) == 5000
    after = query_counts(app, client)
    assert after == before
    assert max(before.values()) <= 20, before
