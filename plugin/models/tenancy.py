"""Who acts for which tenant, the distributor's feature toggle, and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.models.base import Base, contract_ref
from msphub_psa.models.hub import Distributor, Partner


class UserTenant(Base):
    """Ties a user of the host (FAB's user table) to the distributor or the partner it acts for."""

    __tablename__ = "psa_user_tenant"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, unique=True)
    distributor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    distributor: Mapped[Distributor | None] = contract_ref("Distributor", "distributor_id", "UserTenant")
    partner: Mapped[Partner | None] = contract_ref("Partner", "partner_id", "UserTenant")
    __table_args__ = (CheckConstraint("(distributor_id IS NULL) <> (partner_id IS NULL)", name="one_scope"),)


class UserSession(Base):
    """A user's session generation: a session cookie is valid only while it carries the current one, so logging
    out (which moves it on) ends every copy of that user's sessions."""

    __tablename__ = "psa_user_session"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class PartnerFeature(Base):
    """The distributor's per-partner toggle of the ConnectWise integration."""

    __tablename__ = "psa_partner_feature"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "PartnerFeature")


class AuditEvent(Base):
    """Who did what to which record, when, and the outcome."""

    __tablename__ = "psa_audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(100))
    distributor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    outcome: Mapped[str] = mapped_column(String(12), default="ok")
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    partner: Mapped[Partner | None] = contract_ref("Partner", "partner_id", "AuditEvent")
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="outcome"),
        Index("ix_psa_audit_event_partner_at", "partner_id", "at"),
    )
