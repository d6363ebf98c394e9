"""Exactly once under faults: real Redis, real worker processes killed with SIGKILL, the sandbox over HTTP.

10 % 429s (Retry-After 1), 5 % timeout-500s, commit-then-drop on creates, small latency; the worker
(and its work horse) is killed mid-run several times and restarted. The settled ConnectWise state
holds every eligible transaction exactly once, with MSP Hub's amounts and dates.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.jobqueue import enqueue_push
from msphub_psa.models.sync import SyncItem, SyncRun
from tests.integration.push.test_push_basic import _settled_check
from tests.support.push import add_history, expected_transactions, push_setup
from tests.support.settings import configure

TOTAL = 120
FAULTS = [
    {"kind": "latency", "ms": 15},
    {"kind": "429", "rate": 0.10, "retry_after": 1},
    {"kind": "500", "rate": 0.05},
    {"kind": "drop", "rate": 0.10, "methods": ["POST"]},
]


def _children(pid: int) -> list[int]:
    """Direct children of a process (the RQ work horse of a worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _kill_with_horse(proc) -> int:
    """SIGKILL the worker's work horse(s), then the worker; return how many horses died."""
    horses = _children(proc.proc.pid)
    for pid in horses:
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    return len(horses)


def _counts(partner_id: int) -> dict[str, int]:
    """Outbox rows per state (fresh read)."""
    session().rollback()
    rows = (
        session()
        .execute(select(SyncItem.state, func.count()).where(SyncItem.partner_id == partner_id).group_by(SyncItem.state))
        .all()
    )
    return dict(rows)


def _wait(predicate, timeout: float, step: float = 0.1) -> bool:
    """Poll until ``predicate()`` or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_exactly_once_under_faults_and_sigkill(ctx, cw_live, worker, monkeypatch, forget_killed_workers):
    monkeypatch.setenv("PSA_PUSH_LEASE_SECONDS", "3")
    monkeypatch.setenv("PSA_CW_REQUESTS_PER_MINUTE", "0")
    configure(ctx, PSA_PUSH_LEASE_SECONDS=3)
    partner_id, _actor, customers = push_setup(cw_live, customers=4)
    add_history(partner_id, customers, TOTAL)
    total = len(expected_transactions(customers))  # TOTAL or more, as the pinned day's demo data gives
    cw_live.set_faults(FAULTS, seed=7)

    kills = 0
    for _ in range(3):
        proc = worker(queues="sync")
        goal = _counts(partner_id).get("pushed", 0) + 15
        enqueue_push(partner_id, "test")
        assert _wait(lambda goal=goal: _counts(partner_id).get("pushed", 0) >= goal, 60), _counts(partner_id)
        kills += _kill_with_horse(proc)
    assert kills >= 3
    assert _counts(partner_id).get("pushed", 0) < total  # the kills did land mid-run

    proc = worker(queues="sync")  # its start enqueues the recovery of the rows left in sending
    settled = lambda: (
        _counts(partner_id).get("pushed", 0) + _counts(partner_id).get("failed", 0) >= total
        and not _counts(partner_id).get("sending")
    )
    for _ in range(12):
        if _wait(settled, 10):
            break
        enqueue_push(partner_id, "test")  # a run stopped by ConnectWise trouble is simply run again
    counts = _counts(partner_id)
    assert counts == {"pushed": total}, counts

    cw_live.clear_faults()
    _settled_check(cw_live, partner_id, customers)
    runs = session().scalars(select(SyncRun).where(SyncRun.partner_id == partner_id).order_by(SyncRun.id)).all()
    assert any(r.status == "abandoned" for r in runs)
    proc.stop()


@pytest.fixture
def forget_killed_workers(ctx):
    """After the test, unregister this session's SIGKILLed workers (their Redis keys would otherwise
    live on for minutes and count as live workers, e.g. for the health endpoint)."""
    yield
    from rq import Worker

    from msphub_psa.jobqueue import queue_name, redis_connection

    ours = {queue_name("fast"), queue_name("sync")}
    for rq_worker in Worker.all(connection=redis_connection()):
        if ours & set(rq_worker.queue_names()):
            try:
                os.kill(rq_worker.pid, 0)
            except ProcessLookupError:
                rq_worker.register_death()
