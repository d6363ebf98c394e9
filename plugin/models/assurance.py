"""Revenue assurance: read-back runs and the findings they keep (docs/billing.md, Revenue assurance)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, DateTime, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.models.base import Base

FINDING_CODES = (
    "('missing', 'edited', 'moved_or_cancelled', 'double_billing', 'orphan', 'under_invoiced', 'over_invoiced')"
)
FINDING_STATUSES = "('open', 'recreating', 'recreated', 'accepted', 'ignored', 'cleared')"
ASSURANCE_RUN_STATUSES = "('running', 'succeeded', 'failed')"


class AssuranceRun(Base):
    """One read-back of a partner's agreements."""

    __tablename__ = "psa_assurance_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(10), default="running")
    requested_by: Mapped[str] = mapped_column(String(100), default="system")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    agreements: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    psa_calls: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (CheckConstraint(f"status IN {ASSURANCE_RUN_STATUSES}", name="status"),)


class AssuranceFinding(Base):
    """One drift between the ledger and the PSA, kept across read-backs by its key, with its decision."""

    __tablename__ = "psa_assurance_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    key: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="open")
    agreement_remote_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    transaction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    held: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    detail: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        CheckConstraint(f"code IN {FINDING_CODES}", name="code"),
        CheckConstraint(f"status IN {FINDING_STATUSES}", name="status"),
        UniqueConstraint("partner_id", "key", name="uq_psa_assurance_finding_partner_key"),
    )

    def __repr__(self) -> str:
        return f"{self.code} {self.key} ({self.status})"
