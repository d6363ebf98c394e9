"""Configure Product Defaults: a partner's custom product rules and its default rule."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from msphub_psa import clock
from msphub_psa.models.base import Base, contract_ref
from msphub_psa.models.hub import Partner

PRODUCT_CLASSES = "('Agreement', 'Bundle', 'Inventory', 'NonInventory', 'Service')"


class ProductRule(Base):
    """A partner's custom product rule: priority, conditions (all must hold), the catalog attributes."""

    __tablename__ = "psa_product_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, index=True)
    priority: Mapped[int] = mapped_column(Integer)
    conditions: Mapped[list] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(50))
    subcategory: Mapped[str] = mapped_column(String(50))
    product_type: Mapped[str] = mapped_column(String(50))
    product_class: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "ProductRule")
    __table_args__ = (
        CheckConstraint("priority >= 1", name="priority"),
        CheckConstraint(f"product_class IN {PRODUCT_CLASSES}", name="class"),
        Index("ix_psa_product_rule_partner_priority", "partner_id", "priority"),
    )
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Rule {self.id} (priority {self.priority})"


class ProductDefaultRule(Base):
    """A partner's default rule (one per partner, never deleted): applies when no rule matches."""

    __tablename__ = "psa_product_default_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(Integer, unique=True)
    category: Mapped[str] = mapped_column(String(50))
    subcategory: Mapped[str] = mapped_column(String(50))
    product_type: Mapped[str] = mapped_column(String(50))
    product_class: Mapped[str] = mapped_column(String(12))
    updated_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=clock.now, onupdate=clock.now)
    version: Mapped[int] = mapped_column(Integer, default=1)
    partner: Mapped[Partner] = contract_ref("Partner", "partner_id", "ProductDefaultRule")
    __table_args__ = (CheckConstraint(f"product_class IN {PRODUCT_CLASSES}", name="class"),)
    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"Default rule of partner {self.partner_id}"
