"""The marketplace contract: the relations of MSP Hub that the plugin reads and never writes.

A host satisfies the contract with its own tables or with views over them, under these relation
names and column names, with these types (``docs/plugin.md`` lists them, with the indexes the
plugin's queries need; ``flask psa health`` checks a database against them). The plugin creates
none of them and puts no foreign key on them. Our stand-in host (``app.py``) creates them as tables
in its own migration, and the demo seeds them. Only ``daos/hub.py`` queries them.
Money is ``Numeric`` (``Decimal``) in the partner's currency; times are UTC.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.models.base import CONTRACT, MONEY, QUANTITY, Base, contract_ref

CONTRACT_INFO = {CONTRACT: True}


class Distributor(Base):
    """A distributor: sells subscriptions to its partners."""

    __tablename__ = "hub_distributor"
    __table_args__ = {"info": CONTRACT_INFO}
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))

    def __repr__(self) -> str:
        return self.name


class Partner(Base):
    """A partner (MSP): one tenant, reselling to its customers."""

    __tablename__ = "hub_partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    distributor: Mapped[Distributor] = contract_ref("Distributor", "distributor_id", "Partner")
    __table_args__ = (Index("ix_hub_partner_distributor_id", "distributor_id"), {"info": CONTRACT_INFO})

    def __repr__(self) -> str:
        return self.name


class Customer(Base):
    """An organisation a partner sells to."""

    __tablename__ = "hub_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "Customer")
    __table_args__ = (Index("ix_hub_customer_partner_name", "partner_id", "name"), {"info": CONTRACT_INFO})

    def __repr__(self) -> str:
        return self.name


class Product(Base):
    """A catalog product of a distributor, sold on one term and billing frequency
    (``billing_frequency``: ``monthly``, ``annual`` or ``one_time``)."""

    __tablename__ = "hub_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(Integer)
    publisher: Mapped[str] = mapped_column(String(100))
    item_type: Mapped[str] = mapped_column(String(60))
    product_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(400))
    billing_term: Mapped[str] = mapped_column(String(10))
    billing_frequency: Mapped[str] = mapped_column(String(10))
    distributor: Mapped[Distributor] = contract_ref("Distributor", "distributor_id", "Product")
    __table_args__ = (Index("ix_hub_product_distributor_id", "distributor_id"), {"info": CONTRACT_INFO})

    def __repr__(self) -> str:
        return f"{self.title} ({self.billing_term}, {self.billing_frequency})"


class Subscription(Base):
    """A customer's subscription to one product (``status``: ``active``, ``suspended`` or ``cancelled``)."""

    __tablename__ = "hub_subscription"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(12), default="active")
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "Subscription")
    customer: Mapped[Customer] = contract_ref("Customer", "customer_id", "Subscription")
    product: Mapped[Product] = contract_ref("Product", "product_id", "Subscription")
    __table_args__ = (
        Index("ix_hub_subscription_partner_id", "partner_id"),
        Index("ix_hub_subscription_customer_id", "customer_id"),
        Index("ix_hub_subscription_product_id", "product_id"),
        {"info": CONTRACT_INFO},
    )

    def __repr__(self) -> str:
        return f"{self.name} [{self.external_id}]"


class BillingTransaction(Base):
    """One line of MSP Hub's billing for one subscription and period (``kind``: ``charge`` or ``credit``);
    immutable once written."""

    __tablename__ = "hub_billing_transaction"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(6))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    subscription: Mapped[Subscription] = contract_ref("Subscription", "subscription_id", "BillingTransaction")
    customer: Mapped[Customer] = contract_ref("Customer", "customer_id", "BillingTransaction")
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "BillingTransaction")
    __table_args__ = (
        Index("ix_hub_billing_transaction_customer_id", "customer_id"),
        Index("ix_hub_billing_transaction_subscription_id", "subscription_id"),
        Index("ix_hub_billing_transaction_partner_period", "partner_id", "period_end"),
        {"info": CONTRACT_INFO},
    )

    def __repr__(self) -> str:
        return f"T{self.id} {self.kind} {self.amount} {self.currency}"


CONTRACT_MODELS = (Distributor, Partner, Customer, Product, Subscription, BillingTransaction)
"""The marketplace relations, in the order a host creates them."""
