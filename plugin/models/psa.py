"""The integration's own tables: tenancy, feature toggle, integration, audit.

Later features add their tables here (rules, directory cache, mappings, outbox).
"""
from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin.models.hub import Distributor, Partner, utcnow

USER_FK = "ab_user.id"


class UserTenant(Model):
    """Ties a FAB user to the distributor or the partner it acts for."""

    __tablename__ = "psa_user_tenant"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(USER_FK, ondelete="CASCADE"), unique=True)
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("hub_distributor.id"), nullable=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("hub_partner.id"), nullable=True, index=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    distributor: Mapped[Distributor | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
    __table_args__ = (
        CheckConstraint(
            "(distributor_id IS NULL) <> (partner_id IS NULL)", name="ck_user_tenant_one_scope"
        ),
    )


class PartnerFeature(Model):
    """The distributor's per-partner toggle of the ConnectWise integration."""

    __tablename__ = "psa_partner_feature"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    partner: Mapped[Partner] = relationship()


class Integration(Model):
    """One partner's ConnectWise connection; the private key is stored encrypted."""

    __tablename__ = "psa_integration"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="inactive")
    client_id: Mapped[str] = mapped_column(String(64))
    client_id_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    company_name: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(100))
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    api_url: Mapped[str] = mapped_column(String(300))
    pending: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    validation_job_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    validation_hint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_validation_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Outcome of the last validation ("ok" | "failed" | "cancelled") and when it ended (card issue).
    validation_result: Mapped[str | None] = mapped_column(String(12), nullable=True)
    validated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = relationship()
    activated_by: Mapped[User | None] = relationship(User, foreign_keys=[activated_by_id])
    __table_args__ = (
        CheckConstraint(
            "status IN ('inactive', 'validating', 'active', 'invalid', 'deactivated')",
            name="ck_integration_status",
        ),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"ConnectWise for partner {self.partner_id} ({self.status})"


class AuditEvent(Model):
    """Who did what to which record, when, and the outcome."""

    __tablename__ = "psa_audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    username: Mapped[str] = mapped_column(String(100))
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("hub_distributor.id"), nullable=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("hub_partner.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    outcome: Mapped[str] = mapped_column(String(12), default="ok")
    detail: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    partner: Mapped[Partner | None] = relationship()
    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="ck_audit_outcome"),
        Index("ix_psa_audit_event_partner_at", "partner_id", "at"),
    )
