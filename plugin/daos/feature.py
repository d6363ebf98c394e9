"""The per-partner feature toggle."""

from __future__ import annotations

from sqlalchemy import select

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.tenancy import PartnerFeature


class PartnerFeatureDAO(BaseDAO[PartnerFeature]):
    """Which partners have the ConnectWise integration enabled."""

    model_cls = PartnerFeature

    @staticmethod
    def for_partner(partner_id: int) -> PartnerFeature | None:
        """The toggle row of a partner, or None when never set."""
        return session().scalar(select(PartnerFeature).where(PartnerFeature.partner_id == partner_id))

    @classmethod
    def is_enabled(cls, partner_id: int) -> bool:
        """True when the feature is on for the partner."""
        row = cls.for_partner(partner_id)
        return bool(row and row.enabled)

    @staticmethod
    def enabled_map(partner_ids: list[int]) -> dict[int, PartnerFeature]:
        """Toggle rows of several partners, by partner id."""
        if not partner_ids:
            return {}
        rows = session().scalars(select(PartnerFeature).where(PartnerFeature.partner_id.in_(partner_ids)))
        return {row.partner_id: row for row in rows}
