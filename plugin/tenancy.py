"""Who the current request (or CLI call) acts as, its tenant scope, and the refusals of a page or API call."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false

from msphub_psa.commands import access
from msphub_psa.commands.exceptions import NotFoundError
from msphub_psa.domain.actor import Actor
from msphub_psa.logs import bind_log_context


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
        cache["actor"] = actor = access.actor_for_user(user)
        if has_request_context():  # every record the request logs from now on names them
            bind_log_context(user=actor.username, partner_id=actor.partner_id)
    return cache["actor"]


def find_user(username: str) -> Any | None:
    """A FAB user by username."""
    return access.find_user(username)


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
            return query.filter(column.in_(access.distributor_partner_ids(actor.distributor_id)))
        return query.filter(false())


def require_actor() -> Actor:
    """The current actor; 401 when anonymous."""
    actor = current_actor()
    if actor is None:
        abort(401)
    return actor


def partner_scope(need: str | None = None) -> tuple[Actor, int]:
    """The actor and its partner, checking the feature (``need="feature"``) or active integration.

    :raises NotFoundError: the actor is not a partner user.
    :raises FeatureDisabledError: / IntegrationInactiveError: as ``need`` asks.
    """
    actor = require_actor()
    if actor.partner_id is None:
        raise NotFoundError("This page belongs to a partner organization; sign in as a partner user.")
    if need == "feature":
        access.require_feature(actor.partner_id)
    elif need == "active":
        access.require_active_integration(actor.partner_id)
    return actor, actor.partner_id
