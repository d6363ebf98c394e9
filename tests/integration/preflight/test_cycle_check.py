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


def test_associate_records_the_accepted_mismatch_only_when_there_is_one(ctx, cw_live):
    from msphub_psa import clock
    from msphub_psa.commands.subscriptions import MapSubscriptionsCommand
    from msphub_psa.models.reconciliation import CustomerMapping
    from tests.support.push import agreement_named

    partner_id, actor, customers = push_setup(cw_live, customers=3)
    chosen = None
    for customer_id in customers:
        company_id = session().scalar(
            select(CustomerMapping.company_id).where(
                CustomerMapping.customer_id == customer_id, CustomerMapping.ended_at.is_(None)
            )
        )
        annual = agreement_named(company_id, "Microsoft CSP - Annual")
        monthly_txs = [t for t in expected_transactions([customer_id]) if _frequency(t) == "monthly"]
        if annual is not None and monthly_txs:
            chosen = (customer_id, annual, monthly_txs[0].subscription_id)
            break
    assert chosen is not None
    customer_id, annual, sub_id = chosen
    for accept in (False, True):
        session().execute(
            update(SubscriptionMapping)
            .where(SubscriptionMapping.subscription_id == sub_id, SubscriptionMapping.ended_at.is_(None))
            .values(ended_at=clock.now(), active=False, ended_by="test")
        )
        session().commit()
        (mapping,) = MapSubscriptionsCommand(
            actor, customer_id, annual.id, [sub_id], partner_id=partner_id, accept_mismatch=accept
        ).run()
        assert mapping.mismatch_accepted is accept
    session().execute(
        update(SubscriptionMapping)
        .where(SubscriptionMapping.subscription_id == sub_id, SubscriptionMapping.ended_at.is_(None))
        .values(ended_at=clock.now(), active=False, ended_by="test")
    )
    session().commit()
    company_id = annual.company_id
    monthly = agreement_named(company_id, "Microsoft CSP - Monthly")
    (fitting,) = MapSubscriptionsCommand(
        actor, customer_id, monthly.id, [sub_id], partner_id=partner_id, accept_mismatch=True
    ).run()
    assert fitting.mismatch_accepted is False  # nothing to accept
