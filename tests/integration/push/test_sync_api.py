"""REST for the billing push, and the Reconciliation Center's figures over HTTP."""

from __future__ import annotations

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from tests.support.card import session_client
from tests.support.push import expected_transactions, push_setup


def test_sync_api_status_run_retry_and_viewer(app, cw_live):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=1)
        total = len(expected_transactions(customers))
    client, headers = session_client(app)
    summary = client.get("/api/v1/psa_reconciliation/summary").get_json()
    assert summary["pending_push_count"] == total and summary["failed_count"] == 0
    assert float(summary["pending_push"]) != 0
    with app.app_context():
        from sqlalchemy import select

        from msphub_psa.daos.base import session
        from msphub_psa.daos.outbox import subscription_sync_status
        from msphub_psa.models.hub import Subscription

        subs = sorted({t.subscription_id for t in expected_transactions(customers)})
        other = session().scalar(select(Subscription.id).where(Subscription.customer_id.not_in(customers)))
        assert set(subscription_sync_status(partner_id, subs).values()) == {("none", None)}
        run = PushBillingCommand(partner_id, "pilot.admin").run()
        statuses = subscription_sync_status(partner_id, subs + [other])
        assert {statuses[s] for s in subs} == {("synced", None)} and statuses[other] == ("none", None)
    status = client.get("/api/v1/psa_sync/").get_json()
    assert status["states"] == {"pushed": total} and status["runs"][0]["id"] == run.run_id
    assert status["runs"][0]["psa_calls"] == run.psa_calls
    detail = client.get(f"/api/v1/psa_sync/runs/{run.run_id}").get_json()
    assert detail["counts"] == {"pushed": total}
    summary = client.get("/api/v1/psa_reconciliation/summary").get_json()
    assert summary["pending_push_count"] == 0 and summary["pending_push"] == "0.00"
    chart = client.get("/api/v1/psa_reconciliation/chart").get_json()
    assert "pushed" in chart["months"][0]
    started = client.post("/api/v1/psa_sync/run", headers=headers)
    assert started.status_code == 202 and started.get_json()["job_id"]
    again = client.post("/api/v1/psa_sync/run", headers=headers).get_json()
    assert again == {"job_id": started.get_json()["job_id"], "created": False}  # the waiting push is joined
    assert client.post("/api/v1/psa_sync/retry-failed", json={}, headers=headers).get_json() == {"retried": 0}
    bad = client.post("/api/v1/psa_sync/retry-failed", json={"ids": ["x"]}, headers=headers)
    assert bad.status_code == 400
    assert client.post("/api/v1/psa_sync/run", headers={}).status_code in (400, 403)  # no CSRF token
    viewer, viewer_headers = session_client(app, "pilot.viewer")
    assert viewer.get("/api/v1/psa_sync/").status_code == 200
    assert viewer.post("/api/v1/psa_sync/run", headers=viewer_headers).status_code == 403
    assert viewer.post("/api/v1/psa_sync/retry-failed", json={}, headers=viewer_headers).status_code == 403
