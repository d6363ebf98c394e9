"""Guards every command uses: tenant, permission, feature and integration state."""
from __future__ import annotations

from msphub_psa import permissions
from msphub_psa.commands.base import Actor
from msphub_psa.commands.exceptions import (
    FeatureDisabledError, ForbiddenError, IntegrationInactiveError, NotFoundError,
)
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.models.hub import Partner
from msphub_psa.models.integration import Integration


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
