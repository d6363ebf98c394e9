"""The Reconciliation Center: refresh state, customer and subscription mappings, running totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from msphub_psa import clock
from msphub_psa.models.base import MONEY, Base, contract_ref
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import Customer, Partner, Subscription

_ACTIVE_ROW = "ended_at IS NULL"


class ReconciliationState(Base):
    """Per partner: directory refresh state (last refreshed, job, progress, error) and totals watermark."""

    __tablename__ = "psa_reconciliation_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    refresh_status: Mapped[str] = mapped_column(String(12), default="never")
    refresh_job_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    refresh_requested_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    refresh_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refresh_progress: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    refresh_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    companies_updated_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    agreements_updated_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revenue_watermark: Mapped[int] = mapped_column(Integer, default=0)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "ReconciliationState")
    __table_args__ = (
        CheckConstraint("refresh_status IN ('never', 'queued', 'running', 'done', 'failed')", name="status"),
    )

    def __repr__(self) -> str:
        return f"Reconciliation state of partner {self.partner_id} ({self.refresh_status})"


class CustomerMapping(Base):
    """Customer <-> PSA company, one to one while active; ended rows are history."""

    __tablename__ = "psa_customer_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("psa_company.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "CustomerMapping")
    customer: Mapped[Customer] = contract_ref("Customer", "customer_id", "CustomerMapping")
    company: Mapped[PsaCompany] = relationship()
    __table_args__ = (
        CheckConstraint("method IN ('manual', 'exact', 'suggestion')", name="method"),
        Index(
            "uq_psa_customer_mapping_active_customer",
            "customer_id",
            unique=True,
            sqlite_where=text(_ACTIVE_ROW),
            postgresql_where=text(_ACTIVE_ROW),
        ),
        Index(
            "uq_psa_customer_mapping_active_company",
            "company_id",
            unique=True,
            sqlite_where=text(_ACTIVE_ROW),
            postgresql_where=text(_ACTIVE_ROW),
        ),
    )

    @property
    def active(self) -> bool:
        """True until disassociated."""
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"Customer {self.customer_id} -> company {self.company_id} ({self.method})"


class SubscriptionMapping(Base):
    """Subscription -> PSA agreement from a date; re-mapping or disassociation ends the row.

    ``method`` says how it was made, ``previous_mapping_id`` what it replaced, and ``move_pushed`` /
    ``move_transaction_ids`` the partner's choice about transactions already pushed to the previous agreement.
    """

    __tablename__ = "psa_subscription_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_agreement.id"), index=True)
    from_date_mode: Mapped[str] = mapped_column(String(8))
    from_date: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    method: Mapped[str] = mapped_column(String(8), default="manual", server_default="manual")
    previous_mapping_id: Mapped[int | None] = mapped_column(ForeignKey("psa_subscription_mapping.id"), nullable=True)
    move_pushed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    move_transaction_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    mismatch_accepted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "SubscriptionMapping")
    customer: Mapped[Customer] = contract_ref("Customer", "customer_id", "SubscriptionMapping")
    subscription: Mapped[Subscription] = contract_ref("Subscription", "subscription_id", "SubscriptionMapping")
    agreement: Mapped[PsaAgreement] = relationship()
    previous: Mapped[SubscriptionMapping | None] = relationship(remote_side="SubscriptionMapping.id")
    __table_args__ = (
        CheckConstraint("from_date_mode IN ('all', 'custom', 'auto')", name="mode"),
        CheckConstraint("active = (ended_at IS NULL)", name="active"),
        Index(
            "uq_psa_subscription_mapping_active",
            "subscription_id",
            unique=True,
            sqlite_where=text(_ACTIVE_ROW),
            postgresql_where=text(_ACTIVE_ROW),
        ),
    )

    def __repr__(self) -> str:
        return f"Subscription {self.subscription_id} -> agreement {self.agreement_id} from {self.from_date}"


class RevenueMonth(Base):
    """Running totals: per customer and billing month, net of transactions not yet pushed.

    ``net_unpushed`` counts every not-pushed transaction; ``net_unmapped`` those whose
    subscription has no active mapping. Kept up to date by ``RevenueTotalsDAO``.
    """

    __tablename__ = "psa_revenue_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[dt.date] = mapped_column(Date)
    net_unpushed: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    net_unmapped: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    __table_args__ = (
        UniqueConstraint("customer_id", "month", name="uq_psa_revenue_month_customer_month"),
        Index("ix_psa_revenue_month_partner_month", "partner_id", "month"),
    )
