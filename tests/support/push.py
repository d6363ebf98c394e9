"""Set-ups for billing push tests: the pilot mapped onto the sandbox, and sandbox read-backs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from msphub_psa import clock
from msphub_psa.commands.reconciliation import MapExactMatchesCommand
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaAgreement
from msphub_psa.models.hub import BillingTransaction, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import SyncItem
from tests.support.reconciliation import pilot_ready


def monthly_agreement(company_id: int) -> PsaAgreement:
    """The company's active monthly agreement in the cache."""
    return session().scalar(
        select(PsaAgreement).where(
            PsaAgreement.company_id == company_id, PsaAgreement.name == "Microsoft CSP - Monthly"
        )
    )


def agreement_named(company_id: int, name: str) -> PsaAgreement:
    """One of the company's cached agreements by name."""
    return session().scalar(
        select(PsaAgreement).where(PsaAgreement.company_id == company_id, PsaAgreement.name == name)
    )


def map_subscription(
    partner_id: int,
    subscription: Subscription,
    agreement: PsaAgreement,
    from_date: dt.date,
    mismatch_accepted: bool = True,
) -> SubscriptionMapping:
    """An active subscription mapping to ``agreement`` from ``from_date`` (any auto-association that
    mapping the customer made is ended first, as a Change would); a billing cycle mismatch accepted unless
    ``mismatch_accepted`` is False (the pilot maps annual subscriptions to monthly agreements too)."""
    from msphub_psa.clock import now as utcnow

    for old in session().scalars(
        select(SubscriptionMapping).where(
            SubscriptionMapping.subscription_id == subscription.id, SubscriptionMapping.ended_at.is_(None)
        )
    ):
        old.ended_at, old.active, old.ended_by = utcnow(), False, "test"
    session().flush()
    row = SubscriptionMapping(
        partner_id=partner_id,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        agreement_id=agreement.id,
        from_date_mode="custom",
        from_date=from_date,
        active=True,
        created_by="pilot.admin",
        mismatch_accepted=mismatch_accepted,
    )
    session().add(row)
    session().flush()
    return row


def push_setup(
    cw_live, customers: int = 3, max_transactions: int | None = None, from_date: dt.date = dt.date(2000, 1, 1)
):
    """The pilot on the sandbox, ``customers`` exact-name customers mapped, their subscriptions mapped
    to the monthly agreement; returns (partner id, actor, the eligible transaction ids)."""
    partner_id, actor = pilot_ready(cw_live)
    MapExactMatchesCommand(actor, partner_id).run()
    mappings = list(
        session().scalars(
            select(CustomerMapping)
            .where(CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None))
            .order_by(CustomerMapping.customer_id)
        )
    )
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
    return session().scalar(
        select(func.count())
        .select_from(BillingTransaction)
        .where(BillingTransaction.subscription_id == subscription_id)
    )


def unmap_others(partner_id: int, keep: list[int]) -> None:
    """End the customer mappings of all but ``keep`` (so the test's set stays small)."""
    for mapping in session().scalars(
        select(CustomerMapping).where(CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None))
    ):
        if mapping.customer_id not in keep:
            mapping.ended_at, mapping.ended_by = clock.now(), "test"


def expected_transactions(customer_ids: list[int]) -> list[BillingTransaction]:
    """The mapped customers' transactions (all eligible with the default From Date)."""
    return list(
        session().scalars(
            select(BillingTransaction)
            .where(BillingTransaction.customer_id.in_(customer_ids))
            .order_by(BillingTransaction.id)
        )
    )


def cw_records(cw_live, agreement_cw_ids) -> tuple[list[dict], list[dict]]:
    """(additions, adjustments) the sandbox holds on these agreements."""
    additions, adjustments = [], []
    for agreement_id in sorted(set(agreement_cw_ids)):
        additions += cw_live.state("additions", parent=agreement_id)
        adjustments += cw_live.state("adjustments", parent=agreement_id)
    return additions, adjustments


def by_reference(records: list[dict], field: str) -> Counter:
    """How many records carry each of our references."""
    from msphub_psa.domain.billing import parse_reference

    return Counter(parse_reference(r.get(field)) for r in records if parse_reference(r.get(field)))


def dec(value) -> Decimal:
    """A JSON number as Decimal."""
    return Decimal(str(value))


def items(partner_id: int) -> list[SyncItem]:
    """The partner's outbox rows."""
    session().expire_all()
    return list(
        session().scalars(select(SyncItem).where(SyncItem.partner_id == partner_id).order_by(SyncItem.transaction_id))
    )


def add_history(partner_id: int, customer_ids: list[int], total: int) -> list[BillingTransaction]:
    """Add monthly charges (every 7th a credit, every 5th prorated) to the customers' subscriptions
    until ``total`` transactions exist for them; returns the new ones."""
    subs = list(
        session().scalars(
            select(Subscription).where(Subscription.customer_id.in_(customer_ids)).order_by(Subscription.id)
        )
    )
    have = len(expected_transactions(customer_ids))
    added, month = [], 0
    while have + len(added) < total:
        for sub in subs:
            if have + len(added) >= total:
                break
            added.append(_history_tx(partner_id, sub, month, len(added)))
        month += 1
    session().add_all(added)
    session().commit()
    return added


def _history_tx(partner_id: int, sub: Subscription, month: int, n: int) -> BillingTransaction:
    """One synthetic transaction ``month`` months before 2024-12."""
    index = 2024 * 12 + 11 - month
    start = dt.date(index // 12, index % 12 + 1, 1)
    end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1) - dt.timedelta(days=1)
    quantity, price = Decimal(3 + n % 5), Decimal("12.40")
    kind, amount = "charge", quantity * price
    if n % 7 == 6:
        kind, amount = "credit", Decimal("-7.25")
    elif n % 5 == 4:
        amount = (quantity * price * Decimal(17) / Decimal(31)).quantize(Decimal("0.01"))
    return BillingTransaction(
        partner_id=partner_id,
        customer_id=sub.customer_id,
        subscription_id=sub.id,
        kind=kind,
        period_start=start,
        period_end=end,
        quantity=quantity,
        unit_price=price,
        unit_cost=Decimal("10.00"),
        amount=amount,
        currency="USD",
    )


def without_approval(actor, partner_id: int) -> None:
    """The partner's pushes start at once (approval ``never``), as tests of the push itself want."""
    from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand

    UpdateSyncSettingsCommand(actor, {"approval": "never"}, partner_id).run()
