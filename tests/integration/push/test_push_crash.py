"""After a crash the run history tells what happened: real worker processes, the sandbox over HTTP.

A push is stopped at a known point with the sandbox's ``hold`` fault, then its work horse alone (what an
out-of-memory kill does) or its whole worker is SIGKILLed. Once the lease has expired (the pinned clock is moved,
nothing sleeps for it), the scheduler's tick or a worker's start marks the run ``abandoned`` with the calls and
counts of its last heartbeat (compared with the sandbox's request log) and ending at it, hands its alert over once,
and enqueues the push again; the push completes with each reference exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from msphub_psa import clock
from msphub_psa.cli import psa_cli
from msphub_psa.commands.billing.preview import ApprovePreviewCommand, PreparePreviewCommand
from msphub_psa.commands.billing.schedule import ScheduleTickCommand
from msphub_psa.daos.base import session
from msphub_psa.jobqueue import redis_connection
from msphub_psa.models.sync import SyncPreview, SyncRun
from tests.integration.push.test_push_basic import _settled_check
from tests.integration.push.test_push_faults import _children, _counts, _kill_with_horse, _wait
from tests.support import alerts
from tests.support.card import session_client
from tests.support.push import expected_transactions, push_setup, without_approval
from tests.support.settings import configure
from tests.support.travel import ANCHOR, real_time

pytestmark = pytest.mark.usefixtures("empty_sync_queues")
LEASE = 60  # the workers' default; the test moves its clock past it instead of waiting
HOLD_CREATES = {"kind": "hold", "methods": ["POST"], "path": "/(additions|adjustments)$"}
HOLD_CATALOG_CREATES = {"kind": "hold", "methods": ["POST"], "path": "/procurement/catalog$"}


@pytest.fixture
def crash_env(app, monkeypatch):
    """Workers that write every heartbeat (no throttle), no request limit, two creates at a time."""
    for key, value in {
        "PSA_PUSH_PROGRESS_SECONDS": "0",
        "PSA_CW_REQUESTS_PER_MINUTE": "0",
        "PSA_PUSH_CONCURRENCY": "2",
        "PSA_PUSH_LEASE_SECONDS": str(LEASE),
        "PSA_ALERT_EMAIL_HOOK": "tests.support.alerts:to_redis",
    }.items():
        monkeypatch.setenv(key, value)
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record", PSA_PUSH_LEASE_SECONDS=LEASE)
    alerts.SENT.clear()
    with app.app_context():
        redis_connection().delete(alerts.redis_key())
        yield app
        redis_connection().delete(alerts.redis_key())


def _runs(partner_id: int) -> list[SyncRun]:
    """The partner's runs, oldest first (fresh read)."""
    session().rollback()
    return list(session().scalars(select(SyncRun).where(SyncRun.partner_id == partner_id).order_by(SyncRun.id)))


CHECK_READS = ("/finance/agreements", "/company/companies")  # the pre-flight checks' batched reads


def _figures(entries: list[dict]) -> dict:
    """What the run record must say about these requests (all of one run, none faulted)."""

    def where(method: str | None, *parts: str) -> list[dict]:
        return [e for e in entries if (method is None or e["method"] == method) and any(p in e["path"] for p in parts)]

    creates = where("POST", "/additions", "/adjustments")
    return {
        "psa_calls": len(entries),
        "writes": len(creates),
        "lookups": len(where("GET", "/additions", "/adjustments")),
        "catalog_calls": len(where(None, "/procurement/")),
        "check_calls": sum(1 for e in entries if e["method"] == "GET" and e["path"].endswith(CHECK_READS)),
        "pushed": sum(1 for e in creates if e["status"] == 201),
    }


def _recorded(run: SyncRun) -> dict:
    """The same figures as the run record holds them."""
    return {
        "psa_calls": run.psa_calls,
        "writes": run.writes,
        "lookups": run.lookups,
        "catalog_calls": run.catalog_calls,
        "check_calls": run.check_calls,
        "pushed": (run.counts or {}).get("pushed", 0),
    }


def _naive(value: dt.datetime) -> dt.datetime:
    """Comparable across SQLite (naive) and PostgreSQL (aware)."""
    return value.replace(tzinfo=None)


def _assert_abandoned(run: SyncRun, expected: dict) -> None:
    """Abandoned, with the figures of its last heartbeat, ending at it."""
    assert run.status == "abandoned", run.status
    assert _recorded(run) == expected
    assert run.heartbeat_at is not None and _naive(run.finished_at) == _naive(run.heartbeat_at)
    assert "heartbeat" in run.error


def _settled(partner_id: int, total: int) -> bool:
    """Every row pushed and the latest run over."""
    runs = _runs(partner_id)
    return _counts(partner_id) == {"pushed": total} and runs[-1].status != "running"


def test_killed_work_horse_mid_delivery(crash_env, cw_live, worker, forget_killed_workers):
    app = crash_env
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    without_approval(actor, partner_id)
    total = len(expected_transactions(customers))
    cw_live.set_faults([HOLD_CREATES])
    proc = worker(queues="sync", scheduler=False)  # its only child is then the work horse
    since = cw_live.requests()[-1]["seq"] if cw_live.requests() else 0
    client, headers = session_client(app)
    assert client.post("/api/v1/psa_sync/run", headers=headers).status_code == 202  # Sync now
    for _batch in range(2):
        cw_live.wait_held(2)
        cw_live.release(2)
    cw_live.wait_held(2)  # the third batch's creates are in flight: its claim was the last heartbeat
    done = cw_live.requests(since)
    (horse,) = _children(proc.proc.pid)
    os.kill(horse, signal.SIGKILL)
    cw_live.clear_faults()  # the held creates land in ConnectWise; their rows stay ``sending``
    assert _wait(lambda: len(cw_live.requests(since)) == len(done) + 2, 30)
    (run,) = _runs(partner_id)
    assert run.status == "running" and _counts(partner_id).get("sending") == 2

    with time_machine.travel(clock.now() + dt.timedelta(seconds=LEASE + 5), tick=True):
        ScheduleTickCommand().run()  # the scheduler's tick, the lease now expired
    _assert_abandoned(_runs(partner_id)[0], _figures(done))
    assert [(e.run_id, e.status) for e in alerts.SENT] == [(run.id, "abandoned")]

    assert _wait(lambda: _settled(partner_id, total), 120), _counts(partner_id)  # the worker lived on
    abandoned, resumed = _runs(partner_id)
    assert resumed.status == "succeeded" and resumed.requested_by == "pilot.admin"
    assert resumed.counts["recovered"] == 2 and resumed.lookups == 2  # the two in flight, read first
    assert abandoned.counts["pushed"] + resumed.counts["pushed"] == total
    _settled_check(cw_live, partner_id, customers)
    ScheduleTickCommand().run()
    assert len(alerts.SENT) == 1 and len(_runs(partner_id)) == 2  # once
    history = client.get("/api/v1/psa_sync/runs").get_json()
    shown = next(r for r in history["result"] if r["id"] == run.id)
    assert shown["status"] == "abandoned" and shown["psa_calls"] == run.psa_calls > 0 and shown["alert"]
    listed = CliRunner().invoke(psa_cli, ["sync", "runs", "--partner", str(partner_id), "--as", "pilot.viewer"])
    line = next(line for line in listed.output.splitlines() if line.startswith(f"#{run.id} "))
    assert "abandoned" in line and f"calls {run.psa_calls} (writes {run.writes}," in line, line
    proc.stop()


def test_killed_worker_in_the_catalog_step_resumes_the_approved_preview(
    crash_env, cw_live, worker, monkeypatch, forget_killed_workers
):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    total = len(expected_transactions(customers))
    preview_id = PreparePreviewCommand(actor, partner_id).run()  # approval is required before a first push
    assert preview_id
    cw_live.set_faults([HOLD_CATALOG_CREATES])
    since = cw_live.requests()[-1]["seq"] if cw_live.requests() else 0
    ApprovePreviewCommand(actor, preview_id, partner_id).run()
    proc = worker(queues="sync", scheduler=False)
    cw_live.wait_held(1)
    cw_live.release(1)  # the first product's item is created and recorded: the run's last heartbeat
    cw_live.wait_held(1)  # the second product's create is in flight
    done = cw_live.requests(since)
    assert _kill_with_horse(proc) == 1  # the worker and its work horse (which has a session of its own)
    cw_live.clear_faults()
    first_create = next(i for i, e in enumerate(done) if e["method"] == "POST" and e["path"].endswith("/catalog"))
    expected = {**_figures(done[: first_create + 1]), "writes": 0}  # the catalog's creates are catalog calls
    (run,) = _runs(partner_id)
    assert run.status == "running" and expected["catalog_calls"] + expected["check_calls"] == expected["psa_calls"] > 0

    later = clock.now() + dt.timedelta(seconds=LEASE + 5)
    monkeypatch.setenv(ANCHOR, f"{later.isoformat()}@{real_time()!r}")
    proc = worker(queues="sync", scheduler=False)  # its start finds the expired lease
    assert _wait(lambda: _runs(partner_id)[0].status == "abandoned", 60)
    _assert_abandoned(_runs(partner_id)[0], expected)
    assert _wait(lambda: _settled(partner_id, total), 120), _counts(partner_id)
    with time_machine.travel(later, tick=True):
        ScheduleTickCommand().run()  # nothing left to do
    assert [v.decode() for v in redis_connection().lrange(alerts.redis_key(), 0, -1)] == [f"{run.id}:abandoned"]
    assert alerts.SENT == []
    abandoned, resumed = _runs(partner_id)
    assert resumed.status == "succeeded" and resumed.counts["pushed"] == total
    preview = session().get(SyncPreview, preview_id)
    assert preview.status == "approved" and preview.run_id == resumed.id and preview.job_id == resumed.job_id
    _settled_check(cw_live, partner_id, customers)
    identifiers = [item["identifier"] for item in cw_live.state("catalog")]
    assert len(identifiers) == len(set(identifiers))  # the item whose create was in flight was adopted
    proc.stop()


@pytest.fixture
def forget_killed_workers(app):
    """Unregister this test's SIGKILLed workers (see ``test_push_faults``)."""
    yield
    from rq import Worker

    with app.app_context():
        from msphub_psa.jobqueue import queue_name

        ours = {queue_name("fast"), queue_name("sync")}
        for rq_worker in Worker.all(connection=redis_connection()):
            if ours & set(rq_worker.queue_names()):
                try:
                    os.kill(rq_worker.pid, 0)
                except ProcessLookupError:
                    rq_worker.register_death()
