"""A worker's own process holds no database connection while it serves the queues: its connections are its work
horse's only (docs/operations.md, *Database connections*)."""

from __future__ import annotations

from sqlalchemy import text

from msphub_psa.worker import make_worker


def test_the_worker_process_closes_its_pooled_connections_before_serving(app, empty_sync_queues):
    with app.app_context():
        session = app.appbuilder.session
        session.execute(text("SELECT 1"))
        session.commit()  # the start-up checks' connection goes back to the pool, open
        engine = session.get_bind()
        assert engine.pool.checkedin() >= 1
    worker = make_worker(app, ["sync"], name=None)
    worker.work(burst=True)  # nothing queued: it starts, finds no job and ends
    with app.app_context():
        pool = app.appbuilder.session.get_bind().pool
        assert pool.checkedin() == 0 and pool.checkedout() == 0
