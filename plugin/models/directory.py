"""A partner's cache of its PSA: companies, agreements and procurement lists, refreshed by jobs, so
pages never wait on the PSA. ``remote_id`` is the record's id in the PSA (``psa_kind``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from msphub_psa import clock
from msphub_psa.models.base import Base, contract_ref
from msphub_psa.models.hub import Partner

KIND = {"default": "connectwise", "server_default": "connectwise"}


class PsaCompany(Base):
    """A company of the partner's PSA (a ConnectWise company), as last read."""

    __tablename__ = "psa_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    psa_kind: Mapped[str] = mapped_column(String(20), **KIND)
    remote_id: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(60), default="")
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(60), nullable=True)
    types: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cached_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "PsaCompany")
    __table_args__ = (
        UniqueConstraint("partner_id", "remote_id", name="uq_psa_company_partner_remote"),
        Index("ix_psa_company_partner_name", "partner_id", "name"),
    )

    def __repr__(self) -> str:
        return f"{self.name} (#{self.remote_id})"


class PsaAgreement(Base):
    """An agreement of the partner's PSA (a ConnectWise agreement), as last read."""

    __tablename__ = "psa_agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    psa_kind: Mapped[str] = mapped_column(String(20), **KIND)
    remote_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    remote_company_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("psa_company.id"), nullable=True, index=True)
    type_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    agreement_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    no_ending_date: Mapped[bool] = mapped_column(Boolean, default=False)
    bill_start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    billing_cycle: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    date_cancelled: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cached_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "PsaAgreement")
    company: Mapped[PsaCompany | None] = relationship()
    __table_args__ = (UniqueConstraint("partner_id", "remote_id", name="uq_psa_agreement_partner_remote"),)

    def __repr__(self) -> str:
        return f"{self.name} (#{self.remote_id})"


class PsaListEntry(Base):
    """One entry of the PSA's procurement lists (a category, subcategory or product type)."""

    __tablename__ = "psa_list_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    psa_kind: Mapped[str] = mapped_column(String(20), **KIND)
    kind: Mapped[str] = mapped_column(String(12))
    remote_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    category_remote_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "PsaListEntry")
    __table_args__ = (
        CheckConstraint("kind IN ('category', 'subcategory', 'type')", name="kind"),
        UniqueConstraint("partner_id", "kind", "remote_id", name="uq_psa_list_entry"),
    )

    def __repr__(self) -> str:
        return f"{self.kind} {self.name} ({self.remote_id})"


class PsaListRefresh(Base):
    """When the partner's PSA lists were last refreshed, and how it went."""

    __tablename__ = "psa_list_refresh"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="never")
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "PsaListRefresh")
    __table_args__ = (CheckConstraint("status IN ('never', 'queued', 'ok', 'failed')", name="status"),)
