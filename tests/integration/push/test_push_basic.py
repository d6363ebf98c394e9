"""The billing push in-process against the sandbox over HTTP: ledger, exactly once, call counts."""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.daos.base import session
from msphub_psa.models.hub import BillingTransaction
from msphub_psa.models.sync import SyncRun, SyncTransition
from tests.support.push import by_reference, cw_records, dec, expected_transactions, items, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


def _settled_check(cw_live, partner_id, customers):
    """Every eligible transaction exactly once in ConnectWise, amounts and dates equal."""
    txs = expected_transactions(customers)
    rows = items(partner_id)
    agreements = {r.agreement_remote_id for r in rows}
    additions, adjustments = cw_records(cw_live, agreements)
    add_refs, adj_refs = by_reference(additions, "serialNumber"), by_reference(adjustments, "description")
    charges = [t for t in txs if t.kind == "charge"]
    credits = [t for t in txs if t.kind == "credit"]
    assert sorted(add_refs) == [t.id for t in charges] and set(add_refs.values()) <= {1}
    assert sorted(adj_refs) == [t.id for t in credits] and set(adj_refs.values()) <= {1}
    by_serial = {r["serialNumber"]: r for r in additions}
    for t in charges:
        rec = by_serial[f"MSPHUB-T{t.id}"]
        assert dec(rec["quantity"]) * dec(rec["unitPrice"]) == t.amount
        assert rec["effectiveDate"][:10] == t.period_start.isoformat()
        assert rec["cancelledDate"][:10] == t.period_end.isoformat()
    return txs, additions, adjustments


def test_push_pushes_every_eligible_transaction_once_and_second_run_writes_nothing(ctx, cw_live, caplog):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    with caplog.at_level(logging.INFO, logger="msphub_psa.commands.billing.orchestrator"):
        first = PushBillingCommand(partner_id).run()
    assert first.status == "succeeded", first.error
    steps = ", ".join(
        rf"{step} \d+\.\d s" for step in ("recover", "outbox", "move", "preflight", "catalog", "delivery")
    )
    line = rf"push partner={partner_id} run={first.run_id} succeeded; steps: {steps}"
    assert [m for m in caplog.messages if re.fullmatch(line, m)], caplog.messages
    txs, additions, adjustments = _settled_check(cw_live, partner_id, customers)
    assert first.counts["pushed"] == len(txs) > 0
    assert all(r.state == "pushed" and r.remote_record_id for r in items(partner_id))
    # calls = catalog calls + one POST per record (no faults: no look-ups)
    assert first.psa_calls == first.catalog_calls + first.check_calls + first.writes + first.lookups
    assert first.writes == len(txs) and first.lookups == 0

    start = len(cw_live.requests())
    second = PushBillingCommand(partner_id).run()
    assert second.status == "succeeded"
    assert second.psa_calls == 0 and second.writes == 0
    assert [r for r in cw_live.requests()[start:] if r["method"] != "GET"] == []

    sub_tx = txs[-1]
    new = BillingTransaction(
        partner_id=partner_id,
        customer_id=sub_tx.customer_id,
        subscription_id=sub_tx.subscription_id,
        kind="charge",
        period_start=dt.date(2026, 12, 1),
        period_end=dt.date(2026, 12, 31),
        quantity=Decimal(3),
        unit_price=Decimal("10.50"),
        unit_cost=Decimal(9),
        amount=Decimal("31.50"),
        currency="USD",
    )
    session().add(new)
    session().commit()
    third = PushBillingCommand(partner_id).run()
    assert third.counts["pushed"] == 1
    # one create, one batched catalog re-read, the pre-flight reads of the agreement and its company
    assert third.writes == 1 and third.catalog_calls == 1 and third.check_calls == 2
    assert third.psa_calls == third.writes + third.lookups + third.catalog_calls + third.check_calls == 4
    run = session().get(SyncRun, third.run_id)
    assert run.status == "succeeded" and run.psa_calls == 4 and run.check_calls == 2 and run.finished_at is not None
    transitions = session().scalars(select(SyncTransition.event).where(SyncTransition.run_id == third.run_id)).all()
    assert sorted(transitions) == ["attempt", "created", "succeeded"]
