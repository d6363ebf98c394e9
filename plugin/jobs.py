"""RQ plumbing and entry points. Jobs take ids (int/str) and call one command.

Queues: ``<prefix>-fast`` (validation, directory refresh) and ``<prefix>-sync``
(billing pushes), so a long push never delays an activation.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError
from rq.job import Job

from plugin.commands.access import require_feature
from plugin.commands.exceptions import FeatureDisabledError

log = logging.getLogger(__name__)
FAST, SYNC = "fast", "sync"


def redis_connection() -> Redis:
    """One Redis connection per app, from ``REDIS_URL``."""
    ext = current_app.extensions.setdefault("psa", {})
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(current_app.config["REDIS_URL"])
    return ext["redis"]


def queue_name(kind: str) -> str:
    """Full queue name for ``fast`` or ``sync``."""
    return f"{current_app.config['PSA_QUEUE_PREFIX']}-{kind}"


def get_queue(kind: str) -> Queue:
    """The RQ queue of this kind."""
    return Queue(queue_name(kind), connection=redis_connection())


def enqueue_unique(kind: str, func, *args: int | str, job_id: str, **options) -> tuple[Job, bool]:
    """Enqueue ``func(*args)`` once per ``job_id``; return (job, created).

    A second call while the job exists (queued, running or kept) returns the
    existing job instead of running the work twice.
    """
    try:
        job = get_queue(kind).enqueue_call(func, args=args, job_id=job_id, unique=True, **options)
        return job, True
    except DuplicateJobError:
        return Job.fetch(job_id, connection=redis_connection()), False


def partner_may_run(partner_id: int, job: str) -> bool:
    """False (and logged) when the partner's feature is off: the job must end without side effects."""
    try:
        require_feature(partner_id)
    except FeatureDisabledError:
        log.info("job=%s partner=%s skipped: ConnectWise integration disabled for the partner", job, partner_id)
        return False
    return True


class AppWorker(Worker):
    """An RQ worker whose work horses run inside the Flask app context.

    After the fork the child gets fresh database connections (pooled
    connections must not cross a fork) and removes its session at the end.
    """

    flask_app: Flask | None = None

    def perform_job(self, job: Job, queue: Queue, execution) -> bool:
        """Run the job in an app context with a clean connection pool."""
        with self.flask_app.app_context():
            session = self.flask_app.appbuilder.session
            session.get_bind().dispose(close=False)
            try:
                return super().perform_job(job, queue, execution)
            finally:
                session.remove()


def make_worker(app: Flask, kinds: list[str], name: str | None = None) -> AppWorker:
    """A worker bound to ``app`` listening on the given queue kinds."""
    with app.app_context():
        queues = [get_queue(kind) for kind in kinds]
        worker = AppWorker(queues, connection=redis_connection(), name=name)
    worker.flask_app = app
    return worker


def refresh_cw_lists(partner_id: int) -> str:
    """Job (fast queue): refresh the partner's cached ConnectWise categories, subcategories, types."""
    from plugin.commands.exceptions import IntegrationInactiveError
    from plugin.commands.rules.lists import RefreshListsCommand

    if not partner_may_run(partner_id, "refresh_cw_lists"):
        return "skipped: feature off"
    try:
        state = RefreshListsCommand(int(partner_id)).run()
    except IntegrationInactiveError:
        log.info("job=refresh_cw_lists partner=%s skipped: integration not active", partner_id)
        return "skipped: integration not active"
    return state.status
