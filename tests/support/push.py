"""Set-ups for billing push tests: the pilot mapped onto the sandbox, and sandbox read-backs."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from plugin.commands.reconciliation import MapExactMatchesCommand
from plugin.daos.base import session
from plugin.models.hub import BillingTransaction, Subscription
from plugin.models.psa import CustomerMapping, CwAgreement, SubscriptionMapping, SyncItem
from tests.support.reconciliation import pilot_ready


def monthly_agreement(company_id: int) -> CwAgreement:
    """The company's active monthly agreement in the cache."""
    return session().scalar(select(CwAgreement).where(CwAgreement.company_id == company_id,
                                                      CwAgreement.name == "Microsoft CSP - Monthly"))


def agreement_named(company_id: int, name: str) -> CwAgreement:
    """One of the company's cached agreements by name."""
    return session().scalar(select(CwAgreement).where(CwAgreement.company_id == company_id, CwAgreement.name == name))


def map_subscription(partner_id: int, subscription: Subscription, agreement: CwAgreement,
                     from_date: dt.date) -> SubscriptionMapping:
    """An active subscription mapping (the mapping model is stable; the UI comes from another issue)."""
    row = SubscriptionMapping(partner_id=partner_id, customer_id=subscription.customer_id,
                              subscription_id=subscription.id, agreement_id=agreement.id, from_date_mode="custom",
                              from_date=from_date, active=True, created_by="pilot.admin")
    session().add(row)
    session().flush()
    return row


def push_setup(cw_live, customers: int = 3, max_transactions: int | None = None,
               from_date: dt.date = dt.date(2000, 1, 1)):
    """The pilot on the sandbox, ``customers`` exact-name customers mapped, their subscriptions mapped
    to the monthly agreement; returns (partner id, actor, the eligible transaction ids)."""
    partner_id, actor = pilot_ready(cw_live)
    MapExactMatchesCommand(actor, partner_id).run()
    mappings = list(session().scalars(select(CustomerMapping).where(CustomerMapping.partner_id == partner_id,
                                                                    CustomerMapping.ended_at.is_(None))
                                      .order_by(CustomerMapping.customer_id)))
    chosen, count = [], 0
    for mapping in mappings:
        agreement = monthly_agreement(mapping.company_id)
        subs = list(session().scalars(select(Subscription).where(Subscription.customer_id == mapping.customer_id)))
        n = sum(_tx_count(s.id) for s in subs)
        if agreement is None or not subs or (max_transactions and count + n > max_transactions):
            continue
        for sub in subs:
            map_subscription(partner_id, sub, agreement, from_date)
        chosen.append(mapping.customer_id)
        count += n
        if len(chosen) >= customers:
            break
    unmap_others(partner_id, chosen)
    session().commit()
    return partner_id, actor, chosen


def _tx_count(subscription_id: int) -> int:
    """Transactions of a subscription."""
    return session().scalar(select(func.count()).select_from(BillingTransaction)
                            .where(BillingTransaction.subscription_id == subscription_id))


def unmap_others(partner_id: int, keep: list[int]) -> None:
    """End the customer mappings of all but ``keep`` (so the test's set stays small)."""
    for mapping in session().scalars(select(CustomerMapping).where(CustomerMapping.partner_id == partner_id,
                                                                   CustomerMapping.ended_at.is_(None))):
        if mapping.customer_id not in keep:
            mapping.ended_at, mapping.ended_by = dt.datetime.now(dt.timezone.utc), "test"


def expected_transactions(customer_ids: list[int]) -> list[BillingTransaction]:
    """The mapped customers' transactions (all eligible with the default From Date)."""
    return list(session().scalars(select(BillingTransaction).where(BillingTransaction.customer_id.in_(customer_ids))
                                  .order_by(BillingTransaction.id)))


def cw_records(cw_live, agreement_cw_ids) -> tuple[list[dict], list[dict]]:
    """(additions, adjustments) the sandbox holds on these agreements."""
    additions, adjustments = [], []
    for agreement_id in sorted(set(agreement_cw_ids)):
        additions += cw_live.state("additions", parent=agreement_id)
        adjustments += cw_live.state("adjustments", parent=agreement_id)
    return additions, adjustments


def by_reference(records: list[dict], field: str) -> Counter:
    """How many records carry each of our references."""
    from plugin.domain.billing import parse_reference

    return Counter(parse_reference(r.get(field)) for r in records if parse_reference(r.get(field)))


def dec(value) -> Decimal:
    """A JSON number as Decimal."""
    return Decimal(str(value))


def items(partner_id: int) -> list[SyncItem]:
    """The partner's outbox rows."""
    session().expire_all()
    return list(session().scalars(select(SyncItem).where(SyncItem.partner_id == partner_id)
                                  .order_by(SyncItem.transaction_id)))
