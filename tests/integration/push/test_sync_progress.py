"""Progress of a billing push while it runs: on the run row, in the status API and in the RQ job's meta.

In-process: the push's ``after_item`` hook reads what other processes see (a second connection, the
REST API) after every row. With a real worker: the sandbox slows every write, the test polls the API
and the job's meta while the push runs.
"""

from __future__ import annotations

import time

import pytest
from rq.job import Job
from sqlalchemy import select

from msphub_psa.commands.billing import progress as run_progress
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.daos.base import session
from msphub_psa.jobqueue import redis_connection
from msphub_psa.models.sync import SyncRun
from tests.support.card import session_client
from tests.support.push import expected_transactions, push_setup, without_approval
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


def _committed_progress(partner_id: int):
    """The latest run's progress as another connection sees it (only what is committed)."""
    with session().get_bind().connect() as conn:
        return conn.execute(
            select(SyncRun.id, SyncRun.progress_done, SyncRun.progress_total, SyncRun.progress_failed)
            .where(SyncRun.partner_id == partner_id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        ).one()


def test_each_row_moves_the_progress_others_see(app, cw_live):
    configure(app, PSA_PUSH_PROGRESS_SECONDS=0)
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
        total = len(expected_transactions(customers))
    client, _headers = session_client(app)
    assert client.get("/api/v1/psa_sync/").get_json()["progress"] is None  # idle
    rows, api = [], []

    def after(_item_id):
        rows.append(_committed_progress(partner_id))
        api.append(client.get("/api/v1/psa_sync/progress").get_json()["progress"])

    cw_live.set_faults([REFUSE_ONE])
    with app.app_context():
        result = PushBillingCommand(partner_id, "pilot.admin", after_item=after, concurrency=1).run()
    assert result.status == "partial" and result.counts["failed"] == 1 and total > 3
    assert [r.progress_done for r in rows] == list(range(1, total + 1))
    assert {r.progress_total for r in rows} == {total}  # known before the first row
    failed = [r.progress_failed for r in rows]
    assert failed == sorted(failed) and failed[-1] == 1
    assert api == [
        {"run_id": result.run_id, "done": r.progress_done, "total": total, "failed": r.progress_failed} for r in rows
    ]
    status = client.get("/api/v1/psa_sync/").get_json()
    assert status["progress"] is None and status["queued"] is False  # ended
    assert status["runs"][0]["progress"] == {"run_id": result.run_id, "done": total, "total": total, "failed": 1}


def test_progress_rides_on_the_rows_commits_and_is_throttled(app, cw_live, monkeypatch):
    """One commit of its own per run (the total); per row (and per lease renewal) it joins that transaction; at
    most one write per PSA_PUSH_PROGRESS_SECONDS apart from the total and the final numbers."""
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
        total = len(expected_transactions(customers))
        commits, writes = [], []
        real_session, real_set = run_progress.session, run_progress.SyncRunHistoryDAO.set_progress

        class CountingSession:
            def __call__(self):
                return self

            def commit(self):
                commits.append(1)
                real_session().commit()

        monkeypatch.setattr(run_progress, "session", CountingSession())
        monkeypatch.setattr(
            run_progress.SyncRunHistoryDAO,
            "set_progress",
            staticmethod(lambda *args, **figures: (writes.append(args), real_set(*args, **figures))),
        )
        configure(app, PSA_PUSH_PROGRESS_SECONDS=0)
        PushBillingCommand(partner_id, concurrency=1).run()
        assert len(commits) == 1  # the total; each row's write (and each renewal's) rides on its transaction
        assert sorted({write[1] for write in writes}) == list(range(total + 1))  # every row's outcome was written
        assert writes[-1][1:] == (total, total, 0)  # the final numbers

        from tests.support.push import add_history

        add_history(partner_id, customers, total + 20)
        commits.clear(), writes.clear()
        configure(app, PSA_PUSH_PROGRESS_SECONDS=3600)
        run = PushBillingCommand(partner_id, concurrency=1).run()
        assert run.counts["pushed"] >= 15
        assert len(commits) == 1 and len(writes) == 2  # the total and the final numbers: rows were throttled
        assert writes[-1][1:] == (run.counts["pushed"], run.counts["pushed"], 0)


def test_worker_publishes_progress_in_the_db_and_the_jobs_meta(app, cw_live, worker, monkeypatch):
    monkeypatch.setenv("PSA_PUSH_PROGRESS_SECONDS", "0")
    monkeypatch.setenv("PSA_CW_REQUESTS_PER_MINUTE", "0")
    with app.app_context():
        partner_id, actor, customers = push_setup(cw_live, customers=2)
        without_approval(actor, partner_id)
        total = len(expected_transactions(customers))
    monkeypatch.setenv("PSA_PUSH_CONCURRENCY", "2")
    cw_live.set_faults([{"kind": "hold", "methods": ["POST"], "path": "/(additions|adjustments)$"}])
    worker(queues="sync")
    client, headers = session_client(app)
    started = client.post("/api/v1/psa_sync/run", headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]
    seen_api, seen_meta = [], []
    for done in (0, 2, 4):  # each batch of 2 held until the progress of the rows before it is seen
        cw_live.wait_held(2)
        live = client.get("/api/v1/psa_sync/progress").get_json()
        seen_api.append(live["progress"])
        seen_meta.append(Job.fetch(job_id, connection=_redis(app)).meta.get("progress"))
        assert live["progress"]["done"] == done and live["progress"]["total"] == total, live
        cw_live.release(2)
    cw_live.release(total)
    deadline = time.monotonic() + 60  # only ends a hang: the test waits for the run's end, not for a speed
    while time.monotonic() < deadline:
        live = client.get("/api/v1/psa_sync/progress").get_json()
        if live["last_run"] and live["last_run"]["status"] != "running" and not live["progress"]:
            break
        time.sleep(0.05)
    assert live["last_run"]["status"] == "succeeded", live
    assert [(p["done"], p["total"]) for p in seen_api] == [(0, total), (2, total), (4, total)]
    assert [(p["done"], p["total"]) for p in seen_meta] == [(0, total), (2, total), (4, total)]
    final = Job.fetch(job_id, connection=_redis(app)).meta.get("progress")
    assert final == {"run_id": live["last_run"]["id"], "done": total, "total": total, "failed": 0}
    assert live["last_run"]["progress"]["done"] == total


def _redis(app):
    """The app's Redis connection."""
    with app.app_context():
        return redis_connection()
