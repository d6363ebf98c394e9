"""The partner's ConnectWise integration row."""

from __future__ import annotations

from sqlalchemy import select

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.integration import Integration


class IntegrationDAO(BaseDAO[Integration]):
    """One integration per partner."""

    model_cls = Integration

    @staticmethod
    def for_partner(partner_id: int) -> Integration | None:
        """The partner's integration, or None when never activated."""
        return session().scalar(select(Integration).where(Integration.partner_id == partner_id))

    @staticmethod
    def statuses(partner_ids: list[int]) -> dict[int, str | None]:
        """Each partner's integration status (None: never activated), in one query."""
        found = (
            dict(
                session()
                .execute(
                    select(Integration.partner_id, Integration.status).where(Integration.partner_id.in_(partner_ids))
                )
                .all()
            )
            if partner_ids
            else {}
        )
        return {pid: found.get(pid) for pid in partner_ids}

    @staticmethod
    def for_partner_fresh(partner_id: int) -> Integration | None:
        """The partner's integration re-read from the database (no stale identity-map values)."""
        return session().scalar(
            select(Integration).where(Integration.partner_id == partner_id).execution_options(populate_existing=True)
        )

    @staticmethod
    def find_fresh(integration_id: int) -> Integration | None:
        """The integration by id, re-read from the database."""
        return session().get(Integration, integration_id, populate_existing=True)

    @staticmethod
    def all_for_update() -> list[Integration]:
        """Every integration of every partner, by id (key rotation)."""
        return list(session().scalars(select(Integration).order_by(Integration.id)))
