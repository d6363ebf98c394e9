"""The processes that run jobs: an RQ worker whose work horses run inside the Flask app, and RQ's cron scheduler
enqueuing the sync schedule's tick every minute."""

from __future__ import annotations

import gc
import signal

from flask import Flask
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.job import Job

from msphub_psa.jobqueue import (
    FAST,
    SYNC_LATER,
    enter_work_horse,
    get_queue,
    lower_priority,
    queue_name,
    redis_connection,
    serving,
    tick_name,
)
from msphub_psa.logs import log_context
from msphub_psa.tasks import schedule_tick


class AppWorker(Worker):
    """An RQ worker whose work horses run inside the Flask app context.

    After the fork the child gets fresh database connections (pooled connections must not cross a fork) and
    removes its session at the end.
    """

    flask_app: Flask | None = None
    background_queue: str = ""
    """The ``sync-later`` queue's name: its jobs run at a lower CPU priority (``lower_priority``)."""
    pubsub_poll_seconds = 1.0
    """How long the command listener's thread waits for a message at a time. RQ waits 60 s, and redis-py stops
    that thread by waiting for its wait to end (``PubSubWorkerThread.stop``): an idle worker took up to a minute to
    stop on SIGTERM."""

    def subscribe(self) -> None:
        """Listen for RQ's commands (stop a job, shut down) on this worker's channel, polling every second."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.pubsub_poll_seconds, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def work(self, *args, **kwargs) -> bool:
        """Serve the queues. The worker's own process closes its database connections first (its start-up checks
        used one): while it waits and forks it holds none, so a worker's connections are its work horse's only
        (docs/operations.md, *Database connections*)."""
        with self.flask_app.app_context():
            self.flask_app.appbuilder.session.remove()
            self.flask_app.appbuilder.session.get_bind().dispose()
        freeze_heap()
        return super().work(*args, **kwargs)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        """The forked work horse: a background job (from ``sync-later``) lowers its CPU priority first."""
        enter_work_horse()
        if queue.name == self.background_queue:
            lower_priority()
        super().main_work_horse(job, queue)

    def perform_job(self, job: Job, queue: Queue, execution) -> bool:
        """Run the job in an app context with a clean connection pool."""
        with self.flask_app.app_context():
            session = self.flask_app.appbuilder.session
            session.get_bind().dispose(close=False)
            try:
                with log_context(job_id=job.id, queue=queue.name, job=job.func_name):
                    return super().perform_job(job, queue, execution)
            finally:
                session.remove()


def freeze_heap() -> None:
    """Move every object alive now (the application: modules, FAB, SQLAlchemy's mappers) out of the garbage
    collector's reach. The work horses forked from here inherit it: their full collections walk only what their
    job allocated (a directory refresh of 5,000 companies ran 2 to 4 of them over ~270,000 objects, 0.3 to 0.7 s),
    and the parent's pages stay shared (a collection writes to every object it walks)."""
    gc.collect()
    gc.freeze()


WORKER_TTL = 30
"""Seconds between an idle worker's heartbeats, plus 15 (RQ's default is 420). RQ keeps a worker registered for
this plus 60 s after its last heartbeat, so a worker killed without warning stops counting in the health check
within 90 s instead of 8 minutes (docs/operations.md, *Health*). The cost: an idle worker asks Redis every 15 s."""


def make_worker(app: Flask, kinds: list[str], name: str | None = None) -> AppWorker:
    """A worker bound to ``app`` listening on the given queue kinds."""
    with app.app_context():
        queues = [get_queue(kind) for kind in serving(kinds)]
        worker = AppWorker(queues, connection=redis_connection(), name=name, worker_ttl=WORKER_TTL)
        worker.background_queue = queue_name(SYNC_LATER)
    worker.flask_app = app
    return worker


class Scheduler(CronScheduler):
    """Stops on the first SIGINT/SIGTERM and ignores the next (Ctrl+C, then the demo stopping its children)."""

    def _request_stop(self, signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        super()._request_stop(signum, frame)


def make_scheduler(app: Flask, name: str | None = None) -> Scheduler:
    """RQ's cron scheduler, enqueuing ``schedule_tick`` on the fast queue every minute."""
    with app.app_context():
        scheduler = Scheduler(connection=redis_connection(), name=name or "")
        scheduler.register(
            schedule_tick,
            queue_name(FAST),
            interval=60,
            name=tick_name(),
            job_timeout=120,
            result_ttl=600,
            failure_ttl=86400,
        )
    return scheduler
