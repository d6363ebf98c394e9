"""ConnectWise's categories, subcategories and product types, cached per partner."""
from __future__ import annotations

import logging

from msphub_psa import clock
from msphub_psa import permissions
from msphub_psa.commands.access import require_active_integration
from msphub_psa.commands.exceptions import UnavailableError
from msphub_psa.commands.base import Actor, BaseCommand, audit, transaction
from msphub_psa.commands.psa_client import client_for
from msphub_psa.commands.rules import common
from msphub_psa.connectwise import CWError
from msphub_psa.daos.rules import CwListDAO, PsaListRefreshDAO

from msphub_psa.models.directory import PsaListRefresh
from msphub_psa.jobqueue import QueueUnavailable, enqueue_list_refresh

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
        audit(self.actor, "cw_lists.refresh_requested", LISTS, self.partner.id, partner_id=self.partner.id,
              queued=created)
        return state


def fetch_entries(integration) -> list[dict]:
    """Read the three lists from ConnectWise (no transaction open meanwhile).

    :raises CWError: whatever the client raises.
    """
    with client_for(integration) as client:
        entries = [{"kind": "category", "remote_id": c.id, "name": c.name, "inactive": c.inactive}
                   for c in client.iter_categories()]
        entries += [{"kind": "subcategory", "remote_id": s.id, "name": s.name, "inactive": s.inactive,
                     "category_remote_id": s.category.id if s.category else None}
                    for s in client.iter_subcategories()]
        entries += [{"kind": "type", "remote_id": t.id, "name": t.name, "inactive": t.inactive}
                    for t in client.iter_product_types()]
    return entries


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
        except CWError as err:
            log.warning("cw lists refresh failed partner=%s error=%s", self.partner_id, type(err).__name__)
            return self._store(None, f"ConnectWise could not be read: {err.__class__.__name__}. Try again later.")
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
        audit(self.actor, "cw_lists.refresh", LISTS, self.partner_id, partner_id=self.partner_id,
              outcome="ok" if error is None else "failed", entries=len(entries or []), error=error)
        return state
