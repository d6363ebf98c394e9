"""Edit (held as pending), Client ID / Company Name rules, deactivation, the guard, one job per save."""

from __future__ import annotations

import threading

import pytest

from msphub_psa.commands.exceptions import IntegrationStoppedError
from msphub_psa.commands.integration import EDIT_KEPT, GENERIC_FAILURE, IntegrationGuard
from msphub_psa.crypto import decrypt_secret
from msphub_psa.jobqueue import get_queue
from tests.support import tenants
from tests.support.card import (
    activate,
    edit,
    form_values,
    integration_of,
    run_validation,
    session_client,
    status,
)


def make_active(app, cw):
    """Activate through the API and run the validation; return (client, headers, partner id)."""
    client, headers = session_client(app)
    body = activate(client, headers, form_values(cw)).get_json()
    assert run_validation(app, body["integration_id"], body["job_id"]) == "active"
    with app.app_context():
        return client, headers, tenants.pilot().id


def test_failed_edit_keeps_the_previous_credentials_active(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    response = edit(client, headers, form_values(cw_live, private_key="bad-key"))
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"]["status"] == "active" and body["status"]["validation_kind"] == "edit"
    assert client.get("/psa/").status_code == 200  # still active while the edit validates
    assert run_validation(app, body["integration_id"], body["job_id"]) == "failed"
    state = status(client)
    assert state["status"] == "active" and state["edit_failed"] and state["menu_visible"]
    assert state["message"] == f"{GENERIC_FAILURE} {EDIT_KEPT}"
    row = integration_of(app, pid)
    with app.app_context():
        assert decrypt_secret(row.private_key_encrypted) == cw_live.private_key and row.pending is None
    assert "previous ConnectWise credentials remain active" in client.get("/psa/my-organization/").get_data(
        as_text=True
    )


def test_edit_with_blank_private_key_keeps_the_stored_one(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    body = edit(client, headers, form_values(cw_live, private_key="", client_id="")).get_json()
    assert run_validation(app, body["integration_id"], body["job_id"]) == "active"
    state = status(client)
    assert state["status"] == "active" and not state["validation_failed"]
    with app.app_context():
        assert decrypt_secret(integration_of(app, pid).private_key_encrypted) == cw_live.private_key


def test_client_id_cannot_change_after_first_activation(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    response = edit(client, headers, form_values(cw_live, client_id="11111111-2222-3333-4444-555555555555"))
    assert response.status_code == 400
    assert "cannot be changed after the first activation" in response.get_json()["message"]
    assert "client_id" in response.get_json()["errors"]
    page = client.get("/psa/my-organization/").get_data(as_text=True)
    assert 'id="cw-client_id" name="client_id"' in page and "readonly" in page.split('id="cw-client_id"')[1][:200]
    assert client.post("/api/v1/psa_integration/deactivate", headers=headers).status_code == 200
    response = activate(client, headers, form_values(cw_live, client_id="11111111-2222-3333-4444-555555555555"))
    assert response.status_code == 400  # locked for good, also when activating anew
    assert integration_of(app, pid).client_id == cw_live.client_id


def test_company_name_change_on_active_is_refused_with_the_reason(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    response = edit(client, headers, form_values(cw_live, company_name="another_msp"))
    assert response.status_code == 400
    assert "Deactivate the integration and activate it anew" in response.get_json()["message"]
    assert integration_of(app, pid).pending is None


def test_deactivate_hides_psa_and_activate_again_restores(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    response = client.post("/api/v1/psa_integration/deactivate", headers=headers)
    assert response.status_code == 200 and response.get_json()["status_label"] == "Deactivated"
    assert client.get("/psa/").status_code == 403
    assert not status(client)["menu_visible"]
    page = client.get("/psa/my-organization/").get_data(as_text=True)
    assert "cw-activate" in page and "PSA Integration" not in page.split("navbar")[1][:5000]
    assert client.post("/api/v1/psa_integration/deactivate", headers=headers).status_code == 409
    body = activate(client, headers, form_values(cw_live, private_key="")).get_json()  # blank: stored key
    assert run_validation(app, body["integration_id"], body["job_id"]) == "active"
    assert status(client)["status"] == "active" and client.get("/psa/").status_code == 200


def test_queued_validation_stops_when_deactivated_before_it_runs(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    body = edit(client, headers, form_values(cw_live)).get_json()
    assert client.post("/api/v1/psa_integration/deactivate", headers=headers).status_code == 200
    seen = len(cw_live.requests())
    assert run_validation(app, body["integration_id"], body["job_id"]) == "stale"
    assert len(cw_live.requests()) == seen  # not one ConnectWise call
    assert integration_of(app, pid).status == "deactivated"


def test_running_validation_stops_before_its_next_connectwise_call(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    cw_live.set_faults([{"kind": "hold", "path": "companyinfo"}])
    body = edit(client, headers, form_values(cw_live)).get_json()
    seen = len(cw_live.requests())
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.update(result=run_validation(app, body["integration_id"], body["job_id"]))
    )
    worker.start()
    cw_live.wait_held(1)  # the job is inside its first call (companyinfo)
    assert client.post("/api/v1/psa_integration/deactivate", headers=headers).status_code == 200
    cw_live.release(1)
    worker.join(20)
    assert outcome["result"] == "stopped"
    paths = [entry["path"] for entry in cw_live.requests()[seen:]]
    assert len(paths) == 1 and "companyinfo" in paths[0], paths  # /system/info never called
    assert integration_of(app, pid).status == "deactivated"


def test_guard_for_later_jobs_rereads_the_status(app, cw_live):
    client, headers, pid = make_active(app, cw_live)
    with app.app_context():
        guard = IntegrationGuard(pid)
        guard()  # active: passes
    assert client.post("/api/v1/psa_integration/deactivate", headers=headers).status_code == 200
    with app.app_context():
        with pytest.raises(IntegrationStoppedError):
            guard()


def _job_ids(app, integration_id: int) -> list[str]:
    with app.app_context():
        return [j for j in get_queue("fast").job_ids if f"-validate-integration-{integration_id}-" in j]


def test_double_click_and_two_tabs_give_one_job(app, cw_live):
    tabs = [session_client(app) for _ in range(3)]
    queued_before = set(_job_ids(app, 1))
    answers = []
    barrier = threading.Barrier(len(tabs))

    def save(tab):
        barrier.wait()
        answers.append(activate(tab[0], tab[1], form_values(cw_live)))

    threads = [threading.Thread(target=save, args=(tab,)) for tab in tabs]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert [r.status_code for r in answers] == [202, 202, 202], [r.get_data(as_text=True) for r in answers]
    bodies = [r.get_json() for r in answers]
    assert len({b["job_id"] for b in bodies}) == 1 and sum(b["created"] for b in bodies) == 1
    again = activate(tabs[0][0], tabs[0][1], form_values(cw_live, private_key=""))  # same values, key kept
    assert again.status_code == 202 and again.get_json()["job_id"] == bodies[0]["job_id"]
    assert set(_job_ids(app, bodies[0]["integration_id"])) - queued_before == {bodies[0]["job_id"]}
    other = activate(tabs[0][0], tabs[0][1], form_values(cw_live, public_key="Other"))
    assert other.status_code == 409 and "already running" in other.get_json()["message"]
