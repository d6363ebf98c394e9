"""Server time and SQL queries of the Reconciliation Center's indicators and first list pages.

    python benchmarks/reconciliation.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--customers 5000] [--subscriptions-per-customer 20] [--months 12] [--runs 30]

On a fresh database (see ``demo_data.py``): the demo data at the given size, a cached
ConnectWise directory of as many companies as customers (70 % with the customer's exact
name), half of the customers mapped, an active integration. Each endpoint is called once
to warm up (the first call folds every billing transaction into the running totals; that
one-off time is printed), then ``--runs`` times in-process through the WSGI stack as the
pilot's admin: p50/p95 of the server time and the SQL statements per call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port
os.environ.setdefault("SECRET_KEY", "benchmark-secret")
if not os.environ.get("PSA_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["PSA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

from benchmarks.demo_data import fresh_database  # noqa: E402

API = "/api/v1/psa_reconciliation"
ENDPOINTS = {
    "page shell": "/psa/reconciliation/",
    "indicators (all)": f"{API}/summary?period=all",
    "indicators (3 months)": f"{API}/summary?period=last_3_months",
    "monthly chart": f"{API}/chart",
    "unmapped customers p1": f"{API}/customers?state=unmapped&page_size=25",
    "unmapped search p1": f"{API}/customers?state=unmapped&q=dental&page_size=25",
    "mapped customers p1": f"{API}/customers?state=mapped&page_size=25",
    "companies p1": f"{API}/companies?page_size=25",
    "companies search p1": f"{API}/companies?q=dental&page_size=25",
}


def build_directory(partner_id: int) -> None:
    """Cached companies like the customers' names, half the customers mapped, an active integration."""
    import random

    from sqlalchemy import select

    from msphub_psa.clock import now as utcnow
    from msphub_psa.crypto import encrypt_secret
    from msphub_psa.daos.base import session
    from msphub_psa.daos.bulk import insert_rows
    from msphub_psa.models.directory import PsaCompany
    from msphub_psa.models.hub import Customer
    from msphub_psa.models.integration import Integration
    from msphub_psa.models.reconciliation import CustomerMapping

    rng = random.Random(7)
    customers = session().execute(select(Customer.id, Customer.name).where(Customer.partner_id == partner_id)).all()
    now = utcnow()
    insert_rows(
        PsaCompany,
        (
            {
                "id": i + 1,
                "partner_id": partner_id,
                "remote_id": i + 1,
                "identifier": f"C{i + 1}",
                "name": name if rng.random() < 0.7 else f"{name} Holdings {i}",
                "deleted": False,
                "cached_at": now,
            }
            for i, (_, name) in enumerate(customers)
        ),
    )
    insert_rows(
        CustomerMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": cid,
                "company_id": i + 1,
                "method": "manual",
                "created_by": "benchmark",
                "created_at": now,
            }
            for i, (cid, _) in enumerate(customers)
            if i % 2 == 0
        ),
    )
    session().add(
        Integration(
            partner_id=partner_id,
            status="active",
            client_id="bench",
            company_name="bench",
            public_key="bench",
            private_key_encrypted=encrypt_secret("bench"),
            api_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0/",
            activated_at=now,
        )
    )
    session().commit()


def subscription_tab_endpoints(partner_id: int) -> dict[str, str]:
    """Products / Subscriptions tab: two agreements on a mapped customer's company, one subscription mapped."""
    import datetime as dt

    from sqlalchemy import select

    from msphub_psa.daos.base import session
    from msphub_psa.models.directory import PsaAgreement
    from msphub_psa.models.hub import Subscription
    from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping

    mapping = session().scalar(
        select(CustomerMapping).where(CustomerMapping.partner_id == partner_id).order_by(CustomerMapping.id)
    )
    agreements = [
        PsaAgreement(
            partner_id=partner_id,
            remote_id=10_000_000 + i,
            name=f"Bench Monthly {i}",
            company_id=mapping.company_id,
            agreement_status="Active",
            billing_cycle="Monthly",
            start_date=dt.date(2020, 1, 1),
            bill_start_date=dt.date(2020, 1, 1),
            no_ending_date=True,
        )
        for i in range(2)
    ]
    session().add_all(agreements)
    sub = session().scalar(
        select(Subscription).where(Subscription.customer_id == mapping.customer_id).order_by(Subscription.id)
    )
    session().flush()
    session().add(
        SubscriptionMapping(
            partner_id=partner_id,
            customer_id=mapping.customer_id,
            subscription_id=sub.id,
            agreement_id=agreements[0].id,
            from_date_mode="all",
            from_date=sub.start_date,
            created_by="benchmark",
        )
    )
    session().commit()
    return {
        "customer's subscriptions": f"{API}/customers/{mapping.customer_id}/subscriptions",
        "popup agreements": f"{API}/customers/{mapping.customer_id}/agreements",
        "change preview": f"{API}/subscriptions/{sub.id}/remap-preview?agreement_id={agreements[1].id}",
    }


def analyze(app) -> None:
    """Refresh the planner's statistics after the bulk load (autovacuum would, a little later)."""
    from sqlalchemy import text

    with app.app_context():
        session = app.appbuilder.session
        session.execute(text("ANALYZE"))
        session.commit()
        session.remove()


def measure(app, client, runs: int) -> list[tuple[str, float, float, int, float]]:
    """(name, p50 ms, p95 ms, queries, first-call ms) per endpoint."""
    from sqlalchemy import event

    with app.app_context():
        engine = app.appbuilder.session.get_bind()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    results = []
    for name, url in ENDPOINTS.items():
        started = time.perf_counter()
        assert client.get(url).status_code == 200, url
        first = (time.perf_counter() - started) * 1000
        timings, counts = [], []
        for _ in range(runs):
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            counts.append(len(statements))
            assert response.status_code == 200
        timings.sort()
        results.append((name, statistics.median(timings), timings[int(0.95 * (len(timings) - 1))], max(counts), first))
    return results


def main() -> None:
    """Seed, warm up, measure, print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--subscriptions-per-customer", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url, drop = fresh_database(args.database_url)
    try:
        from app import create_app
        from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
        from msphub_psa.demo.catalog import USERS
        from msphub_psa.demo.generate import DemoSize
        from msphub_psa.demo.runner import migrate
        from tests.support import tenants

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            migrate(app)
            ensure_roles()
            started = time.perf_counter()
            summary = SeedDemoDataCommand(
                DemoSize(
                    customers=args.customers,
                    months=args.months,
                    subscriptions_per_customer=args.subscriptions_per_customer,
                ),
                today=dt.date.today(),
            ).run()
            partner_id = tenants.pilot().id
            build_directory(partner_id)
            ENDPOINTS.update(subscription_tab_endpoints(partner_id))
            print(f"seeded {summary.counts} in {time.perf_counter() - started:.0f} s")
        password = next(u[3] for u in USERS if u[0] == "pilot.admin")
        client = app.test_client()
        client.post("/login/", data={"username": "pilot.admin", "password": password})
        started = time.perf_counter()
        assert client.get(f"{API}/summary").status_code == 200
        print(f"first call (folds every transaction into the running totals): {time.perf_counter() - started:.1f} s")
        analyze(app)
        rows = measure(app, client, args.runs)
        print(f"\n{url.split('://')[0]}, {args.customers} customers, {args.runs} runs\n")
        print("| endpoint | p50 ms | p95 ms | SQL statements |")
        print("|---|---:|---:|---:|")
        for name, p50, p95, queries, _ in rows:
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {queries} |")
        with app.app_context():
            app.appbuilder.session.remove()
            app.appbuilder.session.get_bind().dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
