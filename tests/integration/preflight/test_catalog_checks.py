"""Pre-flight checks of the catalog, against the sandbox over HTTP: an inactive item of ours, and an identifier held
by another product's item (ConnectWise compares identifiers ignoring case). No charge is ever posted on another
product's item; the blocked charges cost no call, and go with the next push once the cause is fixed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreviewCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import PushDataDAO
from msphub_psa.domain import billing, checks
from msphub_psa.models.hub import BillingTransaction, Partner, Product, Subscription
from msphub_psa.models.sync import CatalogSync
from tests.integration.preflight.sandbox import creates, edit, last_seq, put_back
from tests.support.push import cw_records, expected_transactions, items, push_setup


def _product_of(tx) -> Product:
    sub = session().get(Subscription, tx.subscription_id)
    return session().get(Product, sub.product_id)


def _identifier(partner_id: int, product: Product) -> str:
    distributor = session().get(Partner, partner_id).distributor_id
    keys = billing.catalog_identifiers(PushDataDAO.distributor_product_keys(distributor))
    return keys[(product.product_id, product.billing_term, product.billing_frequency)]


def _charge(tx, month: int) -> BillingTransaction:
    new = BillingTransaction(
        partner_id=tx.partner_id,
        customer_id=tx.customer_id,
        subscription_id=tx.subscription_id,
        kind="charge",
        period_start=dt.date(2027, month, 1),
        period_end=dt.date(2027, month, 28),
        quantity=Decimal(2),
        unit_price=Decimal("10.00"),
        unit_cost=Decimal(9),
        amount=Decimal("20.00"),
        currency="USD",
    )
    session().add(new)
    session().commit()
    return new


def _lines(actor, partner_id) -> tuple[dict[int, dict], dict]:
    preview = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()
    return {line["transaction_id"]: line for g in preview["groups"]["result"] for line in g["lines"]}, preview


def _on_items(cw_live, partner_id) -> dict[str, int]:
    additions, _ = cw_records(cw_live, {r.agreement_remote_id for r in items(partner_id)})
    return {a["serialNumber"]: a["product"]["id"] for a in additions}


def test_charges_on_an_inactive_item_wait_without_a_call_and_go_once_it_is_active(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    txs = expected_transactions(customers)
    charges = [t for t in txs if t.kind == "charge"]
    one, other = charges[0], next(t for t in charges if _product_of(t).id != _product_of(charges[0]).id)
    item_id = session().scalar(select(CatalogSync.remote_id).where(CatalogSync.product_id == _product_of(one).id))
    old = edit(cw_live, "catalog", item_id, lambda r: r.update(inactiveFlag=True))
    blocked, fine = _charge(one, 1), _charge(other, 2)

    lines, preview = _lines(actor, partner_id)
    assert lines[blocked.id]["check"]["code"] == "CatalogItemInactive" and lines[fine.id]["status"] == "ok"
    assert preview["totals"]["blocked_causes"] == {"CatalogItemInactive": 1}

    start = last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.counts["blocked"] == 1 and result.counts["pushed"] == 1
    assert len(creates(cw_live, start)) == 1
    row = {r.transaction_id: r for r in items(partner_id)}[blocked.id]
    assert row.state == "blocked" and row.last_error_code == "CatalogItemInactive"

    put_back(cw_live, "catalog", old)
    start = last_seq(cw_live)
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded" and fixed.counts["pushed"] == 1 and len(creates(cw_live, start)) == 1
    assert {r.state for r in items(partner_id)} == {"pushed"}


def test_an_identifier_held_by_another_item_in_another_case_is_never_adopted(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    charges = [t for t in expected_transactions(customers) if t.kind == "charge"]
    product = _product_of(charges[0])
    ours = _identifier(partner_id, product)
    theirs = ours.swapcase()
    assert theirs != ours and checks.fold(theirs) == checks.fold(ours)
    client = cw_live.client()
    sub = next(iter(client.iter_subcategories()))
    kind = next(iter(client.iter_product_types()))
    from msphub_psa.connectwise.types import NewCatalogItem

    foreign = client.create_catalog_item(NewCatalogItem(theirs, "Another product", "Another product", sub.id, kind.id))
    on_product = {t.id for t in charges if _product_of(t).id == product.id}

    lines, preview = _lines(actor, partner_id)
    assert {t for t, line in lines.items() if line["status"] == "blocked"} == on_product
    check = lines[min(on_product)]["check"]
    assert check["code"] == "IdentifierTaken" and f"taken by catalog item {foreign.id}" in check["message"]
    assert checks.alternative_identifier(ours) in check["fix"]

    start = last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.counts["blocked"] == len(on_product)
    assert foreign.id not in set(_on_items(cw_live, partner_id).values())  # never on another product's item
    assert len(creates(cw_live, start)) == result.counts["pushed"]
    rows = {r.transaction_id: r for r in items(partner_id)}
    assert {rows[t].state for t in on_product} == {"blocked"}

    edit(cw_live, "catalog", foreign.id, lambda r: r.update(identifier="SOMETHING-ELSE-1"))
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded", dict(fixed.counts)
    assert fixed.counts["pushed"] == len(on_product)
    posted = _on_items(cw_live, partner_id)
    assert foreign.id not in set(posted.values())
    assert {r.state for r in items(partner_id)} == {"pushed"}


def test_a_classification_connectwise_lacks_is_not_created_when_sync_settings_say_so(ctx, cw_live):
    from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand

    partner_id, actor, customers = push_setup(cw_live, customers=2)  # the default rule names values the sandbox lacks
    UpdateSyncSettingsCommand(actor, {"create_list_values": False}, partner_id).run()
    charges = {t.id for t in expected_transactions(customers) if t.kind == "charge"}

    lines, preview = _lines(actor, partner_id)
    assert {t for t, line in lines.items() if line["status"] == "blocked"} == charges
    check = lines[min(charges)]["check"]
    assert check["code"] == "ClassificationMissing" and "category: MSP Hub" in check["message"]
    assert "Sync Settings" in check["fix"]

    start = last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.counts["blocked"] == len(charges)
    posts = [r["path"] for r in cw_live.requests(start) if r["method"] == "POST"]
    assert not [p for p in posts if "/procurement/" in p or p.endswith("/additions")], posts  # nothing created
    assert not any(c["name"] == "MSP Hub" for c in cw_live.state("categories"))

    UpdateSyncSettingsCommand(actor, {"create_list_values": True}, partner_id).run()
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded" and fixed.counts["pushed"] == len(charges), dict(fixed.counts)
    assert any(c["name"] == "MSP Hub" for c in cw_live.state("categories"))
    assert {r.state for r in items(partner_id)} == {"pushed"}
