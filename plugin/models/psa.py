"""The integration's own tables: tenancy, feature toggle, integration, audit.

Later features add their tables here (rules, directory cache, mappings, outbox).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
    UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plugin import clock
from plugin.models.hub import MONEY, Customer, Distributor, Partner, Subscription

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
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
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
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
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
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, index=True)
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


# --- Reconciliation Center (issue 6): directory cache, mappings, running totals ---------------

_ACTIVE_ROW = "ended_at IS NULL"


class ReconciliationState(Model):
    """Per partner: directory refresh state (last refreshed, job, progress, error) and totals watermark."""

    __tablename__ = "psa_reconciliation_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
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
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("refresh_status IN ('never', 'queued', 'running', 'done', 'failed')",
                        name="ck_recon_state_status"),
    )

    def __repr__(self) -> str:
        return f"Reconciliation state of partner {self.partner_id} ({self.refresh_status})"


class CwCompany(Model):
    """A ConnectWise company in a partner's local directory cache."""

    __tablename__ = "psa_cw_company"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    cw_id: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(60), default="")
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(60), nullable=True)
    types: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    cw_last_updated: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cached_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        UniqueConstraint("partner_id", "cw_id", name="uq_psa_cw_company_partner_cw"),
        Index("ix_psa_cw_company_partner_name", "partner_id", "name"),
    )

    def __repr__(self) -> str:
        return f"{self.name} (ConnectWise #{self.cw_id})"


class CwAgreement(Model):
    """A ConnectWise agreement in a partner's local directory cache."""

    __tablename__ = "psa_cw_agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    cw_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    cw_company_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("psa_cw_company.id"), nullable=True, index=True)
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
    cw_last_updated: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cached_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = relationship()
    company: Mapped[CwCompany | None] = relationship()
    __table_args__ = (UniqueConstraint("partner_id", "cw_id", name="uq_psa_cw_agreement_partner_cw"),)

    def __repr__(self) -> str:
        return f"{self.name} (ConnectWise #{self.cw_id})"


class CustomerMapping(Model):
    """Customer <-> ConnectWise company, one to one while active; ended rows are history."""

    __tablename__ = "psa_customer_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("psa_cw_company.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    partner: Mapped[Partner] = relationship()
    customer: Mapped[Customer] = relationship()
    company: Mapped[CwCompany] = relationship()
    __table_args__ = (
        CheckConstraint("method IN ('manual', 'exact', 'suggestion')", name="ck_customer_mapping_method"),
        Index("uq_psa_customer_mapping_active_customer", "customer_id", unique=True,
              sqlite_where=text(_ACTIVE_ROW), postgresql_where=text(_ACTIVE_ROW)),
        Index("uq_psa_customer_mapping_active_company", "company_id", unique=True,
              sqlite_where=text(_ACTIVE_ROW), postgresql_where=text(_ACTIVE_ROW)),
    )

    @property
    def active(self) -> bool:
        """True until disassociated."""
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"Customer {self.customer_id} -> company {self.company_id} ({self.method})"


class SubscriptionMapping(Model):
    """Subscription -> ConnectWise agreement from a date; re-mapping or disassociation ends the row."""

    __tablename__ = "psa_subscription_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("hub_subscription.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_cw_agreement.id"), index=True)
    from_date_mode: Mapped[str] = mapped_column(String(8))
    from_date: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Products / Subscriptions tab (issue 7): how it was made, what it replaced, and the
    # partner's choice about transactions already pushed to the previous agreement.
    method: Mapped[str] = mapped_column(String(8), default="manual", server_default="manual")
    previous_mapping_id: Mapped[int | None] = mapped_column(
        ForeignKey("psa_subscription_mapping.id"), nullable=True)
    move_pushed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    move_transaction_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    partner: Mapped[Partner] = relationship()
    customer: Mapped[Customer] = relationship()
    subscription: Mapped[Subscription] = relationship()
    agreement: Mapped[CwAgreement] = relationship()
    previous: Mapped[SubscriptionMapping | None] = relationship(remote_side="SubscriptionMapping.id")
    __table_args__ = (
        CheckConstraint("from_date_mode IN ('all', 'custom', 'auto')", name="ck_subscription_mapping_mode"),
        CheckConstraint("active = (ended_at IS NULL)", name="ck_subscription_mapping_active"),
        Index("uq_psa_subscription_mapping_active", "subscription_id", unique=True,
              sqlite_where=text(_ACTIVE_ROW), postgresql_where=text(_ACTIVE_ROW)),
    )

    def __repr__(self) -> str:
        return f"Subscription {self.subscription_id} -> agreement {self.agreement_id} from {self.from_date}"


class RevenueMonth(Model):
    """Running totals: per customer and billing month, net of transactions not yet pushed.

    ``net_unpushed`` counts every not-pushed transaction; ``net_unmapped`` those whose
    subscription has no active mapping. Kept up to date by ``RevenueTotalsDAO``.
    """

    __tablename__ = "psa_revenue_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"))
    month: Mapped[dt.date] = mapped_column(Date)
    net_unpushed: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    net_unmapped: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    __table_args__ = (
        UniqueConstraint("customer_id", "month", name="uq_psa_revenue_month_customer_month"),
        Index("ix_psa_revenue_month_partner_month", "partner_id", "month"),
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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey(USER_FK, ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
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
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
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


# -- Billing push: the outbox, its transitions, runs, the lease and the catalog cache -------------

SYNC_STATES = "('pending', 'sending', 'pushed', 'failed', 'skipped', 'moving', 'removing')"


class SyncItem(Model):
    """The outbox: one row per billing transaction pushed (or to push) to ConnectWise."""

    __tablename__ = "psa_sync_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("hub_billing_transaction.id"), unique=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("hub_subscription.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("hub_customer.id"))
    reference: Mapped[str] = mapped_column(String(30))
    record_kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    agreement_cw_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cw_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    sending_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("psa_sync_run.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    __table_args__ = (
        CheckConstraint(f"state IN {SYNC_STATES}", name="ck_sync_item_state"),
        CheckConstraint("record_kind IN ('addition', 'adjustment')", name="ck_sync_item_kind"),
        Index("ix_psa_sync_item_partner_state", "partner_id", "state"),
    )
    partner: Mapped[Partner] = relationship()  # console views (issue 9): list and search by partner

    def __repr__(self) -> str:
        return f"{self.reference} {self.state}"


class SyncTransition(Model):
    """Every state change of an outbox row: from, to, the event, the run, when and why."""

    __tablename__ = "psa_sync_transition"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("psa_sync_item.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    from_state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    to_state: Mapped[str] = mapped_column(String(8))
    event: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("psa_sync_run.id", ondelete="SET NULL"), nullable=True)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class SyncRun(Model):
    """One billing push of a partner: when, how it ended, counts by outcome, ConnectWise calls."""

    __tablename__ = "psa_sync_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="running")
    requested_by: Mapped[str] = mapped_column(String(100), default="system")
    job_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    cw_calls: Mapped[int] = mapped_column(Integer, default=0)
    writes: Mapped[int] = mapped_column(Integer, default=0)
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    catalog_calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # progress while running (done / total rows, failures so far), the alert's acknowledgement and email (issue 9)
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    alert_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'partial', 'stopped', 'failed', 'abandoned')",
                        name="ck_sync_run_status"),
    )

    def __repr__(self) -> str:
        return f"Run {self.id} ({self.status})"


class SyncLease(Model):
    """One push per partner at a time: the holder's token and when its lease expires."""

    __tablename__ = "psa_sync_lease"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CatalogSync(Model):
    """A hub product's ConnectWise catalog item for a partner: adopted/created id, or the refusal."""

    __tablename__ = "psa_catalog_sync"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("hub_product.id"))
    identifier: Mapped[str] = mapped_column(String(75))
    cw_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    differs: Mapped[str | None] = mapped_column(Text, nullable=True)
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    __table_args__ = (
        UniqueConstraint("partner_id", "product_id"),
        CheckConstraint("status IN ('synced', 'refused')", name="ck_catalog_sync_status"),
    )


# -- Billing sync control (issue 9, part A): settings, schedule, previews and approval -----------

APPROVAL_MODES = "('default', 'always', 'never')"
PREVIEW_STATUSES = "('awaiting_approval', 'approved', 'discarded', 'expired')"


class SyncSettings(Model):
    """A partner's sync settings: schedule, approval, ConnectWise request limit (no row: the defaults)."""

    __tablename__ = "psa_sync_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), unique=True)
    schedule_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule_time: Mapped[str] = mapped_column(String(5), default="06:00")
    schedule_days: Mapped[str] = mapped_column(String(27), default="mon,tue,wed,thu,fri,sat,sun")
    schedule_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_slot_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approval: Mapped[str] = mapped_column(String(8), default="default")
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint(f"approval IN {APPROVAL_MODES}", name="ck_sync_settings_approval"),
        CheckConstraint("requests_per_minute IS NULL OR requests_per_minute > 0", name="ck_sync_settings_limit"),
    )


class SyncPreview(Model):
    """A prepared preview of a push: who/what prepared it, totals, its transactions, the decision, the run."""

    __tablename__ = "psa_sync_preview"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("hub_partner.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default="manual")
    prepared_by: Mapped[str] = mapped_column(String(100), default="system")
    prepared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_approval")
    totals: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    catalog: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    selection: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    discarded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    discarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("psa_sync_run.id", ondelete="SET NULL"), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    partner: Mapped[Partner] = relationship()
    __table_args__ = (
        CheckConstraint(f"status IN {PREVIEW_STATUSES}", name="ck_sync_preview_status"),
        CheckConstraint("source IN ('manual', 'schedule')", name="ck_sync_preview_source"),
        Index("uq_psa_sync_preview_awaiting", "partner_id", unique=True,
              sqlite_where=text("status = 'awaiting_approval'"),
              postgresql_where=text("status = 'awaiting_approval'")),
    )

    def __repr__(self) -> str:
        return f"Preview {self.id} {self.status}"


class SyncPreviewItem(Model):
    """One transaction a preview covers, its target agreement, and whether the partner chose it."""

    __tablename__ = "psa_sync_preview_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[int] = mapped_column(ForeignKey("psa_sync_preview.id", ondelete="CASCADE"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("hub_billing_transaction.id"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_cw_agreement.id"))
    selected: Mapped[bool] = mapped_column(Boolean, default=True)
    __table_args__ = (UniqueConstraint("preview_id", "transaction_id"),)
