"""The billing sync: the outbox and its transitions, runs, the lease, the catalog, settings and previews."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.domain.billing import OutboxState
from msphub_psa.models.base import Base, contract_ref
from msphub_psa.models.hub import Partner

SYNC_STATES = "(" + ", ".join(f"'{state.value}'" for state in OutboxState) + ")"
RUN_STATUSES = "('running', 'succeeded', 'partial', 'stopped', 'failed', 'abandoned', 'yielded')"
APPROVAL_MODES = "('default', 'always', 'never')"
PREVIEW_STATUSES = "('awaiting_approval', 'approved', 'discarded', 'expired')"


class SyncItem(Base):
    """The outbox: one row per billing transaction pushed (or to push) to the partner's PSA."""

    __tablename__ = "psa_sync_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int] = mapped_column(Integer, unique=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(30))
    record_kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    agreement_remote_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_error_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    sending_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("psa_sync_run.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "SyncItem")
    __table_args__ = (
        CheckConstraint(f"state IN {SYNC_STATES}", name="state"),
        CheckConstraint("record_kind IN ('charge', 'credit')", name="kind"),
        Index("ix_psa_sync_item_partner_state", "partner_id", "state"),
    )

    def __repr__(self) -> str:
        return f"{self.reference} {self.state}"


class SyncTransition(Base):
    """Every state change of an outbox row: from, to, the event, the run, when and why."""

    __tablename__ = "psa_sync_transition"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("psa_sync_item.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    to_state: Mapped[str] = mapped_column(String(8))
    event: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("psa_sync_run.id", ondelete="SET NULL"), nullable=True)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)


class SyncRun(Base):
    """One billing push of a partner: when, how it ended, counts by outcome, PSA calls, progress, alert."""

    __tablename__ = "psa_sync_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(12), default="running")
    requested_by: Mapped[str] = mapped_column(String(100), default="system")
    job_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    psa_calls: Mapped[int] = mapped_column(Integer, default=0)
    writes: Mapped[int] = mapped_column(Integer, default=0)
    lookups: Mapped[int] = mapped_column(Integer, default=0)
    catalog_calls: Mapped[int] = mapped_column(Integer, default=0)
    check_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    alert_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    continues_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The run whose slice yielded and which this run continues (a push delivered in slices)."""
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "SyncRun")
    __table_args__ = (CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),)

    def __repr__(self) -> str:
        return f"Run {self.id} ({self.status})"


class SyncLease(Base):
    """One push per partner at a time: the holder's token and when its lease expires."""

    __tablename__ = "psa_sync_lease"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CatalogSync(Base):
    """A marketplace product's catalog item in a partner's PSA: the adopted or created id, or the refusal."""

    __tablename__ = "psa_catalog_sync"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    identifier: Mapped[str] = mapped_column(String(75))
    remote_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(100), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    differs: Mapped[str | None] = mapped_column(Text, nullable=True)
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    __table_args__ = (
        UniqueConstraint("partner_id", "product_id", name="uq_psa_catalog_sync_partner_product"),
        CheckConstraint("status IN ('synced', 'refused')", name="status"),
    )


class SyncSettings(Base):
    """A partner's sync settings: schedule, approval, PSA request limit, whether the catalog sync may create the
    categories, subcategories and types the rules name (no row: the defaults)."""

    __tablename__ = "psa_sync_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    schedule_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule_time: Mapped[str] = mapped_column(String(5), default="06:00")
    schedule_days: Mapped[str] = mapped_column(String(27), default="mon,tue,wed,thu,fri,sat,sun")
    schedule_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_slot_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approval: Mapped[str] = mapped_column(String(8), default="default")
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    create_list_values: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "SyncSettings")
    __table_args__ = (
        CheckConstraint(f"approval IN {APPROVAL_MODES}", name="approval"),
        CheckConstraint("requests_per_minute IS NULL OR requests_per_minute > 0", name="limit"),
    )


class SyncPreview(Base):
    """A prepared preview of a push: who/what prepared it, totals, its transactions, the decision, the run."""

    __tablename__ = "psa_sync_preview"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
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
    catalog_read: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """What its catalog step read (``CatalogRead``): its approved push, soon after, does not read it again."""
    lines_stored: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    """True when its groups (``psa_sync_preview_group``) and each line's outcome were stored when it was prepared
    (every preview since psa_0006): a page is read, not recomputed."""
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "SyncPreview")
    __table_args__ = (
        CheckConstraint(f"status IN {PREVIEW_STATUSES}", name="status"),
        CheckConstraint("source IN ('manual', 'schedule')", name="source"),
        Index(
            "uq_psa_sync_preview_awaiting",
            "partner_id",
            unique=True,
            sqlite_where=text("status = 'awaiting_approval'"),
            postgresql_where=text("status = 'awaiting_approval'"),
        ),
    )

    def __repr__(self) -> str:
        return f"Preview {self.id} {self.status}"


class SyncPreviewItem(Base):
    """One transaction a preview covers, its target agreement, whether the partner chose it, and the line as the
    preview showed it when it was prepared: its group's position (``group_no``), its place in the group
    (``line_no``, by transaction id) and its outcome (status, figures, description, error, check)."""

    __tablename__ = "psa_sync_preview_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[int] = mapped_column(ForeignKey("psa_sync_preview.id", ondelete="CASCADE"))
    transaction_id: Mapped[int] = mapped_column(Integer)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("psa_agreement.id"))
    selected: Mapped[bool] = mapped_column(Boolean, default=True)
    group_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    line_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(10), nullable=True)
    quantity: Mapped[str | None] = mapped_column(String(40), nullable=True)
    unit_price: Mapped[str | None] = mapped_column(String(40), nullable=True)
    amount: Mapped[str | None] = mapped_column(String(40), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    check_block: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (
        UniqueConstraint("preview_id", "transaction_id", name="uq_psa_sync_preview_item_preview_tx"),
        Index("ix_psa_sync_preview_item_page", "preview_id", "group_no", "line_no"),
    )


class SyncPreviewGroup(Base):
    """One customer → agreement group of a prepared preview, at its position in the page order (customer name
    casefolded, customer id, agreement name casefolded, agreement id), with its totals as the page shows them."""

    __tablename__ = "psa_sync_preview_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    preview_id: Mapped[int] = mapped_column(ForeignKey("psa_sync_preview.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    agreement_id: Mapped[int] = mapped_column(Integer)
    line_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (UniqueConstraint("preview_id", "position", name="uq_psa_sync_preview_group_position"),)
