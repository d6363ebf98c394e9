"""Configure Product Defaults after a catalog sync created categories, subcategories and types in ConnectWise:
a refresh of the cached lists is queued, and once it ran nothing is "(will be created in ConnectWise)" any more
and "last refreshed" has moved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.status import CatalogSyncCommand
from msphub_psa.commands.rules.lists import RefreshListsCommand
from msphub_psa.commands.rules.overview import RulesOverviewCommand
from msphub_psa.daos.base import session
from msphub_psa.jobqueue import FAST, get_queue
from msphub_psa.models.directory import PsaListRefresh
from msphub_psa.models.tenancy import AuditEvent
from tests.support.push import push_setup

pytestmark = pytest.mark.usefixtures("empty_sync_queues")


def list_state(partner_id: int) -> PsaListRefresh:
    """The partner's lists refresh row, read anew."""
    session().expire_all()
    return session().scalar(select(PsaListRefresh).where(PsaListRefresh.partner_id == partner_id))


def will_create(actor, partner_id: int) -> list[str]:
    """What the page marks "(will be created in ConnectWise)" on the Default Rule."""
    return sorted(RulesOverviewCommand(actor, partner_id).run().default_new)


def refresh_jobs() -> list[str]:
    """Ids of the lists refresh jobs waiting on the fast queue."""
    return [job_id for job_id in get_queue(FAST).job_ids if "-cw-lists-" in job_id]


def test_a_push_that_creates_list_entries_queues_the_lists_refresh(ctx, cw_live):
    partner_id, actor, _ = push_setup(cw_live, customers=1)
    RefreshListsCommand(partner_id).run()
    before = list_state(partner_id).refreshed_at
    assert will_create(actor, partner_id)  # the Default Rule's names are not in ConnectWise yet
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    assert list_state(partner_id).status == "queued" and len(refresh_jobs()) == 1
    assert session().scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "cw_lists.refresh_requested", AuditEvent.partner_id == partner_id
        )
    )
    RefreshListsCommand(partner_id).run()  # what the queued job runs
    state = list_state(partner_id)
    assert state.status == "ok" and state.refreshed_at > before
    assert will_create(actor, partner_id) == []


def test_a_catalog_sync_that_creates_nothing_new_queues_nothing(ctx, cw_live):
    partner_id, actor, _ = push_setup(cw_live, customers=1)
    first = CatalogSyncCommand(actor, partner_id).run()
    assert first["new_lists"] and first["lists_refresh_queued"] is True
    get_queue(FAST).empty()
    RefreshListsCommand(partner_id).run()
    again = CatalogSyncCommand(actor, partner_id).run()
    assert again["new_lists"] == [] and "lists_refresh_queued" not in again and refresh_jobs() == []
    dry = CatalogSyncCommand(actor, partner_id, dry_run=True).run()
    assert "lists_refresh_queued" not in dry
