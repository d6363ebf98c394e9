"""Who the current request (or CLI call) acts as, and its tenant scope."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false

from msphub_psa import permissions
from msphub_psa.commands.base import Actor
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.tenancy import UserTenantDAO
from msphub_psa.logs import bind_log_context
from msphub_psa.settings import settings


def actor_for_user(user: Any) -> Actor:
    """Build the Actor of a FAB user from its roles and tenant row."""
    tenant = UserTenantDAO.for_user(user.id)
    roles = permissions.role_keys((role.name for role in user.roles), settings())
    return Actor(
        user_id=user.id, username=user.username, roles=roles,
        distributor_id=tenant.distributor_id if tenant else None,
        partner_id=tenant.partner_id if tenant else None,
        timezone=(tenant.timezone if tenant and tenant.timezone else "UTC"),
        full_name=f"{getattr(user, 'first_name', '') or ''} {getattr(user, 'last_name', '') or ''}".strip(),
    )


def current_user_obj() -> Any | None:
    """The logged-in FAB user (session or JWT), or None."""
    user = current_app.appbuilder.sm.current_user
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def request_cache() -> dict:
    """A dict that lives exactly as long as the current request (``g`` may outlive it in tests)."""
    if has_request_context():
        return request.environ.setdefault("psa.cache", {})
    return g.setdefault("_psa_cache", {})


def current_actor() -> Actor | None:
    """The Actor of the current request, cached per request; None when anonymous."""
    user = current_user_obj()
    if user is None:
        return None
    cache = request_cache()
    if cache.get("actor") is None or cache["actor"].user_id != user.id:
        cache["actor"] = actor = actor_for_user(user)
        if has_request_context():  # every record the request logs from now on names them
            bind_log_context(user=actor.username, partner_id=actor.partner_id)
    return cache["actor"]


def find_user(username: str) -> Any | None:
    """A FAB user by username."""
    return current_app.appbuilder.sm.find_user(username=username)


class TenantFilter(BaseFilter):
    """Restrict a query to the current actor's tenant (no restriction for Admin)."""

    name = "Tenant"
    arg_name = "tenant"

    def apply(self, query, value):
        """Filter ``column_name`` (a partner id column) by the actor's scope."""
        actor = current_actor()
        column = getattr(self.model, self.column_name)
        if actor is None:
            return query.filter(false())
        if actor.is_admin:
            return query
        if actor.partner_id is not None:
            return query.filter(column == actor.partner_id)
        if actor.distributor_id is not None:
            return query.filter(column.in_(PartnerDAO.ids_of_distributor(actor.distributor_id)))
        return query.filter(false())
