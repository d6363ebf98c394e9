"""ConnectWise's categories, subcategories and product types, cached per partner."""

from __future__ import annotations

import logging

from msphub_psa import clock, permissions
from msphub_psa.commands.access import require_active_integration
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import UnavailableError
from msphub_psa.commands.psa_client import psa_for
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import CwListDAO, PsaListRefreshDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import QueueUnavailable, enqueue_list_refresh
from msphub_psa.models.directory import PsaListRefresh
from msphub_psa.psa.errors import PsaError
from msphub_psa.psa.port import LIST_KINDS

log = logging.getLogger(__name__)
SYSTEM = Actor(None, "system:cw-lists")
LISTS = "cw_lists"


class RequestListsRefreshCommand(BaseCommand):
    """Queue a refresh of the partner's ConnectWise lists on the fast queue."""

    def __init__(self, actor: Actor, partner_id: int | None = None, permission: str = permissions.WRITE):
        self.actor, self.partner_id, self.permission = actor, partner_id, permission
        self.partner = None

    def validate(self) -> None:
        """Scope (write for the button; the page's first visit asks with read)."""
        self.partner = common.scope(self.actor, self.partner_id, self.permission)

    @transaction
    def run(self) -> PsaListRefresh:
        """Mark as queued, enqueue once per partner, audit.

        :raises UnavailableError: the job queue does not answer.
        """
        self.validate()
        state = PsaListRefreshDAO.get_or_create(self.partner.id)
        try:
            _job, created = enqueue_list_refresh(self.partner.id)
        except QueueUnavailable as exc:
            raise UnavailableError("The job queue does not answer; the lists could not be refreshed.") from exc
        PsaListRefreshDAO.update(state, status="queued", requested_at=clock.now())
        audit(
            self.actor, "cw_lists.refresh_requested", LISTS, self.partner.id, partner_id=self.partner.id, queued=created
        )
        return state


@transaction
def refresh_after_catalog(partner_id: int) -> bool:
    """A catalog sync created categories, subcategories or types in the PSA: queue a refresh of the cached lists,
    so Configure Product Defaults stops calling them new and its "last refreshed" moves (audited as the system).

    :returns: False when the job queue does not answer (logged; the next sync or the page's button asks again).
    """
    state = PsaListRefreshDAO.get_or_create(partner_id)
    try:
        _job, created = enqueue_list_refresh(partner_id)
    except QueueUnavailable:
        log.warning("cw lists refresh after a catalog sync not queued partner=%s: queue unavailable", partner_id)
        return False
    PsaListRefreshDAO.update(state, status="queued", requested_at=clock.now())
    audit(
        SYSTEM, "cw_lists.refresh_requested", LISTS, partner_id, partner_id=partner_id, queued=created, after="catalog"
    )
    return True


def fetch_entries(integration) -> list[dict]:
    """Read the three lists from ConnectWise (no transaction open meanwhile).

    :raises PsaError: whatever the PSA answered.
    """
    with psa_for(integration) as client:
        return [
            {
                "kind": kind,
                "remote_id": entry.id,
                "name": entry.name,
                "inactive": entry.inactive,
                **({"category_remote_id": entry.category_id} if kind == "subcategory" else {}),
            }
            for kind in LIST_KINDS
            for entry in client.list_entries(kind)
        ]


class RefreshListsCommand(BaseCommand):
    """The job's body: read ConnectWise's lists and replace the partner's cache."""

    def __init__(self, partner_id: int, actor: Actor = SYSTEM):
        self.partner_id, self.actor = partner_id, actor
        self.integration = None

    def validate(self) -> None:
        """Feature on and integration active (re-checked when the job runs); a user needs write."""
        if self.actor is not SYSTEM:
            common.scope(self.actor, self.partner_id, permissions.WRITE)
        self.integration = require_active_integration(self.partner_id)

    def run(self) -> PsaListRefresh:
        """Fetch outside any transaction, then store the result (or the failure)."""
        self.validate()
        try:
            entries = fetch_entries(self.integration)
        except PsaError as err:
            log.warning("cw lists refresh failed partner=%s error=%s", self.partner_id, err.code)
            return self._store(None, f"ConnectWise could not be read: {err.code}. Try again later.")
        return self._store(entries, None)

    @transaction
    def _store(self, entries: list[dict] | None, error: str | None) -> PsaListRefresh:
        """Replace the cache (on success) and record the outcome, audited."""
        state = PsaListRefreshDAO.get_or_create(self.partner_id)
        if entries is None:
            PsaListRefreshDAO.update(state, status="failed", error=error[:300])
        else:
            CwListDAO.replace(self.partner_id, entries)
            PsaListRefreshDAO.update(state, status="ok", error=None, refreshed_at=clock.now())
        audit(
            self.actor,
            "cw_lists.refresh",
            LISTS,
            self.partner_id,
            partner_id=self.partner_id,
            outcome="ok" if error is None else "failed",
            entries=len(entries or []),
            error=error,
        )
        return state
