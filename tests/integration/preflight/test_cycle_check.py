"""The billing cycle check against the sandbox over HTTP: an agreement billed in another cycle than the subscription
blocks its rows (no call) unless the partner accepted the mismatch for that mapping; accepting it lets the next
push send them."""

from __future__ import annotations

from sqlalchemy import select, update

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreviewCommand
from msphub_psa.daos.base import session
from msphub_psa.models.hub import Product, Subscription
from msphub_psa.models.reconciliation import SubscriptionMapping
from tests.integration.preflight.sandbox import creates, edit, last_seq, touching
from tests.support.push import expected_transactions, items, push_setup


def _frequency(tx) -> str:
    sub = session().get(Subscription, tx.subscription_id)
    return session().get(Product, sub.product_id).billing_frequency


def _accept(customer_id: int, accepted: bool) -> None:
    session().execute(
        update(SubscriptionMapping)
        .where(SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None))
        .values(mismatch_accepted=accepted)
    )
    session().commit()


def test_a_cycle_mismatch_blocks_unless_accepted(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    txs = expected_transactions(customers)
    monthly = {t.id for t in txs if _frequency(t) == "monthly"}
    assert monthly
    _accept(customers[0], False)
    groups = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()["groups"]["result"]
    assert all(line["status"] == "ok" for g in groups for line in g["lines"] if line["transaction_id"] in monthly)
    agreement_id = groups[0]["agreement_remote_id"]
    edit(cw_live, "agreements", agreement_id, lambda r: r.update(billingCycle={"id": 3, "name": "Annual"}))

    groups = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()["groups"]["result"]
    lines = {line["transaction_id"]: line for g in groups for line in g["lines"]}
    assert {t for t, line in lines.items() if line["status"] == "blocked"} == monthly
    assert {lines[t]["check"]["code"] for t in monthly} == {"BillingCycleMismatch"}

    start = last_seq(cw_live)
    result = PushBillingCommand(partner_id).run()
    assert result.counts["blocked"] == len(monthly) and result.counts["pushed"] == len(txs) - len(monthly)
    assert len(creates(cw_live, start)) == len(txs) - len(monthly)
    rows = {r.transaction_id: r for r in items(partner_id)}
    assert {rows[t].state for t in monthly} == {"blocked"}

    _accept(customers[0], True)  # the partner accepts the mismatch for these mappings
    start = last_seq(cw_live)
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded" and fixed.counts["pushed"] == len(monthly)
    assert len(touching(cw_live, start, agreement_id)) == len(monthly)
    assert {r.state for r in items(partner_id)} == {"pushed"}
    assert session().scalar(select(SubscriptionMapping.mismatch_accepted).limit(1)) is not None
