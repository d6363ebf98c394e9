"""Set-ups for Products / Subscriptions tests: a mapped customer with subscriptions and agreements of our own."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from sqlalchemy import select

from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction, Customer, Product, Subscription
from msphub_psa.models.reconciliation import CustomerMapping

_SEQ = itertools.count(1)


def product(frequency: str = "monthly") -> Product:
    """A catalog product billed at this frequency."""
    return session().scalar(select(Product).where(Product.billing_frequency == frequency).order_by(Product.id))


def agreement(partner_id: int, company: PsaCompany, name: str, cycle: str = "Monthly", **values) -> PsaAgreement:
    """A cached, active agreement of ``company`` (billing since 2024-01-01 unless given)."""
    n = next(_SEQ)
    row = PsaAgreement(
        partner_id=partner_id,
        remote_id=900000 + n,
        name=name,
        remote_company_id=company.remote_id,
        company_id=company.id,
        type_name=values.pop("type_name", "Managed Services"),
        agreement_status=values.pop("agreement_status", "Active"),
        start_date=values.pop("start_date", dt.date(2024, 1, 1)),
        bill_start_date=values.pop("bill_start_date", dt.date(2024, 1, 1)),
        no_ending_date=values.pop("no_ending_date", True),
        billing_cycle=cycle,
        **values,
    )
    session().add(row)
    session().flush()
    return row


def customer_with_subscriptions(
    partner_id: int,
    name: str,
    count: int = 3,
    mapped: bool = True,
    frequency: str = "monthly",
    start: dt.date = dt.date(2025, 1, 15),
):
    """(customer, company, [subscriptions]) with one monthly transaction per subscription per month since ``start``."""
    n = next(_SEQ)
    customer = Customer(partner_id=partner_id, external_id=f"SUBT-{n:05d}", name=name)
    company = PsaCompany(partner_id=partner_id, remote_id=800000 + n, identifier=f"SubT{n}", name=f"{name} (CW)")
    session().add_all([customer, company])
    session().flush()
    item = product(frequency)
    subs = []
    for i in range(count):
        sub = Subscription(
            partner_id=partner_id,
            customer_id=customer.id,
            product_id=item.id,
            external_id=f"SUBT-{n:05d}-{i}",
            name=f"{item.title[:40]} #{i + 1}",
            quantity=Decimal(5 + i),
            unit_price=Decimal("12.50"),
            unit_cost=Decimal("10.00"),
            status="active",
            start_date=start,
        )
        session().add(sub)
        subs.append(sub)
    session().flush()
    for sub in subs:
        _transactions(partner_id, sub)
    if mapped:
        session().add(
            CustomerMapping(
                partner_id=partner_id,
                customer_id=customer.id,
                company_id=company.id,
                method="manual",
                created_by="test",
            )
        )
    session().commit()
    return customer, company, subs


def _transactions(partner_id: int, sub: Subscription) -> None:
    """Monthly charges from the subscription's start to 2025-12."""
    start = sub.start_date
    for month in range(12):
        index = start.year * 12 + start.month - 1 + month
        first = dt.date(index // 12, index % 12 + 1, min(start.day, 28))
        nxt = dt.date((index + 1) // 12, (index + 1) % 12 + 1, min(start.day, 28))
        if first > dt.date(2025, 12, 31):
            break
        session().add(
            BillingTransaction(
                partner_id=partner_id,
                customer_id=sub.customer_id,
                subscription_id=sub.id,
                kind="charge",
                period_start=first,
                period_end=nxt - dt.timedelta(days=1),
                quantity=sub.quantity,
                unit_price=sub.unit_price,
                unit_cost=sub.unit_cost,
                amount=sub.quantity * sub.unit_price,
                currency="USD",
            )
        )
