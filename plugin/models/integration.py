"""One partner's connection to its PSA (ConnectWise today); the private key is stored encrypted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.models.base import Base, contract_ref
from msphub_psa.models.hub import Partner

PSA_KINDS = "('connectwise')"
"""The PSAs an integration may connect to (one adapter each, see ``msphub_psa.psa``)."""


class Integration(Base):
    """One partner's PSA connection: credentials (private key encrypted), status, who activated it."""

    __tablename__ = "psa_integration"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    psa_kind: Mapped[str] = mapped_column(String(20), default="connectwise", server_default="connectwise")
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
    activated_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    activated_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    validation_result: Mapped[str | None] = mapped_column(String(12), nullable=True)
    """Outcome of the last validation (``ok``, ``failed`` or ``cancelled``); ``validated_at`` is when it ended."""
    validated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "Integration")
    __table_args__ = (
        CheckConstraint("status IN ('inactive', 'validating', 'active', 'invalid', 'deactivated')", name="status"),
        CheckConstraint(f"psa_kind IN {PSA_KINDS}", name="psa_kind"),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"{self.psa_kind} for partner {self.partner_id} ({self.status})"
