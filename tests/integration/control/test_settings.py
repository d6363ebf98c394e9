"""Sync settings over REST and the CLI: defaults, changes, bad input (400, nothing saved), the viewer, and the
per-partner request limit reaching the push's shared throttle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from msphub_psa.commands.psa_client import partner_limiter
from msphub_psa.daos.base import session
from msphub_psa.models.sync import SyncSettings
from msphub_psa.models.tenancy import AuditEvent
from tests.support.card import session_client
from tests.support.dump import diff, dump_tables
from tests.support.reconciliation import pilot_ready
from tests.support.settings import configure

URL = "/api/v1/psa_sync/settings"


@pytest.fixture
def pilot(app, cw_live):
    configure(app, PSA_CW_REQUESTS_PER_MINUTE=600)  # the production default cap (the suite runs with 0: off)
    with app.app_context():
        partner_id, _actor = pilot_ready(cw_live, refresh=False)
        session().remove()
    return partner_id


def test_defaults_then_a_change_is_saved_audited_and_counts_from_now(app, pilot):
    client, headers = session_client(app)
    defaults = client.get(URL).get_json()
    assert defaults["schedule_enabled"] and defaults["schedule_time"] == "06:00"
    assert len(defaults["schedule_days"]) == 7
    assert (defaults["approval"], defaults["approval_required"]) == ("default", True)
    assert defaults["first_push_done"] is False
    assert defaults["requests_per_minute"] is None and defaults["effective_requests_per_minute"] == 600
    assert defaults["next_run_at"]

    answer = client.put(
        URL,
        json={
            "schedule_time": "21:30",
            "schedule_days": ["MON", "fri"],
            "approval": "never",
            "requests_per_minute": 42,
        },
        headers=headers,
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["schedule_time"], body["schedule_days"], body["approval"]) == ("21:30", ["mon", "fri"], "never")
    assert body["approval_required"] is False and body["effective_requests_per_minute"] == 42
    assert body["next_run_local"].split()[0] in ("Mon", "Fri") and body["updated_by"] == "pilot.admin"
    off = client.put(URL, json={"schedule_enabled": False}, headers=headers).get_json()
    assert off["schedule_enabled"] is False and off["schedule_time"] == "21:30" and off["next_run_at"] is None
    with app.app_context():
        row = session().scalar(select(SyncSettings).where(SyncSettings.partner_id == pilot))
        assert row.schedule_since is not None and row.schedule_days == "mon,fri"
        audits = session().scalars(select(AuditEvent).where(AuditEvent.action == "sync.settings")).all()
        assert len(audits) == 2 and audits[0].detail["changes"]["approval"] == ["default", "never"]
        assert partner_limiter(pilot).limit == 42  # the push's shared limit follows
    assert (
        client.put(URL, json={"requests_per_minute": None}, headers=headers).get_json()["effective_requests_per_minute"]
        == 600
    )


BAD = [
    ({"schedule_time": "6:00"}, "schedule_time"),
    ({"schedule_time": "24:00"}, "schedule_time"),
    ({"schedule_time": "06:00:00"}, "schedule_time"),
    ({"schedule_time": 600}, "schedule_time"),
    ({"schedule_days": ["monday"]}, "schedule_days"),
    ({"schedule_days": ["mon", "mon"]}, "schedule_days"),
    ({"schedule_days": "mon"}, "schedule_days"),
    ({"schedule_enabled": True, "schedule_days": []}, "schedule_days"),
    ({"approval": "sometimes"}, "approval"),
    ({"requests_per_minute": 0}, "requests_per_minute"),
    ({"requests_per_minute": -5}, "requests_per_minute"),
    ({"requests_per_minute": 601}, "requests_per_minute"),
    ({"requests_per_minute": 1.5}, "requests_per_minute"),
    ({"requests_per_minute": "10"}, "requests_per_minute"),
    ({"colour": "blue"}, "colour"),
    ({"schedule_time": "07:00", "approval": "nope"}, "approval"),  # one bad field: the good one is not saved either
]


def test_bad_input_is_a_clear_400_and_saves_nothing(app, pilot):
    client, headers = session_client(app)
    before = dump_tables(app)
    for body, field in BAD:
        answer = client.put(URL, json=body, headers=headers)
        assert answer.status_code == 400, (body, answer.get_json())
        message = answer.get_json()
        assert message["message"] and field in message["errors"], (body, message)
    assert client.put(URL, data="{", content_type="application/json", headers=headers).status_code == 400
    assert diff(before, dump_tables(app)) == {}


def test_no_operator_cap_allows_any_positive_limit(app, pilot):
    configure(app, PSA_CW_REQUESTS_PER_MINUTE=0)
    client, headers = session_client(app)
    assert client.get(URL).get_json()["effective_requests_per_minute"] == 0
    assert (
        client.put(URL, json={"requests_per_minute": 5000}, headers=headers).get_json()["effective_requests_per_minute"]
        == 5000
    )
    with app.app_context():
        assert partner_limiter(pilot).limit == 5000
        configure(app, PSA_CW_REQUESTS_PER_MINUTE=100)  # the operator lowers the cap later: it wins
        assert partner_limiter(pilot).limit == 100


def test_viewer_reads_settings_and_cannot_change_them(app, pilot):
    viewer, headers = session_client(app, "pilot.viewer")
    assert viewer.get(URL).status_code == 200
    page = viewer.get("/psa/sync/settings/")
    assert page.status_code == 200 and b"settings-save" not in page.data and b"viewer-note" in page.data
    assert viewer.put(URL, json={"approval": "never"}, headers=headers).status_code == 403


def test_cli_shows_and_changes_settings(app, pilot):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["psa", "sync", "settings", "--partner", str(pilot), "--as", "pilot.viewer"])
    assert shown.exit_code == 0 and '"schedule_time": "06:00"' in shown.output
    changed = runner.invoke(
        args=[
            "psa",
            "sync",
            "settings",
            "--partner",
            str(pilot),
            "--as",
            "pilot.admin",
            "--time",
            "05:15",
            "--days",
            "sat,sun",
            "--approval",
            "always",
            "--limit",
            "30",
        ]
    )
    assert changed.exit_code == 0 and '"schedule_days": [\n    "sat",\n    "sun"\n  ]' in changed.output
    bad = runner.invoke(
        args=["psa", "sync", "settings", "--partner", str(pilot), "--as", "pilot.admin", "--limit", "lots"]
    )
    assert bad.exit_code == 2 and "Error (400)" in bad.output and "requests_per_minute" in bad.output
    refused = runner.invoke(
        args=["psa", "sync", "settings", "--partner", str(pilot), "--as", "pilot.viewer", "--schedule", "off"]
    )
    assert refused.exit_code == 2 and "Error (403)" in refused.output
