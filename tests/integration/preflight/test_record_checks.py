"""Pre-flight checks of a transaction's own figures, against the sandbox over HTTP: the preview names the rows with
their code, the push makes no call for them and pushes the others, and a corrected row goes with the next push."""

from __future__ import annotations

from decimal import Decimal

import pytest

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreviewCommand
from msphub_psa.daos.base import session
from msphub_psa.models.hub import BillingTransaction
from msphub_psa.models.sync import SyncTransition
from tests.support.push import cw_records, expected_transactions, items, push_setup

# PeriodEndBeforeStart cannot be set up here: the stand-in host's table refuses such a row (ck_transaction_period);
# a host without that constraint meets the check (tests/unit/domain/test_checks.py).
CASES = {
    "QuantityNotPositive": {"quantity": Decimal(0), "amount": Decimal(0)},
    "UnitPriceNegative": {"unit_price": Decimal("-1.00"), "amount": Decimal("-3.00"), "quantity": Decimal(3)},
    "AmountMismatch": {"amount": Decimal("99999.00")},
}


def _creates(cw_live, since: int) -> list[dict]:
    """The record creates the sandbox received after ``since``."""
    return [
        r
        for r in cw_live.requests(since)
        if r["method"] == "POST" and r["path"].rstrip("/").endswith(("/additions", "/adjustments"))
    ]


def _break(tx, code: str) -> dict:
    """Give a charge the figures of one check's cause; its old figures back."""
    old = {key: getattr(tx, key) for key in CASES[code]}
    for key, value in CASES[code].items():
        setattr(tx, key, value)
    return old


def _restore(tx_id: int, old: dict) -> None:
    """Put a transaction's figures back (the cause fixed)."""
    session().rollback()
    tx = session().get(BillingTransaction, tx_id)
    for key, value in old.items():
        setattr(tx, key, value)
    session().commit()


def _preview_lines(actor, partner_id) -> dict[int, dict]:
    preview = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()
    return {line["transaction_id"]: line for g in preview["groups"]["result"] for line in g["lines"]}, preview


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_charge_that_fails_a_check_is_blocked_sent_by_no_call_and_goes_once_corrected(ctx, cw_live, code):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    txs = expected_transactions(customers)
    bad = next(t for t in txs if t.kind == "charge")
    old = _break(bad, code)
    session().commit()

    lines, preview = _preview_lines(actor, partner_id)
    assert lines[bad.id]["status"] == "blocked" and lines[bad.id]["check"]["code"] == code
    assert lines[bad.id]["check"]["fix"]
    assert preview["totals"]["blocked"] == 1 and preview["totals"]["blocked_causes"] == {code: 1}
    assert preview["totals"]["blocked_summary"].startswith("1 transaction blocked: ")

    start = cw_live.requests()[-1]["seq"] if cw_live.requests() else 0
    first = PushBillingCommand(partner_id).run()
    assert first.status == "partial" and first.counts["blocked"] == 1
    assert first.counts["pushed"] == len(txs) - 1
    assert len(_creates(cw_live, start)) == len(txs) - 1
    row = next(r for r in items(partner_id) if r.transaction_id == bad.id)
    assert row.state == "blocked" and row.last_error_code == code and row.remote_record_id is None
    additions, adjustments = cw_records(cw_live, {r.agreement_remote_id for r in items(partner_id)})
    assert f"MSPHUB-T{bad.id}" not in {a.get("serialNumber") for a in additions}
    events = [t.event for t in session().query(SyncTransition).filter_by(item_id=row.id).order_by(SyncTransition.id)]
    assert events == ["created", "block"]

    start = cw_live.requests()[-1]["seq"]
    again = PushBillingCommand(partner_id).run()  # still wrong: still blocked, still no call
    assert again.counts["blocked"] == 1 and again.psa_calls == 0 and _creates(cw_live, start) == []

    _restore(bad.id, old)
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded", dict(fixed.counts)
    assert fixed.counts["pushed"] == 1 and fixed.writes == 1
    row = next(r for r in items(partner_id) if r.transaction_id == bad.id)
    assert row.state == "pushed" and row.last_error_code is None


def test_credits_are_never_held_by_the_charge_checks(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    credits = [t for t in expected_transactions(customers) if t.kind == "credit"]
    for tx in credits:
        tx.quantity = Decimal(0)
    session().commit()
    result = PushBillingCommand(partner_id).run()
    assert result.counts.get("blocked", 0) == 0
    assert {r.state for r in items(partner_id)} == {"pushed"}
