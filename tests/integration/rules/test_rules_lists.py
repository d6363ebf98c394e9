"""ConnectWise lists: refreshed from the sandbox into the cache; typed values matched or marked new."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from msphub_psa.commands.rules.lists import RefreshListsCommand
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaListEntry, PsaListRefresh
from tests.integration.rules.conftest import ATTRS, rows_and_audit, rule_body
from tests.support import tenants


def refresh(app, partner_id):
    """Run the job's body now."""
    with app.app_context():
        return RefreshListsCommand(partner_id).run().status


def test_refresh_caches_connectwise_lists(app, active, admin_api):
    assert refresh(app, active) == "ok"
    lists = admin_api.get().get_json()["lists"]
    assert {c["name"] for c in lists["categories"]} == {"Software", "Cloud Services"}
    assert {(s["name"], s["category_id"]) for s in lists["subcategories"]} == {
        ("Microsoft 365", 2),
        ("Azure", 2),
        ("Security", 1),
    }
    assert {t["name"] for t in lists["types"]} == {"Subscription", "Service"}
    assert lists["product_classes"] == ["Agreement", "Bundle", "Inventory", "NonInventory", "Service"]
    assert lists["status"] == "ok" and lists["refreshed_at"]


def test_values_are_matched_to_connectwise_or_marked_new(app, active, admin_api):
    refresh(app, active)
    body = rule_body(category=" cloud SERVICES ", subcategory="microsoft 365", type="Brand New Type")
    data = admin_api.send("POST", "", body).get_json()
    rule = data["rules"][0]
    assert (rule["category"], rule["subcategory"], rule["type"]) == (
        "Cloud Services",
        "Microsoft 365",
        "Brand New Type",
    )
    assert rule["will_create"] == ["type"]
    assert data["default"]["will_create"] == ["category", "subcategory", "type"]
    new_sub = admin_api.send(
        "POST",
        "",
        rule_body(
            [{"field": "publisher", "operator": "equals", "value": "Adobe"}],
            category="Software",
            subcategory="Creative",
        ),
    )
    assert new_sub.get_json()["rules"][1]["will_create"] == ["subcategory", "type"]


@pytest.mark.parametrize("category", ["Software", "A New Category"])
def test_subcategory_of_another_category_is_refused(app, active, admin_api, category):
    refresh(app, active)
    before = rows_and_audit(app)
    response = admin_api.send("POST", "", rule_body(category=category, subcategory="Azure"))
    assert response.status_code == 400
    assert "belongs to Cloud Services" in response.get_json()["errors"]["attributes.subcategory"][0]
    assert admin_api.send("PUT", "default", {**ATTRS, "category": category, "subcategory": "Azure"}).status_code == 400
    assert rows_and_audit(app) == before


def test_failed_refresh_keeps_the_cache_and_says_so(app, active, cw_live):
    refresh(app, active)
    cw_live.set_faults([{"kind": "status", "status": 403, "path": "/procurement/"}])
    status = refresh(app, active)
    with app.app_context():
        state = session().scalar(select(PsaListRefresh).where(PsaListRefresh.partner_id == active))
        cached = session().scalars(select(PsaListEntry).where(PsaListEntry.partner_id == active)).all()
    assert status == "failed" and state.error and len(cached) == 7


def test_refresh_button_queues_the_job_and_the_worker_runs_it(app, active, admin_api, worker):
    response = admin_api.send("POST", "lists/refresh")
    assert response.status_code == 202 and response.get_json()["status"] == "queued"
    proc = worker(queues="fast")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lists = admin_api.get().get_json()["lists"]
        if lists["status"] != "queued":
            break
        time.sleep(0.3)
    assert lists["status"] == "ok", proc.stop()[-3000:]
    assert len(lists["categories"]) == 2


def test_refresh_job_skips_a_partner_without_the_feature(app, cw_live):
    from msphub_psa.tasks import refresh_cw_lists

    with app.app_context():
        other = tenants.other().id
        assert refresh_cw_lists(other) == "skipped: feature off"
        assert refresh_cw_lists(tenants.pilot().id) == "skipped: integration not active"
