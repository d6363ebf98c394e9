"""A real worker validates an activation; the CLI drives the same commands (key from stdin or a file)."""

from __future__ import annotations

import time

import pytest

from msphub_psa.cli import psa_cli
from tests.support import tenants
from tests.support.card import activate, form_values, session_client, status


@pytest.mark.worker
def test_real_worker_turns_an_activation_active_and_reads_the_directory_at_once(app, cw_live, worker):
    client, headers = session_client(app)
    proc = worker(queues="fast")
    assert activate(client, headers, form_values(cw_live)).status_code == 202
    deadline = time.monotonic() + 30
    while status(client)["validating"] and time.monotonic() < deadline:
        time.sleep(0.2)
    state = status(client)
    assert state["status"] == "active", (state, proc.stop())
    # the activation started the directory refresh itself: the Reconciliation Center fills without a Refresh
    directory = client.get("/api/v1/psa_reconciliation/directory").get_json()
    while directory["status"] in ("queued", "running") and time.monotonic() < deadline + 30:
        time.sleep(0.2)
        directory = client.get("/api/v1/psa_reconciliation/directory").get_json()
    assert directory["status"] == "done", (directory, proc.stop())
    assert directory["progress"]["companies"] > 0
    audit = client.get("/api/v1/psa_audit/?action=directory.*").get_json()["result"]
    assert {(a["action"], a["username"]) for a in audit} == {
        ("directory.refresh_requested", "pilot.admin"),
        ("directory.refresh", "pilot.admin"),
    }


def test_cli_activate_status_deactivate(app, cw_live, tmp_path):
    with app.app_context():
        pid = tenants.pilot().id
    base = [
        "integration",
        "activate",
        "--partner",
        str(pid),
        "--as",
        "pilot.admin",
        "--client-id",
        cw_live.client_id,
        "--company",
        cw_live.company_id,
        "--public-key",
        cw_live.public_key,
        "--api-url",
        cw_live.base_url,
    ]
    result = app.test_cli_runner().invoke(psa_cli, base + ["--private-key-file", "-"], input=cw_live.private_key + "\n")
    assert result.exit_code == 0, result.output
    assert "Validation queued" in result.output and cw_live.private_key not in result.output
    key_file = tmp_path / "key"
    key_file.write_text("wrong-key")
    again = app.test_cli_runner().invoke(psa_cli, base + ["--private-key-file", str(key_file)])
    assert again.exit_code == 2 and "already running" in again.output  # different key while one runs
    assert app.test_cli_runner().invoke(psa_cli, base + ["--private-key", "x"]).exit_code != 0  # no such option
    shown = app.test_cli_runner().invoke(
        psa_cli, ["integration", "status", "--partner", str(pid), "--as", "pilot.admin"]
    )
    assert "Status: Validating (validation running)" in shown.output
    refused = app.test_cli_runner().invoke(
        psa_cli, ["integration", "deactivate", "--partner", str(pid), "--as", "pilot.viewer"]
    )
    assert refused.exit_code == 2 and "Error (403)" in refused.output
    done = app.test_cli_runner().invoke(
        psa_cli, ["integration", "deactivate", "--partner", str(pid), "--as", "pilot.admin"]
    )
    assert done.exit_code == 0 and "deactivated" in done.output


def test_cli_status_after_a_failed_reactivation_does_not_name_the_earlier_activation(app, cw_live):
    """Activated, deactivated, re-activated with a wrong key: "Not activated" and no "Activated By/Date"."""
    from tests.support.card import activate, form_values, run_validation, session_client, status

    with app.app_context():
        pid = tenants.pilot().id
    client, headers = session_client(app)
    first = activate(client, headers, form_values(cw_live)).get_json()
    assert run_validation(app, first["integration_id"], first["job_id"]) == "active"
    runner = app.test_cli_runner()
    cli_status = ["integration", "status", "--partner", str(pid), "--as", "pilot.admin"]
    active = runner.invoke(psa_cli, cli_status).output
    assert "Status: Active" in active and "Activated By: Pat Pilot (pilot.admin)" in active
    assert (
        runner.invoke(psa_cli, ["integration", "deactivate", "--partner", str(pid), "--as", "pilot.admin"]).exit_code
        == 0
    )
    deactivated = runner.invoke(psa_cli, cli_status).output
    assert (
        "Status: Deactivated" in deactivated and "Activated By:" in deactivated and "Deactivated Date:" in deactivated
    )
    again = activate(client, headers, form_values(cw_live, private_key="wrong-key")).get_json()
    assert run_validation(app, again["integration_id"], again["job_id"]) == "failed"
    shown = runner.invoke(psa_cli, cli_status).output
    assert "Status: Not activated" in shown and "Message:" in shown, shown
    assert "Activated By" not in shown and "Activated Date" not in shown and "Deactivated Date" not in shown
    card = status(client)  # the REST state says the same
    assert card["status_label"] == "Not activated" and card["activated_by"] is None and card["activated_at"] is None
