"""Run history: runs paged with times, counts and calls; a run's failed rows with ConnectWise's reason and the
transaction; Retry failed (selected rows) then a push; the pages, the CLI and the console views."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from msphub_psa.cli import psa_cli
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.daos.base import session
from msphub_psa.models.hub import BillingTransaction, Product, Subscription
from msphub_psa.models.sync import SyncItem, SyncRun
from tests.support import tenants
from tests.support.card import session_client
from tests.support.push import expected_transactions, items, push_setup
from tests.support.web import login

pytestmark = pytest.mark.usefixtures("empty_sync_queues")
REFUSE_TWO = {
    "kind": "status",
    "status": 400,
    "methods": ["POST"],
    "path": "/additions$",
    "count": 2,
    "body": {
        "code": "InvalidObject",
        "message": "Product is inactive in ConnectWise.",
        "errors": [
            {
                "code": "InvalidObject",
                "message": "catalogItem is inactive",
                "resource": "agreementAddition",
                "field": "product",
            }
        ],
    },
}


def test_failed_rows_show_connectwise_reason_and_retry_selected_pushes_them(app, cw_live):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=1)
        rows = len(expected_transactions(customers))
        cw_live.set_faults([REFUSE_TWO])
        first = PushBillingCommand(partner_id, "pilot.admin").run()
        cw_live.clear_faults()  # the cause is gone
        failed = [i for i in items(partner_id) if i.state == "failed"]
        tx = session().get(BillingTransaction, failed[0].transaction_id)
        product = session().scalar(
            select(Product.title)
            .join(Subscription, Subscription.product_id == Product.id)
            .where(Subscription.id == tx.subscription_id)
        )
    assert len(failed) == 2
    client, headers = session_client(app)
    page = client.get(f"/api/v1/psa_sync/runs/{first.run_id}/failed?page_size=1").get_json()
    assert page["total"] == 2 and len(page["result"]) == 1 and page["run"]["id"] == first.run_id
    assert page["run"]["counts"] == {"pushed": rows - 2, "failed": 2, "not_foreseen": 2}
    assert page["run"]["not_foreseen"] == 2 and page["run"]["alert"] is True
    row = page["result"][0]
    assert row["item_id"] == failed[0].id and row["state"] == "failed" and row["code"] == "InvalidObject"
    assert row["message"].startswith("Product is inactive in ConnectWise.")
    assert (row["product"], row["amount"], row["period_start"], row["subscription_id"], row["customer_id"]) == (
        product,
        str(tx.amount),
        tx.period_start.isoformat(),
        tx.subscription_id,
        tx.customer_id,
    )
    second_page = client.get(f"/api/v1/psa_sync/runs/{first.run_id}/failed?page=2&page_size=1").get_json()
    assert second_page["result"][0]["item_id"] == failed[1].id

    retried = client.post("/api/v1/psa_sync/retry-failed", json={"ids": [failed[0].id]}, headers=headers)
    assert retried.get_json() == {"retried": 1}
    with app.app_context():
        second = PushBillingCommand(partner_id, "pilot.admin").run()
    assert second.counts == {"pushed": 1}
    after = client.get(f"/api/v1/psa_sync/runs/{first.run_id}/failed").get_json()["result"]
    assert [(r["item_id"], r["state"], r["code"]) for r in after] == [
        (failed[0].id, "pushed", "InvalidObject"),
        (failed[1].id, "failed", "InvalidObject"),
    ]  # the reason it had

    history = client.get("/api/v1/psa_sync/runs?page_size=1").get_json()
    assert history["total"] == 2 and [r["id"] for r in history["result"]] == [second.run_id]
    run = history["result"][0]
    assert run["status"] == "succeeded" and run["duration_seconds"] is not None and run["writes"] == 1
    assert client.get("/api/v1/psa_sync/runs?page=2&page_size=1").get_json()["result"][0]["id"] == first.run_id
    assert client.get("/api/v1/psa_sync/runs?page=0").status_code == 400
    assert client.get("/api/v1/psa_sync/runs?page_size=500").status_code == 400
    assert client.get(f"/api/v1/psa_sync/runs/{second.run_id}/failed").get_json()["total"] == 0


def test_pages_menu_and_viewer(app, cw_live):
    with app.app_context():
        partner_id, _actor, _customers = push_setup(cw_live, customers=1)
        run = PushBillingCommand(partner_id, "pilot.admin").run()
    admin, _headers = session_client(app)
    html = admin.get("/psa/sync/").get_data(as_text=True)
    assert 'id="runs-table"' in html and 'id="sync-now"' in html and "Billing Sync" in html
    detail = admin.get(f"/psa/sync/runs/{run.run_id}").get_data(as_text=True)
    assert 'id="failed-table"' in detail and 'id="retry-selected"' in detail
    assert 'href="/psa/sync/"' in admin.get("/psa/").get_data(as_text=True)
    viewer, _viewer_headers = session_client(app, "pilot.viewer")
    page = viewer.get(f"/psa/sync/runs/{run.run_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'id="retry-selected"' not in body and 'id="sync-now"' not in body and 'id="sync-acknowledge"' not in body
    card = viewer.get("/psa/my-organization/").get_data(as_text=True)
    assert 'id="psa-sync"' in card and 'id="sync-now"' not in card
    assert 'id="sync-now"' in admin.get("/psa/my-organization/").get_data(as_text=True)
    assert 'id="sync-now"' in admin.get("/psa/reconciliation/").get_data(as_text=True)
    other = login(app.test_client(), "fabrikam.admin")  # feature off for Fabrikam: no PSA pages
    assert other.get("/psa/sync/").status_code == 403


def test_cli_runs_and_show_run(app, cw_live):
    with app.app_context():
        partner_id, _actor, _customers = push_setup(cw_live, customers=1)
        cw_live.set_faults([REFUSE_TWO])
        run = PushBillingCommand(partner_id, "pilot.admin").run()
        runner = CliRunner()
        listed = runner.invoke(psa_cli, ["sync", "runs", "--partner", str(partner_id), "--as", "pilot.viewer"])
        assert listed.exit_code == 0, listed.output
        assert f"#{run.run_id}" in listed.output and "partial" in listed.output and "ALERT" in listed.output
        shown = runner.invoke(
            psa_cli,
            ["sync", "show-run", "--partner", str(partner_id), "--run", str(run.run_id), "--as", "pilot.viewer"],
        )
        data = json.loads(shown.output)
        assert data["total"] == 2 and data["result"][0]["code"] == "InvalidObject"
        progress = runner.invoke(psa_cli, ["sync", "progress", "--partner", str(partner_id), "--as", "pilot.viewer"])
        live = json.loads(progress.output)
        assert live["progress"] is None and live["alert"]["run_id"] == run.run_id
        status = json.loads(
            runner.invoke(psa_cli, ["sync", "status", "--partner", str(partner_id), "--as", "pilot.viewer"]).output
        )
        assert {"progress", "queued", "alert"} <= set(status) and status["alert"]["counts"]["failed"] == 2


def test_console_views_are_read_only_and_tenant_scoped(app, cw_live):
    with app.app_context():
        partner_id, _actor, _customers = push_setup(cw_live, customers=1)
        cw_live.set_faults([REFUSE_TWO])
        own = PushBillingCommand(partner_id, "pilot.admin").run()
        b = tenants.other().id
        theirs = SyncRun(partner_id=b, status="failed", requested_by="fabrikam.admin", error="B-ONLY-CONSOLE")
        session().add(theirs)
        session().commit()
        own_item = session().scalar(
            select(SyncItem.id).where(SyncItem.partner_id == partner_id, SyncItem.state == "failed")
        )
        theirs_id = theirs.id
    pilot = login(app.test_client(), "pilot.viewer")
    listing = pilot.get("/syncrunview/list/").get_data(as_text=True)
    assert "fabrikam.admin" not in listing and "partial" in listing
    assert pilot.get(f"/syncrunview/show/{theirs_id}").status_code == 404
    assert pilot.get(f"/syncrunview/show/{own.run_id}").status_code == 200
    assert pilot.get("/syncrunview/add").status_code in (403, 404, 302)
    outbox = pilot.get("/syncitemview/list/?_flt_0_state=failed").get_data(as_text=True)
    assert "InvalidObject" in outbox and "pushed</td>" not in outbox
    assert pilot.get(f"/syncitemview/show/{own_item}").status_code == 200
    admin = login(app.test_client(), "admin")
    assert "fabrikam.admin" in admin.get("/syncrunview/list/").get_data(as_text=True)
    assert "B-ONLY-CONSOLE" in admin.get(f"/syncrunview/show/{theirs_id}").get_data(as_text=True)
