"""Tie a host user to the distributor or the partner it acts for (Admin only), and list the ties."""

from __future__ import annotations

from dataclasses import dataclass

from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ForbiddenError, InvalidInputError, NotFoundError
from msphub_psa.daos.hub import DistributorDAO, PartnerDAO
from msphub_psa.daos.tenancy import UserTenantDAO
from msphub_psa.daos.users import UserDAO
from msphub_psa.domain.actor import Actor


@dataclass(frozen=True)
class TenantInput:
    """Whom to tie to what: a username and exactly one of a distributor id or a partner id."""

    username: str
    distributor_id: int | None = None
    partner_id: int | None = None
    timezone: str | None = None


class AssignTenantCommand(BaseCommand):
    """Tie a user to one distributor or one partner (replacing an earlier tie); audited."""

    def __init__(self, actor: Actor, data: TenantInput):
        self.actor, self.data = actor, data

    def validate(self) -> None:
        """:raises ForbiddenError: / InvalidInputError: / NotFoundError:"""
        if not self.actor.is_admin:
            raise ForbiddenError("Only an Admin ties users to tenants.")
        if (self.data.distributor_id is None) == (self.data.partner_id is None):
            raise InvalidInputError(
                "Give a distributor or a partner (one of them).",
                {"tenant": ["Exactly one of distributor and partner."]},
            )
        self.user = UserDAO.find_by_username(self.data.username)
        if self.user is None:
            raise NotFoundError(f"No user named {self.data.username!r}.")
        if self.data.partner_id is not None and PartnerDAO.find_by_id(self.data.partner_id) is None:
            raise NotFoundError(f"Partner {self.data.partner_id} not found.")
        if self.data.distributor_id is not None and DistributorDAO.find_by_id(self.data.distributor_id) is None:
            raise NotFoundError(f"Distributor {self.data.distributor_id} not found.")

    @transaction
    def run(self) -> str:
        """Tie the user; returns what it is tied to, as text."""
        self.validate()
        row = UserTenantDAO.assign(
            self.user.id, distributor_id=self.data.distributor_id, partner_id=self.data.partner_id
        )
        if self.data.timezone is not None:
            UserTenantDAO.update(row, timezone=self.data.timezone or None)
        scope = (
            f"partner {self.data.partner_id}"
            if self.data.partner_id is not None
            else f"distributor {self.data.distributor_id}"
        )
        audit(
            self.actor,
            "tenant.assign",
            "user",
            self.user.id,
            partner_id=self.data.partner_id,
            distributor_id=self.data.distributor_id,
            username=self.data.username,
        )
        return scope
