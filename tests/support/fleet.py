"""Several partners on one sandbox: the fleet tests' set-up (a push per partner, each on its own integration)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from msphub_psa.commands.directory import RefreshDirectoryCommand, system_actor
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaCompany
from msphub_psa.models.hub import Customer, Subscription
from msphub_psa.models.reconciliation import CustomerMapping
from msphub_psa.models.tenancy import PartnerFeature
from tests.support.integration import make_active_integration
from tests.support.push import map_subscription, monthly_agreement


def partner_on_sandbox(cw_live, partner_id: int, customers: int = 1) -> list[int]:
    """The partner with the feature on, an active integration on ``cw_live`` (already seeded), its directory read,
    and its first ``customers`` customers mapped to sandbox companies that have a monthly agreement, their
    subscriptions to it; returns the mapped customer ids."""
    feature = session().scalar(select(PartnerFeature).where(PartnerFeature.partner_id == partner_id))
    if feature is None:
        session().add(PartnerFeature(partner_id=partner_id, enabled=True))
    else:
        feature.enabled = True
    session().commit()
    make_active_integration(partner_id, cw_live)
    RefreshDirectoryCommand(system_actor(partner_id), partner_id).run()
    companies = [
        c
        for c in session().scalars(
            select(PsaCompany).where(PsaCompany.partner_id == partner_id).order_by(PsaCompany.id)
        )
        if monthly_agreement(c.id) is not None
    ]
    chosen = []
    for customer, company in zip(
        session().scalars(select(Customer).where(Customer.partner_id == partner_id).order_by(Customer.id)),
        companies,
        strict=False,
    ):
        subs = list(session().scalars(select(Subscription).where(Subscription.customer_id == customer.id)))
        if not subs:
            continue
        session().add(
            CustomerMapping(
                partner_id=partner_id,
                customer_id=customer.id,
                company_id=company.id,
                method="manual",
                created_by="test",
            )
        )
        for sub in subs:
            map_subscription(partner_id, sub, monthly_agreement(company.id), from_date=_FROM)
        chosen.append(customer.id)
        if len(chosen) >= customers:
            break
    session().commit()
    return chosen


_FROM = dt.date(2000, 1, 1)
