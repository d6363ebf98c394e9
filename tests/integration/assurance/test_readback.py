"""The read-back against the sandbox over HTTP: a clean ledger, then one change by hand per finding kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.daos.assurance import AssuranceDAO
from msphub_psa.daos.base import session
from tests.support.assurance import first, pushed_ledger, writes


def _open(partner_id):
    session().expire_all()
    return {k: f for k, f in AssuranceDAO.by_key(partner_id).items() if f.status == "open"}


def test_clean_ledger_reads_back_clean_in_agreement_pages_and_writes_nothing(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live, customers=2)
    since = len(cw_live.requests())
    result = ReadBackCommand(partner_id).run()
    assert result["status"] == "succeeded" and result["counts"] == {}
    agreements = {r.agreement_remote_id for r in rows}
    assert result["agreements"] == len(agreements) and result["records"] == len(rows)
    reads = cw_live.requests()[since:]
    pages = [r for r in reads if "/additions" in r["path"] or "/adjustments" in r["path"]]
    assert len(pages) == 2 * len(agreements)  # one page of additions, one of adjustments per agreement
    assert all("pageSize=1000" in r["query"] for r in pages)
    assert writes(cw_live, since) == []
    assert _open(partner_id) == {}


def test_missing_record_is_found_with_its_amount(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    ReadBackCommand(partner_id).run()
    [finding] = _open(partner_id).values()
    assert finding.code == "missing" and finding.transaction_id == row.transaction_id
    tx_amount = Decimal(finding.sent["quantity"]) * Decimal(finding.sent["unit_price"])
    assert finding.amount == tx_amount > 0


def test_edited_quantity_shows_before_and_after(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    before = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.client().update_addition(row.agreement_remote_id, row.remote_record_id, {"quantity": before.quantity + 1})
    ReadBackCommand(partner_id).run()
    [finding] = _open(partner_id).values()
    assert finding.code == "edited" and "quantity" in finding.detail
    assert Decimal(finding.held["quantity"]) == Decimal(finding.sent["quantity"]) + 1
    assert finding.amount == before.unit_price


def test_cancelled_agreement_under_our_records(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    agreement_id = rows[0].agreement_remote_id
    cw_live.client()._json(
        "PATCH",
        "/finance/agreements/{id}",
        body=[
            {"op": "replace", "path": "cancelledFlag", "value": True},
            {"op": "replace", "path": "dateCancelled", "value": "2020-01-01T00:00:00Z"},
        ],
        id=agreement_id,
    )
    ReadBackCommand(partner_id).run()
    found = _open(partner_id).values()
    assert {f.code for f in found} == {"moved_or_cancelled"} and len(found) == len(rows)


def test_possible_double_billing_by_a_line_without_our_reference(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    ours = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.client()._json(
        "POST",
        "/finance/agreements/{id}/additions",
        body={
            "product": {"id": ours.product.id},
            "billCustomer": "Billable",
            "quantity": 2,
            "unitPrice": 15.5,
            "effectiveDate": f"{ours.effective_date.isoformat()}T00:00:00Z",
        },
        id=row.agreement_remote_id,
    )
    ReadBackCommand(partner_id).run()
    [finding] = _open(partner_id).values()
    assert finding.code == "double_billing" and finding.amount == Decimal("31")


def test_orphan_reference_unknown_to_the_ledger(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client()._json(
        "POST",
        "/finance/agreements/{id}/adjustments",
        body={
            "amount": -12.25,
            "description": "Restored from a backup MSPHUB-T999999",
            "effectiveDate": "2026-01-01T00:00:00Z",
        },
        id=row.agreement_remote_id,
    )
    ReadBackCommand(partner_id).run()
    [finding] = _open(partner_id).values()
    assert finding.code == "orphan" and finding.transaction_id == 999999 and finding.amount == Decimal("12.25")
    assert dt.date.fromisoformat(finding.held["period_start"]) == dt.date(2026, 1, 1)


def _ignore_all_then_clean(partner_id, actor):
    from msphub_psa.commands.billing.assurance_actions import ResolveFindingCommand

    for finding in _open(partner_id).values():
        ResolveFindingCommand(actor, finding.id, "ignore", "checked with finance", partner_id=partner_id).run()
    ReadBackCommand(partner_id).run()
    assert _open(partner_id) == {}


def test_record_moved_to_another_agreement_by_hand(ctx, cw_live):
    partner_id, actor, rows = pushed_ledger(cw_live, customers=2)
    row = first(rows)
    other = next(r.agreement_remote_id for r in rows if r.agreement_remote_id != row.agreement_remote_id)
    ours = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    moved = dict(ours.raw)
    body = {k: moved[k] for k in ("product", "billCustomer", "quantity", "unitPrice", "unitCost", "serialNumber")}
    body.update(effectiveDate=moved["effectiveDate"], cancelledDate=moved["cancelledDate"])
    cw_live.client()._json("POST", "/finance/agreements/{id}/additions", body=body, id=other)
    since = len(cw_live.requests())
    ReadBackCommand(partner_id).run()
    [finding] = _open(partner_id).values()
    assert finding.code == "moved_or_cancelled" and finding.agreement_remote_id == other
    assert (
        finding.transaction_id == row.transaction_id and "another" not in finding.detail or str(other) in finding.detail
    )
    _ignore_all_then_clean(partner_id, actor)
    assert writes(cw_live, since) == []


def test_cancelled_and_orphan_findings_ignored_read_back_clean(ctx, cw_live):
    partner_id, actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client()._json(
        "POST",
        "/finance/agreements/{id}/adjustments",
        body={"amount": -3, "description": "Old system MSPHUB-T888888", "effectiveDate": "2026-01-01T00:00:00Z"},
        id=row.agreement_remote_id,
    )
    ended = [
        {"op": "replace", "path": "endDate", "value": "2020-01-31T00:00:00Z"},
        {"op": "replace", "path": "noEndingDateFlag", "value": False},
    ]
    cw_live.client()._json("PATCH", "/finance/agreements/{id}", body=ended, id=row.agreement_remote_id)
    since = len(cw_live.requests())
    ReadBackCommand(partner_id).run()
    codes = {f.code for f in _open(partner_id).values()}
    assert codes == {"moved_or_cancelled", "orphan"}
    _ignore_all_then_clean(partner_id, actor)
    assert writes(cw_live, since) == []


def test_a_concurrent_read_back_storing_first_is_merged_with(ctx, cw_live, monkeypatch):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    ReadBackCommand(partner_id).run()  # the other read-back: its finding is stored
    real, calls = AssuranceDAO.by_key, []

    def stale(partner):  # this one read the findings before the other stored its own
        calls.append(partner)
        return {} if len(calls) == 1 else real(partner)

    monkeypatch.setattr(AssuranceDAO, "by_key", staticmethod(stale))
    result = ReadBackCommand(partner_id).run()
    monkeypatch.undo()
    assert result["status"] == "succeeded" and len(calls) == 2
    assert [f.code for f in _open(partner_id).values()] == ["missing"]
