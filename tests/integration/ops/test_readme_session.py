"""docs/api.md's `curl` session ("The REST API from a shell"), call for call, with a JWT."""

from __future__ import annotations

from msphub_psa.commands.access import actor_for_user, find_user
from msphub_psa.commands.directory import RefreshDirectoryCommand
from tests.support import tenants
from tests.support.integration import make_active_integration
from tests.support.reconciliation import seed_sandbox_for_pilot


def test_readme_curl_session(app, cw_live):
    with app.app_context():
        partner_id = tenants.pilot().id
        seed_sandbox_for_pilot(cw_live)
        make_active_integration(partner_id, cw_live)
    client = app.test_client()
    login = client.post(
        "/api/v1/security/login",
        json={"username": "pilot.admin", "password": "pilot-admin-demo-2026", "provider": "db"},
    )
    auth = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    api = "/api/v1"
    queued = client.post(f"{api}/psa_reconciliation/directory/refresh", headers=auth, json={})
    assert queued.status_code == 202 and queued.get_json()["job_id"]
    with app.app_context():  # what the worker does with the queued job
        RefreshDirectoryCommand(actor_for_user(find_user("pilot.admin")), partner_id).run()
    assert client.get(f"{api}/psa_reconciliation/directory", headers=auth).get_json()["status"] == "done"
    summary = client.get(f"{api}/psa_reconciliation/summary?period=all", headers=auth).get_json()
    assert summary["unmapped_customers"] > 0
    unmapped = client.get(
        f"{api}/psa_reconciliation/customers?state=unmapped&q=contoso&page=1&page_size=20", headers=auth
    ).get_json()
    customer = unmapped["result"][0]
    assert {"id", "name", "unsynchronized"} <= set(customer)
    companies = client.get(f"{api}/psa_reconciliation/companies?q=contoso", headers=auth).get_json()["result"]
    assert companies and {"id", "remote_id", "name"} <= set(companies[0])
    assert (
        client.get(f"{api}/psa_reconciliation/suggestions?customer_ids={customer['id']}", headers=auth).status_code
        == 200
    )
    mapped = client.post(
        f"{api}/psa_reconciliation/mappings",
        headers=auth,
        json={"customer_id": customer["id"], "company_id": companies[0]["id"]},
    )
    assert mapped.status_code in (200, 201), mapped.get_data(as_text=True)
    assert client.delete(f"{api}/psa_reconciliation/mappings/{customer['id']}", headers=auth).status_code == 200
    audit = client.get(f"{api}/psa_audit/?action=customer.*", headers=auth).get_json()["result"]
    assert audit and [a["action"] for a in audit[:2]] == ["customer.unmap", "customer.map"]
    # billing sync: preview, Sync now with approval on, approve, the run
    totals = client.get(f"{api}/psa_sync/preview?page_size=5&lines=3", headers=auth).get_json()["totals"]
    assert totals["transactions"] > 0
    started = client.post(f"{api}/psa_sync/run", headers=auth)
    assert started.status_code == 202
    preview = started.get_json()["awaiting_approval"]["id"]
    approved = client.post(f"{api}/psa_sync/previews/{preview}/approve", headers=auth, json={})
    assert approved.status_code == 202
    with app.app_context():  # what the worker does with the queued job
        from tests.support.control import run_queued

        run_queued(approved.get_json()["job_id"])
    run = client.get(f"{api}/psa_sync/", headers=auth).get_json()["runs"][0]
    assert run["status"] == "succeeded" and run["counts"]["pushed"] == totals["transactions"]
