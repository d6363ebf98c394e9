"""A worker's own process holds no database connection while it serves the queues: its connections are its work
horse's only (docs/operations.md, *Database connections*); it freezes its heap before forking work horses; a sync
worker serves the continuations' queue after the sync queue, and runs its jobs at a lower CPU priority."""

from __future__ import annotations

import gc
import os

from sqlalchemy import text

from msphub_psa.jobqueue import BACKGROUND_NICENESS, SYNC, SYNC_LATER, get_queue, lower_priority, queue_name
from msphub_psa.worker import make_worker


def test_the_worker_process_closes_its_pooled_connections_before_serving(app, empty_sync_queues):
    with app.app_context():
        session = app.appbuilder.session
        session.execute(text("SELECT 1"))
        session.commit()  # the start-up checks' connection goes back to the pool, open
        engine = session.get_bind()
        assert engine.pool.checkedin() >= 1
    worker = make_worker(app, ["sync"], name=None)
    with app.app_context():
        assert worker.queue_names() == [queue_name("sync"), queue_name("sync-later")]
    try:
        worker.work(burst=True)  # nothing queued: it starts, finds no job and ends
        assert gc.get_freeze_count() > 0  # what the work horses inherit is out of the collector's reach
    finally:
        gc.unfreeze()
    with app.app_context():
        pool = app.appbuilder.session.get_bind().pool
        assert pool.checkedin() == 0 and pool.checkedout() == 0


def test_a_background_job_runs_at_a_lower_cpu_priority_and_a_fresh_one_does_not(app, empty_sync_queues):
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with app.app_context():
        fresh = get_queue(SYNC).enqueue(os.getpriority, os.PRIO_PROCESS, 0)
        background = get_queue(SYNC_LATER).enqueue(os.getpriority, os.PRIO_PROCESS, 0)
    worker = make_worker(app, ["sync"], name=None)
    try:
        worker.work(burst=True)  # each job in a forked work horse
    finally:
        gc.unfreeze()
    with app.app_context():
        fresh.refresh(), background.refresh()
        assert (fresh.get_status(), background.get_status()) == ("finished", "finished")
        assert fresh.return_value() == base
        assert background.return_value() == min(19, base + BACKGROUND_NICENESS)
    assert not lower_priority() and os.getpriority(os.PRIO_PROCESS, 0) == base  # not in a work horse: unchanged
