"""The marketplace slice of MSP Hub that the integration reads.

In MSP Hub these tables already exist; here the demo seeds them. Only
``daos/hub.py`` queries them, so it is the seam where the real ones plug in.
Money is ``Numeric`` (``Decimal``) in the partner's currency; times are UTC.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin import clock

MONEY = Numeric(14, 4)
QUANTITY = Numeric(14, 4)


class Distributor(Model):
    """A distributor: sells subscriptions to its partners."""

    __tablename__ = "hub_distributor"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)

    def __repr__(self) -> str:
        return self.name


class Partner(Model):
    """A partner (MSP): one tenant, reselling to its customers."""

    __tablename__ = "hub_partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("hub_distributor.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    distributor: Mapped[Distributor] = relationship()
    __table_args__ = (UniqueConstraint("distributor_id", "name"),)

    def __repr__(self) -> str:
        return self.name


class Customer(Model):
    """An organisation a partner sells to."""

    __tablename__ = "hub_customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (Index("ix_hub_customer_partner_name", "partner_id", "name"),)

    def __repr__(self) -> str:
        return self.name


class Product(Model):
    """A catalog product of a distributor, sold on one term and billing frequency."""

    __tablename__ = "hub_product"
    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("hub_distributor.id"), index=True)
    publisher: Mapped[str] = mapped_column(String(100))
    item_type: Mapped[str] = mapped_column(String(60))
    product_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(400))
    billing_term: Mapped[str] = mapped_column(String(10))
    billing_frequency: Mapped[str] = mapped_column(String(10))
    distributor: Mapped[Distributor] = relationship()
    __table_args__ = (
        UniqueConstraint("distributor_id", "product_id", "billing_term", "billing_frequency"),
        CheckConstraint("billing_frequency IN ('monthly', 'annual', 'one_time')", name="ck_product_frequency"),
    )

    def __repr__(self) -> str:
        return f"{self.title} ({self.billing_term}, {self.billing_frequency})"


class Subscription(Model):
    """A customer's subscription to one product."""

    __tablename__ = "hub_subscription"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("hub_product.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(12), default="active")
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    partner: Mapped[Partner] = relationship()
    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'cancelled')", name="ck_subscription_status"),
        CheckConstraint("quantity >= 0", name="ck_subscription_quantity"),
    )

    def __repr__(self) -> str:
        return f"{self.name} [{self.external_id}]"


class BillingTransaction(Model):
    """One line of MSP Hub's billing for one subscription and period; immutable."""

    __tablename__ = "hub_billing_transaction"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("hub_subscription.id"), index=True)
    kind: Mapped[str] = mapped_column(String(6))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    subscription: Mapped[Subscription] = relationship()
    customer: Mapped[Customer] = relationship()
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("kind IN ('charge', 'credit')", name="ck_transaction_kind"),
        CheckConstraint("period_end >= period_start", name="ck_transaction_period"),
        Index("ix_hub_billing_transaction_partner_period", "partner_id", "period_end"),
    )

    def __repr__(self) -> str:
        return f"T{self.id} {self.kind} {self.amount} {self.currency}"
