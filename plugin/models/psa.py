"""The integration's own tables: tenancy, feature toggle, integration, audit.

Later features add their tables here (rules, directory cache, mappings, outbox).
"""
from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
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
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = relationship()
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


# --- Configure Product Defaults (issue 5) ---------------------------------------------


class ProductRule(Model):
    """A partner's custom product rule: priority, conditions (all must hold), CW attributes."""

    __tablename__ = "psa_product_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    conditions: Mapped[list] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(50))
    subcategory: Mapped[str] = mapped_column(String(50))
    product_type: Mapped[str] = mapped_column(String(50))
    product_class: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("priority >= 1", name="ck_product_rule_priority"),
        CheckConstraint("product_class IN ('Agreement', 'Bundle', 'Inventory', 'NonInventory', 'Service')",
                        name="ck_product_rule_class"),
        Index("ix_psa_product_rule_partner_priority", "partner_id", "priority"),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Rule {self.id} (priority {self.priority})"


class ProductDefaultRule(Model):
    """A partner's default rule (one per partner, never deleted): applies when no rule matches."""

    __tablename__ = "psa_product_default_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    category: Mapped[str] = mapped_column(String(50))
    subcategory: Mapped[str] = mapped_column(String(50))
    product_type: Mapped[str] = mapped_column(String(50))
    product_class: Mapped[str] = mapped_column(String(12))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("product_class IN ('Agreement', 'Bundle', 'Inventory', 'NonInventory', 'Service')",
                        name="ck_product_default_rule_class"),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Default rule of partner {self.partner_id}"


class CwListEntry(Model):
    """Cache of one ConnectWise procurement list entry (category, subcategory or product type)."""

    __tablename__ = "psa_cw_list_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    kind: Mapped[str] = mapped_column(String(12))
    cw_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    category_cw_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("kind IN ('category', 'subcategory', 'type')", name="ck_cw_list_entry_kind"),
        UniqueConstraint("partner_id", "kind", "cw_id", name="uq_psa_cw_list_entry"),
    )

    def __repr__(self) -> str:
        return f"{self.kind} {self.name} ({self.cw_id})"


class CwListRefresh(Model):
    """When the partner's ConnectWise lists were last refreshed, and how it went."""

    __tablename__ = "psa_cw_list_refresh"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="never")
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("status IN ('never', 'queued', 'ok', 'failed')", name="ck_cw_list_refresh_status"),
    )
