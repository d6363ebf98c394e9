"""Time of a billing sync preview on a big partner (no ConnectWise: the catalog counts as synced).

    python benchmarks/preview.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--customers 1000] [--subscriptions-per-customer 20] [--months 12]

On a fresh database: the demo data at the given size, every pilot customer mapped to a cached
company, every subscription to that company's agreement from 2000-01-01 (so every transaction is
eligible), an active integration, the catalog of every product cached as synced. Then, each
timed: the live preview's eligible rows (``PreviewRowsDAO.eligible``) and its totals and first page
(``summarize``: a line built for every row, 20 groups of 20 lines); storing a prepared preview (its groups in page
order with their totals, every transaction with its line's outcome); a page of it computed again from its
transactions as before psa_0006 (``PreviewRowsDAO.of_preview`` + ``summarize``), and read as stored
(``stored_page``: the first, a middle and the last page of 20 groups × 20 lines; median of 5). The first stored page
must equal the recomputed one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port
os.environ.setdefault("SECRET_KEY", "benchmark-secret")
if not os.environ.get("PSA_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["PSA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

from benchmarks.demo_data import fresh_database  # noqa: E402


def map_everything(partner_id: int) -> None:
    """A company and a monthly agreement per customer, all mapped; every product's catalog item synced."""
    from sqlalchemy import select

    from msphub_psa.clock import now as utcnow
    from msphub_psa.crypto import encrypt_secret
    from msphub_psa.daos.base import session
    from msphub_psa.daos.bulk import insert_rows
    from msphub_psa.models.directory import PsaAgreement, PsaCompany
    from msphub_psa.models.hub import Customer, Partner, Product, Subscription
    from msphub_psa.models.integration import Integration
    from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
    from msphub_psa.models.sync import CatalogSync

    now = utcnow()
    customers = session().scalars(select(Customer.id).where(Customer.partner_id == partner_id)).all()
    index = {cid: i + 1 for i, cid in enumerate(customers)}
    insert_rows(
        PsaCompany,
        (
            {
                "id": i,
                "partner_id": partner_id,
                "remote_id": i,
                "identifier": f"C{i}",
                "name": f"C{i}",
                "deleted": False,
                "cached_at": now,
            }
            for i in index.values()
        ),
    )
    insert_rows(
        PsaAgreement,
        (
            {
                "id": i,
                "partner_id": partner_id,
                "remote_id": i,
                "name": f"Monthly {i}",
                "company_id": i,
                "agreement_status": "Active",
                "billing_cycle": "Monthly",
                "cancelled": False,
                "deleted": False,
                "start_date": dt.date(2000, 1, 1),
                "cached_at": now,
            }
            for i in index.values()
        ),
    )
    insert_rows(
        CustomerMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": cid,
                "company_id": i,
                "method": "manual",
                "created_by": "benchmark",
                "created_at": now,
            }
            for cid, i in index.items()
        ),
    )
    subs = (
        session()
        .execute(select(Subscription.id, Subscription.customer_id).where(Subscription.partner_id == partner_id))
        .all()
    )
    insert_rows(
        SubscriptionMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": cid,
                "subscription_id": sid,
                "agreement_id": index[cid],
                "from_date_mode": "custom",
                "from_date": dt.date(2000, 1, 1),
                "active": True,
                "method": "manual",
                "created_by": "benchmark",
                "created_at": now,
            }
            for sid, cid in subs
        ),
    )
    distributor = session().get(Partner, partner_id).distributor_id
    products = session().scalars(select(Product.id).where(Product.distributor_id == distributor)).all()
    insert_rows(
        CatalogSync,
        (
            {
                "partner_id": partner_id,
                "product_id": pid,
                "identifier": f"P{pid}",
                "remote_id": pid,
                "status": "synced",
                "outcome": "adopted",
                "synced_at": now,
            }
            for pid in products
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


def timed(label: str, func):
    """Run ``func``, print its time, return its result."""
    started = time.perf_counter()
    result = func()
    print(f"{label:<52} {time.perf_counter() - started:7.2f} s")
    return result


def best_ms(label: str, func, repeat: int = 5):
    """Run ``func`` ``repeat`` times, print the median and the worst in milliseconds, return its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{label:<52} {times[len(times) // 2]:7.1f} ms (worst {times[-1]:.1f} ms of {repeat})")
    return result


def eligible_count(partner_id: int) -> int:
    """``PreviewRowsDAO.eligible``'s query counted by the database: the floor of any SQL aggregation of it."""
    from sqlalchemy import func, select

    from msphub_psa.daos.base import session
    from msphub_psa.daos.control import _ROW_COLUMNS, _waiting_elsewhere, _with_names
    from msphub_psa.daos.outbox import _eligible_where, _mapped_join, _not_pushed
    from msphub_psa.models.hub import BillingTransaction as Tx

    query = _with_names(_mapped_join(select(*_ROW_COLUMNS).select_from(Tx)))
    query = query.where(Tx.partner_id == partner_id, *_eligible_where(), _not_pushed(), ~_waiting_elsewhere())
    return session().scalar(select(func.count()).select_from(query.subquery()))


def measure(partner_id: int) -> None:
    """The preview's steps, timed, and the peak memory of computing the totals."""
    from msphub_psa.commands.billing.preflight import Checker
    from msphub_psa.commands.billing.preview import (
        CatalogView,
        layout,
        live_summary,
        stored_checker,
        stored_layout,
        stored_page,
        summarize,
    )
    from msphub_psa.daos.base import session
    from msphub_psa.daos.control import AWAITING, PreviewRowsDAO, SyncPreviewDAO, fits_of
    from msphub_psa.daos.outbox import PushDataDAO

    rows = timed("before: live eligible rows (one query)", lambda: PreviewRowsDAO.eligible(partner_id))
    print(f"{'':<52} {len(rows):,} transactions")
    timed("the same query, counted in SQL (no row fetched)", lambda: eligible_count(partner_id))
    session().rollback()
    catalog = CatalogView(
        products={
            str(r.product_pk): {"identifier": f"P{r.product_pk}", "status": "exists", "remote_id": r.product_pk}
            for r in rows
        }
    )
    summary = timed("before: live totals + first page (a line per row)", lambda: summarize(rows, catalog))
    tracemalloc.start()
    summarize(rows, catalog)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{'':<52} {summary['groups']['total']:,} groups; net {summary['totals']['net']}; "
        f"{peak / 2**20:.0f} MiB allocated at peak while summarizing (rows aside)"
    )

    def live():
        buckets = timed("  the plain charges summed in SQL", lambda: PreviewRowsDAO.plain_buckets(partner_id))
        others = timed("  the other rows read", lambda: PreviewRowsDAO.eligible_not_plain(partner_id))
        samples = {b.first_id: b.representative() for b in buckets}
        checker = Checker(fits=fits_of([*samples.values(), *others]))

        def first_rows(groups):
            found = timed("  the page's rows", lambda: PreviewRowsDAO.first_of_groups(partner_id, groups, 20))
            checker.fits.update(fits_of(found))
            return found

        result = timed(
            "  lines, totals and the page",
            lambda: live_summary(buckets, samples, others, catalog, checker, 1, 20, first_rows),
        )
        print(f"{'':<52} {len(buckets):,} buckets of plain charges, {len(others):,} other rows read")
        return result

    fast = timed("after: live totals + first page (SQL sums, page lines)", live)
    reference = summarize(rows, catalog, checker=Checker(fits=PushDataDAO.fits([r.id for r in rows])))
    assert fast == reference, "the live preview differs from a line per row"
    session().rollback()
    laid = timed("prepare: every line, the groups and totals (layout)", lambda: layout(rows, catalog))

    def store():
        preview = SyncPreviewDAO.create(
            partner_id=partner_id,
            source="manual",
            prepared_by="benchmark",
            status=AWAITING,
            totals=laid.totals,
            catalog=catalog.as_dict(),
            lines_stored=True,
        )
        groups, items = stored_layout(laid)
        SyncPreviewDAO.add_groups(preview.id, groups)
        SyncPreviewDAO.add_items(preview.id, items)
        session().commit()
        return preview.id

    preview_id = timed("prepare: store it (the groups, every line's outcome)", store)
    session().expire_all()

    def recomputed():
        stored = PreviewRowsDAO.of_preview(preview_id)
        view = CatalogView.from_dict(SyncPreviewDAO.get(preview_id).catalog)
        return summarize(stored, view, checker=stored_checker(partner_id, view, stored))

    before = timed("before: a page recomputed from its transactions", recomputed)
    session().rollback()
    groups = before["groups"]["total"]
    for label, page in (("first", 1), ("middle", max(groups // 40, 1)), ("last", max((groups + 19) // 20, 1))):

        def read(page=page):
            session().expire_all()
            preview = SyncPreviewDAO.get(preview_id)
            view = CatalogView.from_dict(preview.catalog)
            data = stored_page(preview, page, 20, 20, None, view)
            session().rollback()
            return data

        data = best_ms(f"after: the {label} page of the stored preview (page {page})", read)
        if page == 1:
            assert data == {k: before[k] for k in ("totals", "groups")}, "the stored page differs"


def main() -> None:
    """Seed, map, measure."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--subscriptions-per-customer", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    url, drop = fresh_database(args.database_url)
    try:
        from app import create_app
        from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
        from msphub_psa.demo.generate import DemoSize
        from msphub_psa.demo.runner import migrate
        from msphub_psa.models.tenancy import PartnerFeature

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            migrate(app)
            ensure_roles()
            SeedDemoDataCommand(
                DemoSize(
                    customers=args.customers,
                    subscriptions_per_customer=args.subscriptions_per_customer,
                    months=args.months,
                )
            ).run()
            partner_id = app.appbuilder.session.query(PartnerFeature.partner_id).filter_by(enabled=True).scalar()
            map_everything(partner_id)
            from sqlalchemy import text

            app.appbuilder.session.execute(text("ANALYZE"))  # as autovacuum would, a little later
            app.appbuilder.session.commit()
            print(f"database: {url.split('://')[0]}")
            measure(partner_id)
            app.appbuilder.session.remove()
            app.appbuilder.session.get_bind().dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
