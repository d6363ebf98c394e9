"""What the ConnectWise card shows (page, REST status endpoint and CLI): never the private key."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msphub_psa import permissions
from msphub_psa.commands.access import partner_of, require_feature, require_permission
from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.integration import EDIT_KEPT, GENERIC_FAILURE, STALLED_HINT, validation_running
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.tenancy import user_timezone
from msphub_psa.domain.actor import Actor
from msphub_psa.models.integration import Integration

LABELS = {
    None: "Not activated",
    "inactive": "Not activated",
    "validating": "Validating",
    "active": "Active",
    "invalid": "Not activated",
    "deactivated": "Deactivated",
}


SHOWS_ACTIVATION = ("active", "deactivated")
"""The statuses under which the card, the REST state and the CLI name who activated the integration and when."""


def local_time(moment: dt.datetime | None, tz_name: str) -> str | None:
    """``moment`` (UTC) as ``YYYY-MM-DD HH:MM TZ`` in the given timezone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, tz_name = ZoneInfo("UTC"), "UTC"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z").strip()


class IntegrationStatusCommand(BaseCommand):
    """Read the card's state for the actor's partner (or, for Admin, the partner given)."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor = actor
        self.requested_partner = partner_id
        self.partner_id: int | None = None

    def validate(self) -> None:
        """:raises NotFoundError: / ForbiddenError: not visible, or no read permission."""
        self.partner_id = partner_of(self.actor, self.requested_partner)
        require_permission(self.actor, permissions.READ, permissions.INTEGRATION)
        require_feature(self.partner_id)

    def run(self) -> dict[str, Any]:
        """The card's state as plain values."""
        self.validate()
        partner = PartnerDAO.find_by_id(self.partner_id)
        integ = IntegrationDAO.for_partner_fresh(self.partner_id)
        tz_name = user_timezone(self.actor.user_id) or partner.timezone or "UTC"
        state = {
            "partner_id": partner.id,
            "partner_name": partner.name,
            "feature_enabled": PartnerFeatureDAO.is_enabled(partner.id),
            "can_write": self.actor.can(permissions.WRITE, permissions.INTEGRATION),
            "timezone": tz_name,
        }
        state.update(self._integration_state(integ, tz_name))
        state["menu_visible"] = state["menu_visible"] and state["feature_enabled"]
        return state

    @staticmethod
    def _integration_state(integ: Integration | None, tz_name: str) -> dict[str, Any]:
        """Status, who/when, form values and the last validation's outcome."""
        status = integ.status if integ else None
        validating = validation_running(integ)
        stalled = bool(integ and integ.pending) and not validating
        kind = (integ.pending or {}).get("kind") if integ else None
        failed = bool(integ and integ.validation_result == "failed") or stalled
        state = {
            "status": status or "inactive",
            "status_label": LABELS.get(status, status),
            "validating": validating,
            "validation_kind": kind if validating else None,
            "validation_job_id": integ.validation_job_id if validating else None,
            "validation_failed": failed,
            "message": GENERIC_FAILURE if failed else None,
            "hint": STALLED_HINT if stalled else (integ.validation_hint if failed else None),
            "edit_failed": failed and status == "active",
            **IntegrationStatusCommand._activation(integ, status, tz_name),
            "deactivated_at_display": (
                local_time(integ.deactivated_at, tz_name) if integ and status == "deactivated" else None
            ),
            "menu_visible": status == "active",
        }
        if state["edit_failed"]:
            state["message"] = f"{GENERIC_FAILURE} {EDIT_KEPT}"
        state.update(IntegrationStatusCommand._form_values(integ))
        return state

    @staticmethod
    def _activation(integ: Integration | None, status: str | None, tz_name: str) -> dict[str, Any]:
        """Who activated it and when, only while that activation stands (active, or deactivated after it): a failed
        re-activation says "Not activated" without the earlier activation's name and date (the audit keeps them)."""
        shown = integ is not None and status in SHOWS_ACTIVATION
        return {
            "activated_by": integ.activated_by_name if shown else None,
            "activated_at": integ.activated_at.isoformat() if shown and integ.activated_at else None,
            "activated_at_display": local_time(integ.activated_at, tz_name) if shown else None,
        }

    @staticmethod
    def _form_values(integ: Integration | None) -> dict[str, Any]:
        """The stored (working) values for the Edit/Activate form; the private key only as a flag."""
        return {
            "client_id": integ.client_id if integ else "",
            "client_id_locked": bool(integ and integ.client_id_locked),
            "company_name": integ.company_name if integ else "",
            "public_key": integ.public_key if integ else "",
            "api_url": integ.api_url if integ else "",
            "has_private_key": bool(integ and integ.private_key_encrypted),
        }
