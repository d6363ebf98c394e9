"""The catalog step's reads, counted in the sandbox's request log: identifiers are looked up in batched
``identifier in (...)`` reads (ConnectWise compares them ignoring case), at most one read per 25 identifiers; and an
approved preview's push, soon after the preview, does not read again what the preview read."""

from __future__ import annotations

import datetime as dt
from math import ceil

import pytest
import time_machine
from sqlalchemy import func, select

from msphub_psa import clock
from msphub_psa.commands.billing.catalog import READ_FRESH_FOR, CatalogSync
from msphub_psa.commands.billing.preview import ApprovePreviewCommand, PreparePreviewCommand, _no_create
from msphub_psa.commands.psa_client import psa_for
from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows, next_id, sync_sequence
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.outbox import PushDataDAO
from msphub_psa.domain import billing
from msphub_psa.models.hub import BillingTransaction, Partner, Product, Subscription
from msphub_psa.models.sync import CatalogSync as CatalogRow
from tests.integration.preflight.sandbox import last_seq
from tests.support.control import preview_row
from tests.support.push import add_history, expected_transactions, items, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

PRODUCTS = 1_000


def _catalog_gets(cw_live, since: int) -> list[dict]:
    """The catalog's reads (items, categories, subcategories, types) the sandbox received after ``since``."""
    return [r for r in cw_live.requests(since) if r["method"] == "GET" and "/procurement/" in r["path"]]


def _item_reads(cw_live, since: int) -> list[dict]:
    """The reads of catalog items by identifier after ``since``."""
    return [r for r in _catalog_gets(cw_live, since) if r["path"].rstrip("/").endswith("/procurement/catalog")]


def _columns(model) -> list[str]:
    return [c.key for c in model.__table__.columns if c.key != "id"]


def _many_products(partner_id: int, customer_id: int, count: int) -> list[int]:
    """``count`` new products of the partner's distributor (product ids of 20 to 56 characters), a subscription of
    ``customer_id`` and a transaction each; the transactions' ids."""
    distributor = session().get(Partner, partner_id).distributor_id
    product = session().scalar(select(Product).where(Product.distributor_id == distributor).limit(1))
    sub = session().scalar(select(Subscription).where(Subscription.customer_id == customer_id).limit(1))
    tx = session().scalar(select(BillingTransaction).where(BillingTransaction.subscription_id == sub.id).limit(1))
    first_product, first_sub, first_tx = next_id(Product), next_id(Subscription), next_id(BillingTransaction)
    padding = "CFQ7TTC0LH18-P1Y-M-ENTERPRISE-ADDON-EXTENDED-SECURITY"
    insert_rows(
        Product,
        (
            {
                **{c: getattr(product, c) for c in _columns(Product)},
                "id": first_product + i,
                "product_id": f"SKU{i:05d}-" + padding[: (i * 7) % len(padding)],
            }
            for i in range(count)
        ),
    )
    insert_rows(
        Subscription,
        (
            {
                **{c: getattr(sub, c) for c in _columns(Subscription)},
                "id": first_sub + i,
                "external_id": f"SUB-CATALOG-{i:05d}",
                "product_id": first_product + i,
            }
            for i in range(count)
        ),
    )
    insert_rows(
        BillingTransaction,
        (
            {
                **{c: getattr(tx, c) for c in _columns(BillingTransaction)},
                "id": first_tx + i,
                "subscription_id": first_sub + i,
            }
            for i in range(count)
        ),
    )
    for model in (Product, Subscription, BillingTransaction):
        sync_sequence(model)
    session().commit()
    return list(range(first_tx, first_tx + count))


def test_a_thousand_products_are_looked_up_in_batches_ignoring_case(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    tx_ids = _many_products(partner_id, customers[0], PRODUCTS)
    products = PushDataDAO.products_of(tx_ids)
    distributor = session().get(Partner, partner_id).distributor_id
    keys = billing.catalog_identifiers(PushDataDAO.distributor_product_keys(distributor))
    identifier = {p.id: keys[(p.product_id, p.billing_term, p.billing_frequency)] for p in products}
    assert len(products) == PRODUCTS and max(len(i) for i in identifier.values()) > 50
    exact, twins = products[:300:3], products[1:300:3]  # in ConnectWise already: ours, and another's (case differs)
    template = dict(cw_live.state("catalog")[0])
    for product in exact + twins:
        text = identifier[product.id] if product in exact else identifier[product.id].lower()
        cw_live.sandbox.store.insert(cw_live.company_id, "catalog", {**template, "id": None, "identifier": text})
    client = psa_for(IntegrationDAO.for_partner(partner_id))
    session().rollback()
    since = last_seq(cw_live)

    sync = CatalogSync(partner_id, client, _no_create, dry_run=True)
    found = sync.ensure(tx_ids)

    reads = _item_reads(cw_live, since)
    assert 1 <= len(reads) <= ceil(PRODUCTS / 25), len(reads)
    assert all(len(r["path"]) + len(r["query"]) < 2000 for r in reads)  # within ConnectWise's URL limit
    assert all(r["status"] == 200 for r in reads)
    assert {e["product_id"] for e in sync.plan.adopt} == {p.id for p in exact}
    assert all(found[p.id] for p in exact)
    assert {pid for pid, block in sync.blocks.items() if block.code == "IdentifierTaken"} == {p.id for p in twins}
    assert {e["product_id"] for e in sync.plan.create} == {p.id for p in products[300:]} | {
        p.id for p in products[2:300:3]
    }
    print(f"catalog item reads for {PRODUCTS} products: {len(reads)}")


def _prepare_and_approve(actor, partner_id: int, cw_live) -> tuple[int, int, dict]:
    """Prepare a preview, approve all of it and push here; (log position before the preview, before the push, the
    push's result)."""
    prepared_from = last_seq(cw_live)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    pushed_from = last_seq(cw_live)
    return prepared_from, pushed_from, ApprovePreviewCommand(actor, preview_id, partner_id).run_inline()


def test_an_approved_previews_push_does_not_read_the_catalog_the_preview_read(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    before = {c["identifier"] for c in cw_live.state("catalog")}

    # a fresh sandbox: the preview plans items and list values to create; the push creates them without reading
    prepared_from, pushed_from, result = _prepare_and_approve(actor, partner_id, cw_live)
    preview_reads = [r for r in _catalog_gets(cw_live, prepared_from) if r["seq"] <= pushed_from]
    assert _item_reads(cw_live, prepared_from) and len(preview_reads) > 1  # items, and the lists
    assert result["status"] == "succeeded" and result["counts"]["pushed"] == len(expected_transactions(customers))
    assert _catalog_gets(cw_live, pushed_from) == []
    identifiers = [c["identifier"] for c in cw_live.state("catalog")]
    assert len(identifiers) == len(set(identifiers)) > len(before)  # each item created once
    assert {i.state for i in items(partner_id)} == {"pushed"}

    # products cached now: the next preview reads their items, its push reads nothing of the catalog
    add_history(partner_id, customers, len(expected_transactions(customers)) + 6)
    prepared_from, pushed_from, result = _prepare_and_approve(actor, partner_id, cw_live)
    assert _item_reads(cw_live, prepared_from) and result["status"] == "succeeded"
    assert result["counts"]["pushed"] == 6 and _catalog_gets(cw_live, pushed_from) == []
    held = [c["identifier"] for c in cw_live.state("catalog")]  # on some dates the new history adds a product
    now_held = set(held)
    assert len(held) == len(now_held)  # still each item once
    assert session().scalar(select(func.count()).select_from(CatalogRow)) == len(now_held - before)


def test_a_preview_older_than_the_bound_is_read_again_by_its_push(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    assert preview_row(preview_id).catalog_read["absent"]  # the items it plans to create
    with time_machine.travel(clock.now() + READ_FRESH_FOR + dt.timedelta(minutes=1), tick=True):
        since = last_seq(cw_live)
        result = ApprovePreviewCommand(actor, preview_id, partner_id).run_inline()
    assert result["status"] == "succeeded" and _item_reads(cw_live, since)  # too old: read first, as any push
    identifiers = [c["identifier"] for c in cw_live.state("catalog")]
    assert len(identifiers) == len(set(identifiers))
