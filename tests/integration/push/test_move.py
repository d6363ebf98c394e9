"""Moving already-pushed transactions to a subscription's new agreement (Change Subscription Mapping + Move).

Over the sandbox by real HTTP: the remap marks the rows ``moving``; the next push removes ours from the old
agreement (read first, only a record carrying our reference is deleted) and creates them on the new one,
exactly once; a crash between the delete and its commit is recovered by reading first; a refused delete
fails the row with ConnectWise's reason and leaves the record on the old agreement.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from msphub_psa import clock
from msphub_psa.clock import now as utcnow
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.status import RetryFailedCommand, SyncItemDetailCommand, SyncStatusCommand
from msphub_psa.commands.directory import RefreshDirectoryCommand
from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.commands.reconciliation import ReconciliationSummaryCommand
from msphub_psa.commands.subscriptions import RemapPreviewCommand, RemapSubscriptionCommand
from msphub_psa.connectwise.sandbox import records
from msphub_psa.connectwise.sandbox.resources import RESOURCES
from msphub_psa.daos.base import session
from msphub_psa.daos.mapping import subscription_sync_status
from msphub_psa.daos.outbox import OutboxDAO
from msphub_psa.models.directory import PsaAgreement
from msphub_psa.models.hub import BillingTransaction, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import SyncItem
from tests.support.push import by_reference, cw_records, items, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

SECOND = "Microsoft CSP - Monthly 2026"


def _second_agreements(cw_live, actor, partner_id) -> None:
    """A second monthly agreement for every company with one, in the sandbox and (refreshed) in the cache."""
    store, account = cw_live.sandbox.store, cw_live.company_id
    for agreement in list(store.scan(account, "agreements")):
        if agreement["name"] == "Microsoft CSP - Monthly":
            records.create(
                store,
                account,
                RESOURCES["agreements"],
                {
                    "name": SECOND,
                    "company": {"id": agreement["company"]["id"]},
                    "type": {"id": 2},
                    "contact": {"id": 1},
                    "billingCycle": {"id": 1},
                    "startDate": "2024-01-01T00:00:00Z",
                    "billStartDate": "2024-01-01T00:00:00Z",
                    "noEndingDateFlag": True,
                },
            )
    RefreshDirectoryCommand(actor, partner_id, automap=False).run()


def _scenario(cw_live, extra_credit: bool = True):
    """Push two customers' transactions to their agreement A, give their companies a second agreement B;
    returns (partner id, actor, the subscription with the longest history, its A, its B), A and B cached."""
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    sub = session().scalar(
        select(Subscription)
        .join(BillingTransaction, BillingTransaction.subscription_id == Subscription.id)
        .where(Subscription.customer_id.in_(customers))
        .group_by(Subscription.id)
        .order_by(func.count(BillingTransaction.id).desc(), Subscription.id)
    )
    if extra_credit:  # a credit in its latest period too, so an adjustment moves as well as additions
        last = session().scalar(
            select(BillingTransaction)
            .where(BillingTransaction.subscription_id == sub.id)
            .order_by(BillingTransaction.period_end.desc())
        )
        session().add(
            BillingTransaction(
                partner_id=partner_id,
                customer_id=sub.customer_id,
                subscription_id=sub.id,
                kind="credit",
                period_start=last.period_start,
                period_end=last.period_end,
                quantity=Decimal(1),
                unit_price=Decimal("7.25"),
                unit_cost=Decimal(0),
                amount=Decimal("-7.25"),
                currency="USD",
            )
        )
        session().commit()
    first = PushBillingCommand(partner_id).run()
    assert first.status == "succeeded", first.error
    _second_agreements(cw_live, actor, partner_id)
    mapping = _active(sub.id)
    old = mapping.agreement
    new = session().scalar(
        select(PsaAgreement).where(PsaAgreement.company_id == old.company_id, PsaAgreement.name == SECOND)
    )
    assert new is not None and old.name == "Microsoft CSP - Monthly"
    return partner_id, actor, sub, old, new


def _active(sub_id: int) -> SubscriptionMapping:
    """The subscription's active mapping."""
    session().expire_all()
    return session().scalar(
        select(SubscriptionMapping).where(
            SubscriptionMapping.subscription_id == sub_id, SubscriptionMapping.ended_at.is_(None)
        )
    )


def _from_date(actor, sub, new) -> dt.date:
    """A custom From Date in the allowed range that leaves some pushed transactions before it."""
    allowed = RemapPreviewCommand(actor, sub.id, new.id).run().allowed
    starts = sorted(
        t.period_start
        for t in session().scalars(select(BillingTransaction).where(BillingTransaction.subscription_id == sub.id))
    )
    return min(max(starts[len(starts) // 2], allowed.lower), allowed.upper)


def _sub_rows(partner_id: int, sub_id: int) -> list[SyncItem]:
    """The subscription's outbox rows."""
    return [r for r in items(partner_id) if r.subscription_id == sub_id]


def _ours(cw_live, agreement_remote_id: int, sub_id: int | None = None):
    """How many records carry each of our references on one agreement (additions and adjustments together),
    of one subscription's transactions when ``sub_id`` is given."""
    additions, adjustments = cw_records(cw_live, [agreement_remote_id])
    found = by_reference(additions, "serialNumber") + by_reference(adjustments, "description")
    if sub_id is not None:
        mine = set(session().scalars(select(BillingTransaction.id).where(BillingTransaction.subscription_id == sub_id)))
        found = type(found)({tx: n for tx, n in found.items() if tx in mine})
    return found


def _deletes(cw_live, since: int = 0) -> list[dict]:
    """DELETE requests the sandbox received after ``since``."""
    return [r for r in cw_live.requests(since) if r["method"] == "DELETE"]


def _last_seq(cw_live) -> int:
    """The sandbox log's latest sequence number."""
    log = cw_live.requests()
    return log[-1]["seq"] if log else 0


def _events(actor, item_id: int) -> list[str]:
    """A row's transition events, oldest first."""
    return [t["event"] for t in SyncItemDetailCommand(actor, item_id).run()["transitions"]]


def _invoice(cw_live, agreement_remote_id: int, company_cw_id: int, day: dt.date) -> None:
    """An Agreement invoice in ConnectWise dated ``day``: the sandbox then refuses to delete what it billed."""
    response = httpx.post(
        f"{cw_live.base_url}/finance/invoices",
        headers=cw_live.credentials.headers(),
        json={
            "type": "Agreement",
            "invoiceNumber": f"INV-{day:%Y%m}",
            "company": {"id": company_cw_id},
            "agreement": {"id": agreement_remote_id},
            "date": f"{day.isoformat()}T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.text


# --- the move, end to end ----------------------------------------------------------------------------


def test_move_puts_pushed_records_on_the_new_agreement_exactly_once_and_removes_ours_from_the_old(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live)
    from_date = _from_date(actor, sub, new)
    before = {r.transaction_id: r.remote_record_id for r in _sub_rows(partner_id, sub.id)}
    plan = RemapPreviewCommand(actor, sub.id, new.id, "custom", from_date).run()
    moving = set(plan.preview.move_candidates)
    staying = set(before) - moving
    assert moving and staying and plan.move_from == [old.name]
    assert "Periods ConnectWise has already invoiced" in plan.preview.warning

    mapping, _ = RemapSubscriptionCommand(actor, sub.id, new.id, "custom", from_date, move_pushed=True).run()
    assert mapping.move_pushed and set(mapping.move_transaction_ids) == moving
    rows = {r.transaction_id: r for r in _sub_rows(partner_id, sub.id)}
    assert {t for t, r in rows.items() if r.state == "moving"} == moving
    assert all(rows[t].state == "pushed" for t in staying)
    status = subscription_sync_status(partner_id, [sub.id])[sub.id]
    assert status["status"] == "moving" and "next push" in status["reason"]
    assert SyncStatusCommand(actor, partner_id).run().states["moving"] == len(moving)

    start = _last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.status == "succeeded", result.error
    assert result.counts["removed"] == len(moving) and result.counts["pushed"] == len(moving)
    assert result.lookups == len(moving) and result.writes == 2 * len(moving)  # read, delete, create
    assert result.catalog_calls == 1  # the catalog's batched re-read
    assert result.psa_calls == result.writes + result.lookups + result.catalog_calls + result.check_calls
    assert len(_deletes(cw_live, start)) == len(moving)

    on_old, on_new = _ours(cw_live, old.remote_id), _ours(cw_live, new.remote_id)
    assert moving.isdisjoint(on_old) and staying <= set(on_old)
    assert set(on_new) == moving and set(on_new.values()) == {1}
    rows = {r.transaction_id: r for r in _sub_rows(partner_id, sub.id)}
    assert all(r.state == "pushed" for r in rows.values())
    assert all(rows[t].agreement_remote_id == new.remote_id and rows[t].remote_record_id != before[t] for t in moving)
    assert all(rows[t].agreement_remote_id == old.remote_id and rows[t].remote_record_id == before[t] for t in staying)
    assert _events(actor, rows[min(moving)].id) == [
        "created",
        "attempt",
        "succeeded",
        "move_requested",
        "remove_attempt",
        "removed",
        "attempt",
        "succeeded",
    ]
    assert subscription_sync_status(partner_id, [sub.id])[sub.id]["status"] == "synced"

    start = _last_seq(cw_live)
    again = PushBillingCommand(partner_id).run()  # nothing left to do: no call at all
    assert again.psa_calls == 0 and cw_live.requests(start) == []


def test_change_without_move_leaves_pushed_records_on_the_old_agreement(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    before = {r.transaction_id: (r.agreement_remote_id, r.remote_record_id) for r in _sub_rows(partner_id, sub.id)}
    mapping, plan = RemapSubscriptionCommand(actor, sub.id, new.id, "all").run()
    assert plan.preview.move_candidates and not mapping.move_pushed and mapping.move_transaction_ids == []
    assert {r.state for r in _sub_rows(partner_id, sub.id)} == {"pushed"}
    start = _last_seq(cw_live)
    PushBillingCommand(partner_id).run()
    assert _deletes(cw_live, start) == [] and _ours(cw_live, new.remote_id) == {}
    assert {
        r.transaction_id: (r.agreement_remote_id, r.remote_record_id) for r in _sub_rows(partner_id, sub.id)
    } == before
    assert set(before) <= set(_ours(cw_live, old.remote_id))


def test_move_chosen_later_on_the_same_agreement_and_date(ctx, cw_live):
    """The partner forgot to tick Move: a second Change keeping agreement and date, with Move, still moves them."""
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all").run()
    mapping, plan = RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    assert mapping.move_pushed and set(mapping.move_transaction_ids) == set(plan.preview.move_candidates)
    PushBillingCommand(partner_id).run()
    moved = set(plan.preview.move_candidates)
    assert moved.isdisjoint(_ours(cw_live, old.remote_id))
    assert set(_ours(cw_live, new.remote_id)) == moved and set(_ours(cw_live, new.remote_id).values()) == {1}


# --- crash between the delete and its commit -------------------------------------------------------


@pytest.mark.parametrize("delete_landed", [True, False])
def test_a_row_left_in_removing_is_recovered_by_reading_first(ctx, cw_live, delete_landed):
    partner_id, actor, sub, old, new = _scenario(cw_live)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    moving = [r for r in _sub_rows(partner_id, sub.id) if r.state == "moving"]
    assert any(r.record_kind == "credit" for r in moving) and any(r.record_kind == "charge" for r in moving)
    for row in moving:  # the dead run had marked them removing and committed; the DELETE landed (or not)
        OutboxDAO.set_state(row, "removing", "remove_attempt", by_run=None, detail="killed after this commit")
        if delete_landed:
            resource = {"charge": "additions", "credit": "adjustments"}[row.record_kind]
            cw_live.sandbox.store.delete(cw_live.company_id, resource, row.remote_record_id)
    session().commit()
    assert OutboxDAO.state_counts(partner_id)["removing"] == len(moving)
    with pytest.raises(ConflictError, match="being pushed"):  # no Change while a removal is in flight
        RemapSubscriptionCommand(actor, sub.id, old.id, "all").run()

    start = _last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.status == "succeeded", result.error
    assert result.counts["recovered"] == len(moving) and result.counts["removed"] == len(moving)
    assert len(_deletes(cw_live, start)) == (0 if delete_landed else len(moving))
    # gone already: read by id (404), then by reference (nothing); else read by id and delete
    assert result.lookups == (2 if delete_landed else 1) * len(moving)
    assert _ours(cw_live, old.remote_id, sub.id) == {}
    on_new = _ours(cw_live, new.remote_id)
    assert set(on_new) == {r.transaction_id for r in moving} and set(on_new.values()) == {1}
    assert {r.state for r in _sub_rows(partner_id, sub.id)} == {"pushed"}


def test_a_dropped_delete_is_retried_and_the_move_still_lands_once(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    moved = {r.transaction_id for r in _sub_rows(partner_id, sub.id) if r.state == "moving"}
    cw_live.set_faults(
        [
            {"kind": "drop", "methods": ["DELETE"], "count": 2},
            {"kind": "500", "methods": ["GET"], "path": r"/(additions|adjustments)/\d+$", "count": 1},
        ]
    )
    result = PushBillingCommand(partner_id).run()
    assert result.status == "succeeded", result.error
    assert _ours(cw_live, old.remote_id, sub.id) == {}
    assert set(_ours(cw_live, new.remote_id)) == moved and set(_ours(cw_live, new.remote_id).values()) == {1}


# --- refused deletes and records that are not ours ------------------------------------------------------


def test_a_refused_delete_fails_the_row_with_the_reason_and_keeps_the_record_on_the_old_agreement(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live)
    rows = _sub_rows(partner_id, sub.id)
    before = {r.transaction_id: r.remote_record_id for r in rows}
    invoiced_to = max(
        t.period_start
        for t in session().scalars(select(BillingTransaction).where(BillingTransaction.id.in_(list(before))))
    )
    _invoice(cw_live, old.remote_id, old.remote_company_id, invoiced_to)  # ConnectWise has invoiced every period
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    moving = {r.transaction_id for r in _sub_rows(partner_id, sub.id) if r.state == "moving"}

    result = PushBillingCommand(partner_id).run()
    assert result.status == "partial" and result.counts["failed"] == len(moving)
    failed = {r.transaction_id: r for r in _sub_rows(partner_id, sub.id) if r.state == "failed"}
    assert set(failed) == moving
    for tx_id, row in failed.items():
        assert row.agreement_remote_id == old.remote_id and row.remote_record_id == before[tx_id]
        assert row.last_error_code == "InvalidObject" and "has been invoiced" in row.last_error_message
    assert set(_ours(cw_live, old.remote_id)) >= moving and _ours(cw_live, new.remote_id) == {}
    status = subscription_sync_status(partner_id, [sub.id])[sub.id]
    assert status["status"] == "failed" and "has been invoiced" in status["reason"]
    summary = ReconciliationSummaryCommand(actor, partner_id).run()
    assert summary.sync["failed_count"] == len(moving)

    start = _last_seq(cw_live)
    assert PushBillingCommand(partner_id).run().psa_calls == 0  # only a person moves it on
    assert cw_live.requests(start) == []

    for invoice in cw_live.state("invoices"):  # the partner credits the invoice in ConnectWise...
        cw_live.sandbox.store.delete(cw_live.company_id, "invoices", invoice["id"])
    assert RetryFailedCommand(actor, partner_id).run() == len(moving)  # ...and asks again
    assert {r.state for r in _sub_rows(partner_id, sub.id) if r.transaction_id in moving} == {"moving"}
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    assert moving.isdisjoint(_ours(cw_live, old.remote_id)) and set(_ours(cw_live, new.remote_id)) == moving
    row = next(r for r in _sub_rows(partner_id, sub.id) if r.transaction_id == min(moving))
    assert _events(actor, row.id)[3:] == [
        "move_requested",
        "remove_attempt",
        "remove_refused",
        "move_requested",
        "remove_attempt",
        "removed",
        "attempt",
        "succeeded",
    ]


def test_a_refused_move_stays_where_it_is_when_the_partner_changes_without_move(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    _invoice(cw_live, old.remote_id, old.remote_company_id, clock.today("America/New_York"))
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    PushBillingCommand(partner_id).run()
    assert {r.state for r in _sub_rows(partner_id, sub.id)} == {"failed"}
    _, plan = RemapSubscriptionCommand(actor, sub.id, old.id, "all").run()  # back: keep them on the old agreement
    rows = _sub_rows(partner_id, sub.id)
    assert {r.state for r in rows} == {"pushed"} and {r.agreement_remote_id for r in rows} == {old.remote_id}
    assert all(r.last_error_code is None for r in rows)
    assert subscription_sync_status(partner_id, [sub.id])[sub.id]["status"] == "synced"


def test_a_role_without_delete_rights_fails_that_row_and_the_run_goes_on(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    moving = {r.transaction_id for r in _sub_rows(partner_id, sub.id) if r.state == "moving"}
    cw_live.set_faults(
        [
            {
                "kind": "status",
                "status": 403,
                "methods": ["DELETE"],
                "count": 1,
                "body": {"code": "Forbidden", "message": "You do not have access to this resource."},
            }
        ]
    )
    result = PushBillingCommand(partner_id).run()
    assert result.status == "partial" and result.counts["failed"] == 1
    assert result.counts["removed"] == len(moving) - 1 and result.counts["pushed"] == len(moving) - 1
    failed = [r for r in _sub_rows(partner_id, sub.id) if r.state == "failed"]
    assert len(failed) == 1 and failed[0].last_error_code == "Forbidden"
    assert "security role" in failed[0].last_error_message and failed[0].agreement_remote_id == old.remote_id
    assert set(_ours(cw_live, old.remote_id, sub.id)) == {failed[0].transaction_id}


def test_a_record_without_our_reference_is_never_deleted(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    rows = _sub_rows(partner_id, sub.id)
    edited = next(r for r in rows if r.record_kind == "charge")
    other = {r.remote_record_id for r in rows if r.id != edited.id}
    edited_id, edited_tx, edited_record = edited.id, edited.transaction_id, edited.remote_record_id
    store = cw_live.sandbox.store
    record = store.get(cw_live.company_id, "additions", edited_record)
    record["serialNumber"] = "EDITED-BY-HAND"  # a person replaced our reference
    store.update(cw_live.company_id, "additions", record, parent=old.remote_id)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    start = _last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.status == "partial"
    deleted = {int(r["path"].rsplit("/", 1)[1]) for r in _deletes(cw_live, start)}
    assert edited_record not in deleted and deleted == other
    assert store.get(cw_live.company_id, "additions", edited_record)["serialNumber"] == "EDITED-BY-HAND"
    row = next(r for r in _sub_rows(partner_id, sub.id) if r.id == edited_id)
    assert row.state == "failed" and row.last_error_code == "ReferenceMissing" and row.remote_record_id == edited_record
    assert f"MSPHUB-T{edited_tx}" in row.last_error_message and row.agreement_remote_id == old.remote_id
    assert edited_tx not in _ours(cw_live, new.remote_id)


def test_a_record_id_pointing_at_a_foreign_record_is_never_deleted(ctx, cw_live):
    """Whatever id the row holds, only a record carrying exactly our reference is deleted."""
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    from msphub_psa.connectwise import NewAddition

    catalog_id = cw_live.state("catalog")[0]["id"]
    foreign = cw_live.client().create_addition(
        old.remote_id,
        NewAddition(
            product_id=catalog_id,
            quantity=Decimal(2),
            invoice_description="Set up by hand",
            serial_number=f"MSPHUB-T{10**9}",
        ),
    )  # someone else's reference
    row = next(r for r in _sub_rows(partner_id, sub.id) if r.record_kind == "charge")
    ours_id = row.remote_record_id
    row.remote_record_id = foreign.id
    session().commit()
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    start = _last_seq(cw_live)
    PushBillingCommand(partner_id).run()
    assert foreign.id not in {int(r["path"].rsplit("/", 1)[1]) for r in _deletes(cw_live, start)}
    assert cw_live.sandbox.store.get(cw_live.company_id, "additions", foreign.id) is not None
    row = session().get(SyncItem, row.id)
    assert row.state == "failed" and row.last_error_code == "ReferenceMissing"
    assert cw_live.sandbox.store.get(cw_live.company_id, "additions", ours_id) is not None


# --- a move no longer wanted ------------------------------------------------------------------------------


def test_mapping_back_before_the_push_cancels_the_move(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    _, plan = RemapSubscriptionCommand(actor, sub.id, old.id, "all", move_pushed=True).run()
    assert plan.preview.move_candidates == ()  # they are on this agreement already
    rows = _sub_rows(partner_id, sub.id)
    assert {r.state for r in rows} == {"pushed"}
    assert _events(actor, rows[0].id)[-2:] == ["move_requested", "move_cancelled"]
    start = _last_seq(cw_live)
    PushBillingCommand(partner_id).run()
    assert _deletes(cw_live, start) == []


def test_a_customer_disassociated_before_the_push_keeps_its_records_where_they_are(ctx, cw_live):
    partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
    RemapSubscriptionCommand(actor, sub.id, new.id, "all", move_pushed=True).run()
    moving = [r for r in _sub_rows(partner_id, sub.id) if r.state == "moving"]
    mapping = session().scalar(
        select(CustomerMapping).where(
            CustomerMapping.customer_id == sub.customer_id, CustomerMapping.ended_at.is_(None)
        )
    )
    mapping.ended_at, mapping.ended_by = utcnow(), "pilot.admin"
    session().commit()
    start = _last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.counts["move_cancelled"] == len(moving) and _deletes(cw_live, start) == []
    rows = _sub_rows(partner_id, sub.id)
    assert {r.state for r in rows} == {"pushed"} and {r.agreement_remote_id for r in rows} == {old.remote_id}


# --- the same through the REST API and the CLI --------------------------------------------------------------


def test_rest_and_cli_take_the_move_choice(app, client, cw_live):
    from tests.support.web import csrf_token, login

    with app.app_context():
        partner_id, actor, sub, old, new = _scenario(cw_live, extra_credit=False)
        ids = dict(sub=sub.id, old=old.id, new=new.id, new_cw=new.remote_id, old_cw=old.remote_id, name=old.name)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    api = "/api/v1/psa_reconciliation"
    preview = client.get(f"{api}/subscriptions/{ids['sub']}/remap-preview?agreement_id={ids['new']}").json["preview"]
    assert preview["move_candidates"] and preview["move_from"] == [ids["name"]]
    bad = client.put(
        f"{api}/subscriptions/{ids['sub']}/mapping",
        headers=headers,
        json={"agreement_id": ids["new"], "move_pushed": "perhaps"},
    )
    assert bad.status_code == 400 and "move_pushed" in bad.get_data(as_text=True)
    done = client.put(
        f"{api}/subscriptions/{ids['sub']}/mapping",
        headers=headers,
        json={"agreement_id": ids["new"], "move_pushed": True},
    )
    assert done.status_code == 200, done.json
    assert (
        done.json["mapping"]["move_pushed"]
        and done.json["mapping"]["move_transaction_ids"] == preview["move_candidates"]
    )
    rows = client.get("/api/v1/psa_sync/").json
    assert rows["states"]["moving"] == len(preview["move_candidates"])
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id), "--as", "pilot.admin", "--subscription", str(ids["sub"])]
    out = runner.invoke(args=["psa", "subscriptions", "remap", *base, "--agreement", str(ids["old"]), "--preview"])
    assert out.exit_code == 0 and "0 already pushed after the From Date" in out.output, out.output
    out = runner.invoke(args=["psa", "subscriptions", "remap", *base, "--agreement", str(ids["old"])])
    assert out.exit_code == 0, out.output  # back to the old agreement: the move is cancelled
    out = runner.invoke(args=["psa", "subscriptions", "remap", *base, "--agreement", str(ids["new"]), "--preview"])
    assert out.exit_code == 0 and f"on {ids['name']}) stay there unless moved" in out.output, out.output
    out = runner.invoke(args=["psa", "subscriptions", "remap", *base, "--agreement", str(ids["new"]), "--move-pushed"])
    assert out.exit_code == 0 and "move at the next push" in out.output, out.output
    out = runner.invoke(args=["psa", "sync", "run", "--inline", "--partner", str(partner_id), "--as", "pilot.admin"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        assert _ours(cw_live, ids["old_cw"], ids["sub"]) == {}
        assert set(_ours(cw_live, ids["new_cw"]).values()) == {1}
