"""Alerts: a run that ended failed/partial/stopped is flagged until acknowledged; the e-mail hook is called once."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from msphub_psa.cli import psa_cli
from msphub_psa.commands.billing.alerts import notify_run_alert
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.daos.base import session
from msphub_psa.models.sync import SyncRun
from msphub_psa.models.tenancy import AuditEvent
from tests.support import alerts, tenants
from tests.support.card import session_client
from tests.support.push import expected_transactions, push_setup
from tests.support.settings import configure

pytestmark = pytest.mark.usefixtures("empty_sync_queues")
REFUSE_ONE = {
    "kind": "status",
    "status": 400,
    "methods": ["POST"],
    "path": "/additions$",
    "count": 1,
    "body": {"code": "InvalidObject", "message": "The agreement does not allow this product."},
}


def _partial_run(app, cw_live) -> tuple[int, int, int]:
    """A push of the pilot where ConnectWise refuses one addition: (partner id, run id, rows)."""
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=1)
        rows = len(expected_transactions(customers))
        cw_live.set_faults([REFUSE_ONE])
        result = PushBillingCommand(partner_id, "pilot.admin").run()
        cw_live.clear_faults()
        assert result.status == "partial"
        return partner_id, result.run_id, rows


def test_partial_run_alerts_until_acknowledged_and_emails_once(app, cw_live):
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record")
    configure(app, PSA_ALERT_EMAIL_TO="billing-ops@example.com, pilot.admin@example.com")
    alerts.SENT.clear()
    partner_id, run_id, rows = _partial_run(app, cw_live)
    assert len(alerts.SENT) == 1
    email = alerts.SENT[0]
    assert email.run_id == run_id and email.status == "partial" and email.partner_id == partner_id
    assert email.counts == {"pushed": rows - 1, "failed": 1, "not_foreseen": 1}
    assert email.to == ("billing-ops@example.com", "pilot.admin@example.com")  # the partner's admins, no duplicate
    assert f"pushed {rows - 1}" in email.body and "failed 1" in email.body and f"/psa/sync/runs/{run_id}" in email.link

    client, headers = session_client(app)
    for _ in range(3):  # pages poll: nothing more is sent
        alert = client.get("/api/v1/psa_sync/progress").get_json()["alert"]
        assert client.get("/api/v1/psa_sync/").get_json()["alert"] == alert
    assert alert == {
        **alert,
        "run_id": run_id,
        "status": "partial",
        "counts": {"pushed": rows - 1, "failed": 1, "not_foreseen": 1},
        "unacknowledged": 1,
    }
    with app.app_context():
        assert notify_run_alert(run_id) is False  # called again (another worker, a retry): still once
    assert len(alerts.SENT) == 1

    viewer, viewer_headers = session_client(app, "pilot.viewer")
    refused = viewer.post(f"/api/v1/psa_sync/runs/{run_id}/acknowledge", headers=viewer_headers)
    assert refused.status_code == 403
    assert viewer.get("/api/v1/psa_sync/progress").get_json()["alert"]["run_id"] == run_id

    done = client.post(f"/api/v1/psa_sync/runs/{run_id}/acknowledge", headers=headers)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["acknowledged"] == [run_id] and body["run"]["acknowledged_by"] == "pilot.admin"
    assert body["run"]["alert"] is False and body["run"]["acknowledged_at"]
    assert client.get("/api/v1/psa_sync/progress").get_json()["alert"] is None
    again = client.post(f"/api/v1/psa_sync/runs/{run_id}/acknowledge", headers=headers).get_json()
    assert again["acknowledged"] == []  # idempotent
    with app.app_context():
        events = session().scalars(select(AuditEvent).where(AuditEvent.action == "sync.alert.acknowledge")).all()
        assert [(e.username, e.object_id, e.detail["runs"]) for e in events] == [("pilot.admin", str(run_id), [run_id])]
        run = session().get(SyncRun, run_id)
        assert run.acknowledged_by == "pilot.admin" and run.alert_sent_at is not None
    assert len(alerts.SENT) == 1


def test_acknowledge_refuses_other_tenants_and_runs_without_alert(app, cw_live):
    configure(app, PSA_ALERT_EMAIL_HOOK="")  # off: nothing is handed over, nothing breaks
    partner_id, run_id, _rows = _partial_run(app, cw_live)
    with app.app_context():
        other = SyncRun(
            partner_id=tenants.other().id, status="failed", requested_by="fabrikam.admin", error="B-ONLY-ERROR"
        )
        session().add(other)
        session().commit()
        other_id = other.id
        ok = PushBillingCommand(partner_id, "pilot.admin").run()
        assert ok.status == "succeeded"
    client, headers = session_client(app)
    assert client.post(f"/api/v1/psa_sync/runs/{other_id}/acknowledge", headers=headers).status_code == 404
    assert client.get(f"/api/v1/psa_sync/runs/{other_id}/failed").status_code == 404
    assert client.get(f"/psa/sync/runs/{other_id}").status_code == 404
    assert client.post(f"/api/v1/psa_sync/runs/{ok.run_id}/acknowledge", headers=headers).status_code == 409
    assert client.post("/api/v1/psa_sync/runs/987654321/acknowledge", headers=headers).status_code == 404
    # a later successful run does not clear the alert: someone must acknowledge it
    assert client.get("/api/v1/psa_sync/progress").get_json()["alert"]["run_id"] == run_id
    with app.app_context():
        assert session().get(SyncRun, other_id).acknowledged_at is None
        runner = CliRunner()
        viewer = runner.invoke(
            psa_cli, ["sync", "acknowledge", "--partner", str(partner_id), "--run", str(run_id), "--as", "pilot.viewer"]
        )
        assert viewer.exit_code == 2 and "Error (403)" in viewer.output
        result = runner.invoke(
            psa_cli, ["sync", "acknowledge", "--partner", str(partner_id), "--run", str(run_id), "--as", "pilot.admin"]
        )
        assert result.exit_code == 0 and f"Acknowledged #{run_id}." in result.output
        other_cli = runner.invoke(
            psa_cli,
            [
                "sync",
                "acknowledge",
                "--partner",
                str(tenants.other().id),
                "--run",
                str(other_id),
                "--as",
                "pilot.admin",
            ],
        )
        assert other_cli.exit_code == 2 and "Error (404)" in other_cli.output


def test_one_acknowledgement_clears_older_open_alerts(app, cw_live):
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record")
    alerts.SENT.clear()
    partner_id, first, _rows = _partial_run(app, cw_live)
    with app.app_context():
        from msphub_psa.commands.exceptions import IntegrationStoppedError

        stopped = PushBillingCommand(partner_id, "pilot.admin")
        stopped.run_state.guard = lambda: (_ for _ in ()).throw(
            IntegrationStoppedError("The integration was deactivated.")
        )
        second = stopped.run()
        assert second.status == "stopped"
    assert [e.run_id for e in alerts.SENT] == [first, second.run_id]
    client, headers = session_client(app)
    alert = client.get("/api/v1/psa_sync/progress").get_json()["alert"]
    assert (alert["run_id"], alert["status"], alert["unacknowledged"]) == (second.run_id, "stopped", 2)
    body = client.post(f"/api/v1/psa_sync/runs/{second.run_id}/acknowledge", headers=headers).get_json()
    assert body["acknowledged"] == [first, second.run_id]
    assert client.get("/api/v1/psa_sync/progress").get_json()["alert"] is None


def test_default_hook_logs_the_email_without_secrets(app, cw_live, caplog, monkeypatch):
    # Alembic's fileConfig (the session's migrations) disables loggers that existed before it ran
    monkeypatch.setattr(logging.getLogger("msphub_psa.alerts"), "disabled", False)
    caplog.set_level(logging.INFO, logger="msphub_psa.alerts")
    partner_id, run_id, _rows = _partial_run(app, cw_live)
    lines = [r for r in caplog.records if r.name == "msphub_psa.alerts"]
    assert len(lines) == 1
    record = lines[0]
    assert record.getMessage().startswith("would send to pilot.admin@example.com: ConnectWise billing sync partial")
    assert record.run_id == run_id and record.run_counts["failed"] == 1
    assert record.alert_to == ["pilot.admin@example.com"]
    text = " ".join(str(v) for v in vars(record).values())
    assert cw_live.private_key not in text and cw_live.public_key not in text


def test_a_failing_mailer_does_not_fail_the_run(app, cw_live, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("msphub_psa.commands.billing.alerts"), "disabled", False)
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts.explode")
    partner_id, run_id, _rows = _partial_run(app, cw_live)
    assert any("alert e-mail of run" in r.getMessage() for r in caplog.records)
    with app.app_context():
        run = session().get(SyncRun, run_id)
        assert run.status == "partial" and run.alert_sent_at is not None
