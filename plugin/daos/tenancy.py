"""Users' tenants and roles."""

from __future__ import annotations

from sqlalchemy import select

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.tenancy import UserTenant


class UserTenantDAO(BaseDAO[UserTenant]):
    """Which distributor or partner a FAB user acts for."""

    model_cls = UserTenant

    @staticmethod
    def for_user(user_id: int) -> UserTenant | None:
        """The tenant row of a user, or None (an Admin has none)."""
        return session().scalar(select(UserTenant).where(UserTenant.user_id == user_id))

    @classmethod
    def assign(cls, user_id: int, *, distributor_id: int | None = None, partner_id: int | None = None) -> UserTenant:
        """Tie a user to one distributor or one partner (replacing any previous tie)."""
        row = cls.for_user(user_id) or cls.create(user_id=user_id, distributor_id=distributor_id, partner_id=partner_id)
        return cls.update(row, distributor_id=distributor_id, partner_id=partner_id)


def user_timezone(user_id: int | None) -> str | None:
    """The timezone set on a user's tenant row, or None."""
    if user_id is None:
        return None
    return session().scalar(select(UserTenant.timezone).where(UserTenant.user_id == user_id))
