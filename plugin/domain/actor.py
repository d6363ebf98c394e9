"""Who runs a use case: a user of the host with its roles (the plugin's role keys) and its tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from msphub_psa import permissions


@dataclass(frozen=True)
class Actor:
    """Who runs a command: a FAB user with its roles and tenant."""

    user_id: int | None
    username: str
    roles: tuple[str, ...] = ()
    distributor_id: int | None = None
    partner_id: int | None = None
    timezone: str = "UTC"
    full_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """The full name with the username (``Pat Pilot (pilot.admin)``), or the username alone."""
        return f"{self.full_name} ({self.username})" if self.full_name else self.username

    @property
    def is_admin(self) -> bool:
        """True for the platform Admin (sees every tenant)."""
        return permissions.ADMIN in self.roles

    def can(self, permission: str, resource: str) -> bool:
        """True when a role grants ``permission`` on ``resource``."""
        return permissions.role_allows(self.roles, permission, resource)
