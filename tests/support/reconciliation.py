"""Set-ups for Reconciliation Center tests: the sandbox seeded from the pilot's demo customers."""

from __future__ import annotations

from msphub_psa.commands.access import actor_for_user, find_user
from msphub_psa.daos.hub import CustomerDAO
from msphub_psa.demo.sandbox_seed import demo_seed
from tests.support import tenants
from tests.support.integration import make_active_integration


def seed_sandbox_for_pilot(cw_live) -> dict:
    """Reset ``cw_live`` to a seed whose companies match the pilot's demo customers."""
    seed = demo_seed(CustomerDAO.names_of_pilot())
    default = cw_live.sandbox.seed
    cw_live.sandbox.reset(seed)
    cw_live.sandbox.seed = default  # the next test's ``cw_live`` resets to the default seed again
    return seed


def pilot_ready(cw_live, refresh: bool = True):
    """The pilot with an active integration on the demo-seeded sandbox, directory refreshed; (partner id, actor)."""
    from msphub_psa.commands.directory import RefreshDirectoryCommand

    partner_id = tenants.pilot().id
    seed_sandbox_for_pilot(cw_live)
    make_active_integration(partner_id, cw_live)
    actor = actor_for_user(find_user("pilot.admin"))
    if refresh:
        RefreshDirectoryCommand(actor, partner_id, automap=False).run()
    return partner_id, actor


def viewer():
    """The pilot's read-only user as an actor."""
    return actor_for_user(find_user("pilot.viewer"))


def age_sandbox_directory(cw_live, stamp: str = "2025-01-01T00:00:00Z") -> None:
    """Backdate every company and agreement's lastUpdated, so an incremental read sees only later changes."""
    store = cw_live.sandbox.store
    for resource in ("companies", "agreements"):
        for record in list(store.scan(cw_live.company_id, resource)):
            record["_info"] = {**record.get("_info", {}), "lastUpdated": stamp}
            store.update(cw_live.company_id, resource, record)
