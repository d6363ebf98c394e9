"""Reads of the marketplace slice: the seam where MSP Hub's real tables plug in."""
from __future__ import annotations

from sqlalchemy import select

from plugin.daos.base import BaseDAO, session
from plugin.models.hub import (
    BillingTransaction, Customer, Distributor, Partner, Product, Subscription,
)


class DistributorDAO(BaseDAO[Distributor]):
    """Distributors."""

    model_cls = Distributor


class PartnerDAO(BaseDAO[Partner]):
    """Partners (tenants)."""

    model_cls = Partner

    @staticmethod
    def list_for_distributor(distributor_id: int | None) -> list[Partner]:
        """Partners of one distributor (all partners for None), by name."""
        query = select(Partner).order_by(Partner.name)
        if distributor_id is not None:
            query = query.where(Partner.distributor_id == distributor_id)
        return list(session().scalars(query))

    @staticmethod
    def ids_of_distributor(distributor_id: int):
        """A subquery of the partner ids of one distributor."""
        return select(Partner.id).where(Partner.distributor_id == distributor_id).scalar_subquery()


class CustomerDAO(BaseDAO[Customer]):
    """Customers of partners."""

    model_cls = Customer

    @staticmethod
    def names_of_pilot() -> list[str]:
        """Customer names of the first partner whose feature is on (the demo's pilot), by id."""
        from plugin.models.psa import PartnerFeature

        pilot = select(PartnerFeature.partner_id).where(PartnerFeature.enabled.is_(True)).order_by(
            PartnerFeature.partner_id).limit(1).scalar_subquery()
        return list(session().scalars(select(Customer.name).where(Customer.partner_id == pilot).order_by(Customer.id)))


class ProductDAO(BaseDAO[Product]):
    """Distributor catalog products."""

    model_cls = Product


class SubscriptionDAO(BaseDAO[Subscription]):
    """Customer subscriptions."""

    model_cls = Subscription


class BillingTransactionDAO(BaseDAO[BillingTransaction]):
    """MSP Hub billing lines (read only)."""

    model_cls = BillingTransaction
