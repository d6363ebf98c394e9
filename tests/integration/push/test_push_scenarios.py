"""The push's rules, one scenario each: credits, cancelled subscriptions, From Date, re-mapping,
hand edits, foreign records, deactivation and un-mapping mid-run, refused products, failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from msphub_psa.clock import now as utcnow
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.status import RetryFailedCommand, SyncItemDetailCommand, SyncStatusCommand
from msphub_psa.commands.reconciliation import ReconciliationSummaryCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.outbox import subscription_sync_status
from msphub_psa.models.hub import BillingTransaction, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import CatalogSync
from tests.integration.push.test_push_basic import _settled_check
from tests.support.push import (
    agreement_named,
    by_reference,
    cw_records,
    dec,
    expected_transactions,
    items,
    map_subscription,
    monthly_agreement,
    push_setup,
)

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


def _company_of(customer_id: int) -> int:
    """The mapped company (cache id) of a customer."""
    return session().scalar(
        select(CustomerMapping.company_id).where(
            CustomerMapping.customer_id == customer_id, CustomerMapping.ended_at.is_(None)
        )
    )


def _subs(customer_id: int) -> list[Subscription]:
    """A customer's subscriptions."""
    return list(
        session().scalars(select(Subscription).where(Subscription.customer_id == customer_id).order_by(Subscription.id))
    )


def _add_tx(
    sub: Subscription, kind: str, start: dt.date, end: dt.date, amount: str, qty: int = 2, price: str = "10.00"
) -> BillingTransaction:
    """A new billing transaction, committed."""
    tx = BillingTransaction(
        partner_id=sub.partner_id,
        customer_id=sub.customer_id,
        subscription_id=sub.id,
        kind=kind,
        period_start=start,
        period_end=end,
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        unit_cost=Decimal("8.00"),
        amount=Decimal(amount),
        currency="USD",
    )
    session().add(tx)
    session().commit()
    return tx


def _writes(cw_live, since: int) -> list[dict]:
    """Non-GET requests the sandbox received after ``since``."""
    return [r for r in cw_live.requests()[since:] if r["method"] != "GET"]


def test_credit_becomes_a_negative_adjustment_with_our_reference(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    sub = _subs(customers[0])[0]
    credit = _add_tx(sub, "credit", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "-15.40")
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    agreement = monthly_agreement(_company_of(customers[0])).remote_id
    adjustments = [
        a for a in cw_live.state("adjustments", parent=agreement) if a["description"].endswith(f"MSPHUB-T{credit.id}")
    ]
    assert len(adjustments) == 1
    assert dec(adjustments[0]["amount"]) == Decimal("-15.40")
    assert adjustments[0]["effectiveDate"][:10] == "2026-03-01"
    assert "(2026-03-01 to 2026-03-31)" in adjustments[0]["description"]


def test_prorated_charge_bills_mspubs_exact_amount(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    sub = _subs(customers[0])[0]
    exact = _add_tx(sub, "charge", dt.date(2026, 4, 15), dt.date(2026, 4, 30), "10.00", qty=4, price="5.00")
    odd = _add_tx(sub, "charge", dt.date(2026, 5, 15), dt.date(2026, 5, 31), "10.00", qty=3, price="5.00")
    PushBillingCommand(partner_id).run()
    additions, _ = cw_records(cw_live, [monthly_agreement(_company_of(customers[0])).remote_id])
    by_serial = {a["serialNumber"]: a for a in additions}
    first, second = by_serial[f"MSPHUB-T{exact.id}"], by_serial[f"MSPHUB-T{odd.id}"]
    assert (dec(first["quantity"]), dec(first["unitPrice"])) == (Decimal(4), Decimal("2.5"))
    assert (dec(second["quantity"]), dec(second["unitPrice"])) == (Decimal(1), Decimal(10))
    assert "prorated, 3 × 5" in second["invoiceDescription"]


def test_cancelled_subscription_is_not_billed_after_its_end(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    sub = _subs(customers[0])[0]
    sub.status, sub.end_date = "cancelled", dt.date(2026, 6, 30)
    session().commit()
    inside = _add_tx(sub, "charge", dt.date(2026, 6, 1), dt.date(2026, 6, 30), "20.00")
    after = _add_tx(sub, "charge", dt.date(2026, 7, 1), dt.date(2026, 7, 31), "20.00")
    refund = _add_tx(sub, "credit", dt.date(2026, 7, 1), dt.date(2026, 7, 31), "-20.00")
    PushBillingCommand(partner_id).run()
    additions, adjustments = cw_records(cw_live, [monthly_agreement(_company_of(customers[0])).remote_id])
    refs = by_reference(additions, "serialNumber")
    assert refs[inside.id] == 1 and after.id not in refs
    assert by_reference(adjustments, "description")[refund.id] == 1
    ours = [
        a
        for a in additions
        if a.get("serialNumber")
        and session().get(BillingTransaction, int(a["serialNumber"][8:])).subscription_id == sub.id
    ]
    assert ours and all(a["cancelledDate"][:10] <= "2026-06-30" for a in ours)
    assert after.id not in {r.transaction_id for r in items(partner_id)}


def test_from_date_change_takes_only_unpushed_transactions(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1, from_date=dt.date(2099, 1, 1))
    sub = _subs(customers[0])[0]
    early = _add_tx(sub, "charge", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "20.00")
    late = _add_tx(sub, "charge", dt.date(2026, 2, 1), dt.date(2026, 2, 28), "20.00")
    mapping = session().scalar(
        select(SubscriptionMapping).where(
            SubscriptionMapping.subscription_id == sub.id, SubscriptionMapping.ended_at.is_(None)
        )
    )
    mapping.from_date = dt.date(2026, 2, 28)  # the period that contains the From Date is included
    session().commit()
    PushBillingCommand(partner_id).run()
    pushed = {r.transaction_id for r in items(partner_id) if r.state == "pushed"}
    assert late.id in pushed and early.id not in pushed
    mapping.from_date = dt.date(2025, 12, 1)
    session().commit()
    PushBillingCommand(partner_id).run()
    pushed_again = {r.transaction_id for r in items(partner_id) if r.state == "pushed"}
    assert early.id in pushed_again
    mapping.from_date = dt.date(2099, 1, 1)  # later again: pushed ones stay pushed, nothing is removed
    session().commit()
    start = len(cw_live.requests())
    PushBillingCommand(partner_id).run()
    assert _writes(cw_live, start) == []
    assert {r.transaction_id for r in items(partner_id) if r.state == "pushed"} == pushed_again


def test_from_date_moved_mid_run_skips_the_rows_not_yet_sent_and_a_new_date_takes_them_back(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)

    def move_from_date(_item_id):
        for m in session().scalars(select(SubscriptionMapping).where(SubscriptionMapping.partner_id == partner_id)):
            m.from_date = dt.date(2099, 1, 1)
        session().commit()

    result = PushBillingCommand(partner_id, after_item=move_from_date, concurrency=1).run()  # row by row
    assert result.counts["pushed"] == 1 and result.counts["skipped"] >= 1
    assert {r.state for r in items(partner_id)} == {"pushed", "skipped"}
    for m in session().scalars(select(SubscriptionMapping).where(SubscriptionMapping.partner_id == partner_id)):
        m.from_date = dt.date(2000, 1, 1)
    session().commit()
    PushBillingCommand(partner_id).run()
    assert {r.state for r in items(partner_id)} == {"pushed"}
    _settled_check(cw_live, partner_id, customers)
    skipped = next(
        r
        for r in items(partner_id)
        if r.attempts == 1 and r.transaction_id != min(x.transaction_id for x in items(partner_id))
    )
    events = [t["event"] for t in SyncItemDetailCommand(_actor, skipped.id).run()["transitions"]]
    assert events == ["created", "became_ineligible", "became_eligible", "attempt", "succeeded"]


def test_remapped_subscription_sends_unpushed_rows_to_the_new_agreement_and_leaves_pushed_ones(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    company = _company_of(customers[0])
    old, new = monthly_agreement(company), agreement_named(company, "Microsoft CSP - Annual")
    if new is None:  # even companies have no annual agreement: use another company's monthly one
        other = session().scalar(select(CustomerMapping.company_id).where(CustomerMapping.company_id != company))
        new = monthly_agreement(other) if other else None
    assert new is not None
    subs = _subs(customers[0])

    def remap(_item_id):
        if session().scalar(select(SubscriptionMapping).where(SubscriptionMapping.agreement_id == new.id)):
            return
        for sub in subs:
            mapping = session().scalar(
                select(SubscriptionMapping).where(
                    SubscriptionMapping.subscription_id == sub.id, SubscriptionMapping.ended_at.is_(None)
                )
            )
            mapping.ended_at, mapping.active = utcnow(), False
            map_subscription(partner_id, sub, new, dt.date(2000, 1, 1))
        session().commit()

    PushBillingCommand(partner_id, after_item=remap, concurrency=1).run()  # row by row
    rows = items(partner_id)
    assert all(r.state == "pushed" for r in rows)
    on_old = [r for r in rows if r.agreement_remote_id == old.remote_id]
    on_new = [r for r in rows if r.agreement_remote_id == new.remote_id]
    assert len(on_old) == 1 and len(on_new) == len(rows) - 1
    old_adds, old_adjs = cw_records(cw_live, [old.remote_id])
    assert len(by_reference(old_adds, "serialNumber")) + len(by_reference(old_adjs, "description")) == 1
    start = len(cw_live.requests())
    PushBillingCommand(partner_id).run()  # a pushed row never moves by itself
    assert _writes(cw_live, start) == []


def test_hand_edits_and_records_without_our_reference_are_left_alone(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    agreement = monthly_agreement(_company_of(customers[0])).remote_id
    client = cw_live.client()
    catalog_id = cw_live.state("catalog")[0]["id"]
    from msphub_psa.connectwise import NewAddition

    foreign = client.create_addition(
        agreement, NewAddition(product_id=catalog_id, quantity=Decimal(7), invoice_description="Set up by hand")
    )
    PushBillingCommand(partner_id).run()
    store = cw_live.sandbox.store
    ours = next(a for a in cw_live.state("additions", parent=agreement) if a.get("serialNumber"))
    ours["invoiceDescription"] = "Edited by the partner's finance team"
    store.update(cw_live.company_id, "additions", ours, parent=agreement)
    sub = _subs(customers[0])[0]
    _add_tx(sub, "charge", dt.date(2026, 8, 1), dt.date(2026, 8, 31), "20.00")
    start = len(cw_live.requests())
    PushBillingCommand(partner_id).run()
    writes = _writes(cw_live, start)
    assert [w["method"] for w in writes] == ["POST"]
    now = {a["id"]: a for a in cw_live.state("additions", parent=agreement)}
    assert now[ours["id"]]["invoiceDescription"] == "Edited by the partner's finance team"
    assert now[foreign.id]["quantity"] == 7 and now[foreign.id]["invoiceDescription"] == "Set up by hand"
    assert all(r["method"] not in ("DELETE", "PATCH", "PUT") for r in cw_live.requests())


def test_deactivation_mid_run_stops_before_the_next_write(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    seen = []

    def deactivate(item_id):
        seen.append(item_id)
        if len(seen) == 3:
            integration = IntegrationDAO.for_partner(partner_id)
            integration.status = "deactivated"
            session().commit()

    start = len(cw_live.requests())
    result = PushBillingCommand(partner_id, after_item=deactivate, concurrency=1).run()  # row by row
    assert result.status == "stopped" and result.counts["pushed"] == 3
    assert len([w for w in _writes(cw_live, start) if "/agreements/" in w["path"]]) == 3
    assert {r.state for r in items(partner_id)} == {"pushed", "pending"}


def test_disassociating_a_customer_mid_run_stops_its_rows(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)

    def disassociate(_item_id):
        mapping = session().scalar(
            select(CustomerMapping).where(
                CustomerMapping.customer_id == customers[0], CustomerMapping.ended_at.is_(None)
            )
        )
        if mapping is not None:
            mapping.ended_at, mapping.ended_by = utcnow(), "pilot.admin"
            session().commit()

    result = PushBillingCommand(partner_id, after_item=disassociate, concurrency=1).run()  # row by row
    assert result.counts["pushed"] == 1
    assert {r.state for r in items(partner_id)} == {"pushed", "skipped"}


def test_a_product_connectwise_refuses_waits_and_the_others_go_on(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    cw_live.set_faults(
        [
            {
                "kind": "status",
                "status": 400,
                "methods": ["POST"],
                "path": "/procurement/catalog$",
                "count": 1,
                "body": {
                    "code": "InvalidObject",
                    "message": "Catalog item object is invalid",
                    "errors": [
                        {
                            "code": "InvalidField",
                            "message": "The vendor is required.",
                            "resource": "catalogItem",
                            "field": "vendor",
                        }
                    ],
                },
            }
        ]
    )
    result = PushBillingCommand(partner_id).run()
    assert result.status == "partial" and result.counts["blocked"] >= 1 and result.counts["pushed"] >= 1
    refused = session().scalars(select(CatalogSync).where(CatalogSync.status == "refused")).all()
    assert len(refused) == 1 and refused[0].error_code == "InvalidObject"
    assert "The vendor is required." in refused[0].error_message
    waiting = [r for r in items(partner_id) if r.state == "pending"]
    assert waiting and all(r.reason == "product refused" and r.last_error_code == "InvalidObject" for r in waiting)
    statuses = subscription_sync_status(partner_id, [r.subscription_id for r in waiting])
    assert all(s == "pending" and "vendor is required" in reason for s, reason in statuses.values())
    status = SyncStatusCommand(actor, partner_id).run()
    assert status.refused_products[0]["code"] == "InvalidObject"
    cw_live.clear_faults()
    RetryFailedCommand(actor, partner_id).run()  # forgets the refusal: the next push tries the product again
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    _settled_check(cw_live, partner_id, customers)


def test_a_refusal_no_check_foresaw_fails_the_row_with_connectwises_reason_and_retry_failed(ctx, cw_live):
    """A cancelled agreement is blocked before any call (tests/integration/preflight); a refusal the checks cannot
    foresee fails the row with ConnectWise's reason and counts as not foreseen."""
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    agreement = monthly_agreement(_company_of(customers[0])).remote_id
    refusal = {
        "code": "InvalidObject",
        "message": "agreementAddition object is invalid",
        "errors": [{"code": "InvalidAgreement", "message": "Closed for billing.", "field": "agreementId"}],
    }
    cw_live.set_faults(
        [
            {
                "kind": "status",
                "status": 400,
                "body": refusal,
                "methods": ["POST"],
                "path": f"/finance/agreements/{agreement}/(additions|adjustments)$",
            }
        ]
    )
    summary = ReconciliationSummaryCommand(actor, partner_id).run()
    expected = expected_transactions(customers)
    assert summary.sync["pending_push_count"] == len(expected) and summary.sync["failed_count"] == 0
    result = PushBillingCommand(partner_id).run()
    assert result.status == "partial" and result.counts["failed"] >= 1 and result.counts["pushed"] >= 1
    assert result.counts["not_foreseen"] == result.counts["failed"]
    failed = [r for r in items(partner_id) if r.state == "failed"]
    assert failed and all(r.last_error_code and r.last_error_message for r in failed)
    assert {r.customer_id for r in failed} == {customers[0]}
    summary = ReconciliationSummaryCommand(actor, partner_id).run()
    assert summary.sync["failed_count"] == len(failed) and summary.sync["pending_push_count"] == 0
    assert summary.sync["pending_push"] == Decimal(0)
    sub_status = subscription_sync_status(partner_id, [failed[0].subscription_id])
    assert sub_status[failed[0].subscription_id][0] == "failed"
    assert failed[0].last_error_code in sub_status[failed[0].subscription_id][1]
    runner = ctx.test_cli_runner()
    out = runner.invoke(args=["psa", "sync", "retry-failed", "--partner", str(partner_id), "--as", "pilot.admin"])
    assert out.exit_code == 0 and f"{len(failed)} failed row(s)" in out.output
    assert {r.state for r in items(partner_id) if r.customer_id == customers[0]} <= {"pending", "pushed"}
    cw_live.clear_faults()
    out = runner.invoke(args=["psa", "sync", "run", "--inline", "--partner", str(partner_id), "--as", "pilot.admin"])
    assert out.exit_code == 0, out.output
    assert {r.state for r in items(partner_id)} == {"pushed"}
    viewer = runner.invoke(args=["psa", "sync", "retry-failed", "--partner", str(partner_id), "--as", "pilot.viewer"])
    assert viewer.exit_code == 2 and "403" in viewer.output


def test_call_count_is_records_written_plus_lookups_for_uncertain_rows(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    PushBillingCommand(partner_id).run()  # catalog now cached: the next run's calls are records and look-ups only
    sub = _subs(customers[0])[0]
    for month in range(1, 7):
        _add_tx(sub, "charge", dt.date(2027, month, 1), dt.date(2027, month, 28), "20.00")
    cw_live.set_faults([{"kind": "drop", "methods": ["POST"], "path": "/additions$", "count": 2}])
    before = len(cw_live.state("additions", parent=monthly_agreement(_company_of(customers[0])).remote_id))
    result = PushBillingCommand(partner_id).run()
    after = len(cw_live.state("additions", parent=monthly_agreement(_company_of(customers[0])).remote_id))
    assert result.counts["pushed"] == 6 and after - before == 6
    assert result.lookups == 2 and result.catalog_calls == 1  # the catalog's batched re-read
    assert result.psa_calls == (after - before) + result.lookups + result.catalog_calls + result.check_calls
    _settled_check(cw_live, partner_id, customers)


def test_a_second_record_with_our_reference_is_a_conflict_nothing_is_deleted(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=1)
    PushBillingCommand(partner_id).run()
    sub = _subs(customers[0])[0]
    tx = _add_tx(sub, "charge", dt.date(2027, 9, 1), dt.date(2027, 9, 30), "20.00")
    agreement = monthly_agreement(_company_of(customers[0])).remote_id
    catalog_id = session().scalar(select(CatalogSync.remote_id).where(CatalogSync.product_id == sub.product_id))
    from msphub_psa.connectwise import NewAddition

    client = cw_live.client()
    for _ in range(2):  # someone created our reference twice already (e.g. a copy of an addition)
        client.create_addition(
            agreement, NewAddition(product_id=catalog_id, quantity=Decimal(1), serial_number=f"MSPHUB-T{tx.id}")
        )
    cw_live.set_faults([{"kind": "500", "methods": ["POST"], "path": "/additions$", "count": 1}])
    result = PushBillingCommand(partner_id).run()
    row = next(r for r in items(partner_id) if r.transaction_id == tx.id)
    assert row.state == "failed" and row.last_error_code == "DuplicateReference"
    assert result.counts["failed"] == 1
    assert by_reference(cw_live.state("additions", parent=agreement), "serialNumber")[tx.id] == 2


def test_one_push_per_partner_at_a_time_and_an_expired_lease_is_taken_over(ctx, cw_live):
    from msphub_psa.daos.outbox import SyncLeaseDAO
    from msphub_psa.models.sync import SyncRun

    partner_id, _actor, _customers = push_setup(cw_live, customers=1)
    SyncLeaseDAO.ensure(partner_id)
    assert SyncLeaseDAO.acquire(partner_id, "other-run", 30)[0]
    session().commit()
    assert PushBillingCommand(partner_id).run().status == "busy"
    assert items(partner_id) == []
    dead = SyncRun(partner_id=partner_id, status="running")
    session().add(dead)
    session().flush()
    SyncLeaseDAO.renew(partner_id, "other-run", -1, run_id=dead.id)  # the holder died: its lease expired
    session().commit()
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    session().expire_all()
    assert session().get(SyncRun, dead.id).status == "abandoned"


def test_catalog_sync_cli_dry_run_changes_nothing_then_creates_and_adopts(ctx, cw_live):
    partner_id, _actor, _customers = push_setup(cw_live, customers=1)
    runner = ctx.test_cli_runner()
    before = len(cw_live.state("catalog"))
    dry = runner.invoke(
        args=["psa", "catalog", "sync", "--partner", str(partner_id), "--as", "pilot.admin", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.output and len(cw_live.state("catalog")) == before
    assert session().scalars(select(CatalogSync)).all() == []
    real = runner.invoke(args=["psa", "catalog", "sync", "--partner", str(partner_id), "--as", "pilot.admin"])
    assert real.exit_code == 0, real.output
    created = len(cw_live.state("catalog")) - before
    assert created >= 1
    assert "category: MSP Hub" in real.output  # the default rule's names ConnectWise lacked were created first
    category = next(c for c in cw_live.state("categories") if c["name"] == "MSP Hub")
    subcategory = next(s for s in cw_live.state("subcategories") if s["name"] == "Perpetual Software")
    assert subcategory["category"]["id"] == category["id"]
    assert any(t["name"] == "MSP Hub License-Based" for t in cw_live.state("productTypes"))
    identifiers = [c["identifier"] for c in cw_live.state("catalog")]
    assert len(identifiers) == len(set(identifiers))
    session().query(CatalogSync).delete()  # forget the cache: the next sync must adopt, not duplicate
    session().commit()
    again = runner.invoke(args=["psa", "catalog", "sync", "--partner", str(partner_id), "--as", "pilot.admin"])
    assert again.exit_code == 0 and len(cw_live.state("catalog")) == before + created
    assert {r.outcome for r in session().scalars(select(CatalogSync))} == {"adopted"}
    viewer = runner.invoke(args=["psa", "catalog", "sync", "--partner", str(partner_id), "--as", "pilot.viewer"])
    assert viewer.exit_code == 2 and "403" in viewer.output
