"""Resolve the acting user and partner for a page or API call, or refuse."""
from __future__ import annotations

from flask import abort

from msphub_psa.commands import access
from msphub_psa.commands.base import Actor
from msphub_psa.commands.exceptions import NotFoundError
from msphub_psa.tenancy import current_actor


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
