"""Directory refresh as a real RQ job on the fast queue, run by a real worker process."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.daos.directory import ReconciliationStateDAO
from msphub_psa.models.directory import PsaCompany
from msphub_psa.models.reconciliation import CustomerMapping
from tests.support.reconciliation import pilot_ready
from tests.support.web import csrf_token, login

pytestmark = pytest.mark.worker
API = "/api/v1/psa_reconciliation"


def wait_for(app, partner_id, statuses, timeout=30.0):
    """Poll the state row until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            state = ReconciliationStateDAO.for_partner(partner_id)
            if state and state.refresh_status in statuses:
                return state.refresh_status, dict(state.refresh_progress or {}), state.refresh_error
            session().remove()
        time.sleep(0.2)
    raise AssertionError(f"refresh still not in {statuses}")


def test_refresh_button_runs_on_the_fast_queue_and_maps_exact_matches(app, client, cw_live, worker):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live, refresh=False)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    first = client.post(f"{API}/directory/refresh", headers=headers, json={})
    again = client.post(f"{API}/directory/refresh", headers=headers, json={})
    assert first.status_code == 202 and first.get_json()["queued"] and not again.get_json()["queued"]
    assert client.get(f"{API}/directory").get_json()["status"] == "queued"
    proc = worker(queues="fast")
    status, progress, error = wait_for(app, partner_id, ("done", "failed"))
    assert status == "done", (error, proc.stop())
    assert progress["companies"] == len(cw_live.state("companies"))
    with app.app_context():
        assert session().scalar(select(func.count(PsaCompany.id)).where(PsaCompany.partner_id == partner_id)) > 0
        exact = session().scalars(select(CustomerMapping).where(CustomerMapping.partner_id == partner_id)).all()
        assert exact and {m.created_by for m in exact} == {"pilot.admin"} and {m.method for m in exact} == {"exact"}
    body = client.get(f"{API}/directory").get_json()
    assert body["status"] == "done" and body["last_refreshed_at"]


def test_failed_refresh_is_reported_and_can_be_retried(app, client, cw_live, worker):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live, refresh=False)
    cw_live.set_faults([{"kind": "status", "status": 401, "path": "/company/companies"}])
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    assert client.post(f"{API}/directory/refresh", headers=headers, json={}).status_code == 202
    worker(queues="fast")
    status, _, error = wait_for(app, partner_id, ("done", "failed"))
    assert status == "failed" and "ConnectWise could not be read" in error
    cw_live.clear_faults()
    retry = client.post(f"{API}/directory/refresh", headers=headers, json={})
    assert retry.get_json()["queued"]
    assert wait_for(app, partner_id, ("done",))[0] == "done"
