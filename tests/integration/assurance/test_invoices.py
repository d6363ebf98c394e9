"""Agreement invoices against the ledger, over the sandbox's invoicing run: a month invoiced as pushed is clean; a
line deleted in ConnectWise before the run leaves that month under-invoiced by its amount; a line of the partner's
own is part of the expectation."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.daos.assurance import AssuranceDAO
from msphub_psa.daos.base import session
from msphub_psa.domain.assurance import Line, month_amount, month_of
from msphub_psa.models.hub import BillingTransaction
from tests.support.assurance import first, pushed_ledger


def _open(partner_id):
    session().expire_all()
    return [f for f in AssuranceDAO.by_key(partner_id).values() if f.status == "open"]


def _month(row):
    tx = session().get(BillingTransaction, row.transaction_id)
    return tx.period_start.replace(day=1)


def test_invoiced_as_pushed_is_clean(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    run = cw_live.invoice_run(_month(row), agreement_ids=[row.agreement_remote_id])
    assert len(run["created"]) == 1
    since = len(cw_live.requests())
    result = ReadBackCommand(partner_id).run()
    assert result["counts"] == {} and _open(partner_id) == []
    assert [r["method"] for r in cw_live.requests()[since:] if "/finance/invoices" in r["path"]] == ["GET"]


def test_deleted_line_leaves_the_month_under_invoiced_by_its_amount(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    month = _month(row)
    gone = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.invoice_run(month, agreement_ids=[row.agreement_remote_id])
    ReadBackCommand(partner_id).run()
    by_code = {f.code: f for f in _open(partner_id)}
    assert set(by_code) == {"missing", "under_invoiced"}
    under = by_code["under_invoiced"]
    line = Line("charge", None, None, None, None, gone.quantity, gone.unit_price, None, None, gone.effective_date)
    line = dataclasses.replace(line, period_end=gone.cancelled_date)
    assert under.amount == month_amount(line, *month_of(month)) > 0  # the line's days in the invoiced month
    assert under.held["invoice"] == f"{month:%Y%m}-{row.agreement_remote_id}"
    assert Decimal(under.sent["expected"]) - Decimal(under.held["total"]) == under.amount


def test_quantity_raised_by_hand_before_the_run_leaves_the_month_over_invoiced(ctx, cw_live):
    partner_id, _actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    month = _month(row)
    ours = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    cw_live.client().update_addition(row.agreement_remote_id, row.remote_record_id, {"quantity": ours.quantity + 2})
    cw_live.invoice_run(month, agreement_ids=[row.agreement_remote_id])
    ReadBackCommand(partner_id).run()
    by_code = {f.code: f for f in _open(partner_id)}
    assert set(by_code) == {"edited", "over_invoiced"}
    extra = Line("charge", None, None, None, None, Decimal(2), ours.unit_price, None, None, ours.effective_date)
    extra = dataclasses.replace(extra, period_end=ours.cancelled_date)
    assert by_code["over_invoiced"].amount == month_amount(extra, *month_of(month)) > 0
