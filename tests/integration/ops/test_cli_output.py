"""The CLI at the default log level: the command's own lines, no library chatter (FAB's start-up, its
filter warnings, httpx's line per request); at DEBUG the ConnectWise requests show, from our client."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import tenants
from tests.support.clock import command
from tests.support.fixtures import ROOT
from tests.support.integration import make_active_integration
from tests.support.reconciliation import seed_sandbox_for_pilot


def _refresh(db_url: str, partner_id: int, level: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "app", "PSA_LOG_LEVEL": level, "PSA_LOG_FORMAT": "text"}
    args = [*command("flask", "psa", "directory", "refresh"), "--partner", str(partner_id), "--as", "pilot.admin"]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def pilot_active(app, db_url, cw_live):
    with app.app_context():
        partner_id = tenants.pilot().id
        seed_sandbox_for_pilot(cw_live)
        make_active_integration(partner_id, cw_live)
    return partner_id


def test_default_level_prints_only_the_commands_lines(db_url, pilot_active):
    done = _refresh(db_url, pilot_active, "INFO")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Directory refreshed")
    library_lines = [
        line
        for line in done.stderr.splitlines()
        if any(name in line for name in (" httpx ", " httpcore", " flask_appbuilder"))
    ]
    assert library_lines == []
    assert "companies" in done.stderr  # the command's own progress lines


def test_debug_level_shows_each_connectwise_request_from_our_client(db_url, pilot_active):
    done = _refresh(db_url, pilot_active, "DEBUG")
    assert done.returncode == 0, done.stderr
    assert " DEBUG msphub_psa.connectwise.client ConnectWise GET " in done.stderr
