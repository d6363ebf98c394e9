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
