"""Guards every command uses: tenant, permission, feature and integration state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from msphub_psa import clock, permissions
from msphub_psa.commands.exceptions import (
    FeatureDisabledError,
    ForbiddenError,
    IntegrationInactiveError,
    NotFoundError,
)
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.tenancy import UserTenantDAO, user_timezone
from msphub_psa.daos.users import UserDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.models.hub import Partner
from msphub_psa.models.integration import Integration
from msphub_psa.settings import settings


def require_permission(actor: Actor, permission: str, resource: str) -> None:
    """:raises ForbiddenError: when no role of the actor grants it."""
    if not actor.can(permission, resource):
        verb = "change" if permission == permissions.WRITE else "view"
        raise ForbiddenError(f"Your role does not allow you to {verb} {resource}.")


def visible_partner(actor: Actor, partner_id: int) -> Partner:
    """The partner if the actor may see it.

    :raises NotFoundError: for an unknown partner or another tenant's.
    """
    partner = PartnerDAO.find_by_id(partner_id)
    allowed = partner is not None and (
        actor.is_admin
        or (actor.partner_id is not None and actor.partner_id == partner.id)
        or (actor.distributor_id is not None and actor.distributor_id == partner.distributor_id)
    )
    if not allowed:
        raise NotFoundError(f"Partner {partner_id} not found.")
    return partner


def require_feature(partner_id: int) -> None:
    """:raises FeatureDisabledError: when the distributor has not enabled the integration."""
    if not PartnerFeatureDAO.is_enabled(partner_id):
        raise FeatureDisabledError()


def require_active_integration(partner_id: int) -> Integration:
    """The partner's active integration (feature on and status active).

    :raises FeatureDisabledError: feature off.
    :raises IntegrationInactiveError: no active integration.
    """
    require_feature(partner_id)
    integration = IntegrationDAO.for_partner(partner_id)
    if integration is None or integration.status != "active":
        raise IntegrationInactiveError()
    return integration


def partner_of(actor: Actor, partner_id: int | None = None) -> int:
    """The partner a partner-scoped command acts on: the actor's own, or (Admin) the one given.

    :raises NotFoundError: when none can be determined or it is not visible.
    """
    target = partner_id if partner_id is not None else actor.partner_id
    if target is None:
        raise NotFoundError("No partner given; pass the partner id.")
    return visible_partner(actor, target).id


def reconciliation_scope(actor: Actor, partner_id: int | None, write: bool = False) -> int:
    """The partner acted on, after tenant, active-integration and role checks.

    :raises NotFoundError: / FeatureDisabledError: / IntegrationInactiveError: / ForbiddenError:
    """
    partner = partner_of(actor, partner_id)
    require_active_integration(partner)
    require_permission(actor, permissions.WRITE if write else permissions.READ, permissions.RECONCILIATION)
    return partner


def partner_today(partner_id: int) -> dt.date:
    """Today in the partner's timezone (UTC when unknown)."""
    partner = PartnerDAO.find_by_id(partner_id)
    return clock.today(partner.timezone if partner else None)


def actor_for_user(user: Any) -> Actor:
    """Build the Actor of a FAB user from its roles and tenant row."""
    tenant = UserTenantDAO.for_user(user.id)
    roles = permissions.role_keys((role.name for role in user.roles), settings())
    return Actor(
        user_id=user.id,
        username=user.username,
        roles=roles,
        distributor_id=tenant.distributor_id if tenant else None,
        partner_id=tenant.partner_id if tenant else None,
        timezone=(tenant.timezone if tenant and tenant.timezone else "UTC"),
        full_name=f"{getattr(user, 'first_name', '') or ''} {getattr(user, 'last_name', '') or ''}".strip(),
    )


def find_user(username: str) -> Any | None:
    """A user of the host by username."""
    return UserDAO.find_by_username(username)


def distributor_partner_ids(distributor_id: int):
    """A subquery of the partner ids of one distributor (for tenant filters)."""
    return PartnerDAO.ids_of_distributor(distributor_id)


def partner_record(partner_id: int) -> Partner | None:
    """The partner a page shows (its name, currency and timezone); the caller has checked the scope."""
    return PartnerDAO.find_by_id(partner_id)


def feature_enabled(partner_id: int) -> bool:
    """True while the distributor has the partner's integration switched on."""
    return PartnerFeatureDAO.is_enabled(partner_id)


def actor_zone(actor: Actor | None) -> str | None:
    """The timezone an actor's pages show times in: the user's own (User Tenants), else the partner's."""
    if actor is None:
        return None
    zone = user_timezone(actor.user_id)
    if not zone and actor.partner_id is not None:
        partner = PartnerDAO.find_by_id(actor.partner_id)
        zone = partner.timezone if partner is not None else None
    return zone


def actor_currency(actor: Actor | None) -> str | None:
    """A partner user's currency (None for the others: their lists may mix partners)."""
    partner = PartnerDAO.find_by_id(actor.partner_id) if actor is not None and actor.partner_id else None
    return partner.currency if partner is not None else None
