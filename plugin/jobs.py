"""RQ plumbing and entry points. Jobs take ids (int/str) and call one command.

Queues: ``<prefix>-fast`` (validation, directory refresh) and ``<prefix>-sync``
(billing pushes), so a long push never delays an activation.
"""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import LockError, RedisError
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job

from msphub_psa.settings import settings
from msphub_psa.commands.access import require_feature
from msphub_psa.commands.exceptions import ConflictError, FeatureDisabledError, UnavailableError
from msphub_psa.logs import log_context

log = logging.getLogger(__name__)
FAST, SYNC = "fast", "sync"


def redis_connection() -> Redis:
    """One Redis connection per app, from ``REDIS_URL``."""
    ext = current_app.extensions.setdefault("msphub_psa", {})
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(settings().redis_url)
    return ext["redis"]


def queue_name(kind: str) -> str:
    """Full queue name for ``fast`` or ``sync``."""
    return f"{settings().queue_prefix}-{kind}"


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
                with log_context(job_id=job.id, queue=queue.name, job=job.func_name):
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


# -- ConnectWise integration card (validation, guards, locks) -------------------------------------

ALIVE_STATUSES = frozenset({"queued", "started", "deferred", "scheduled"})


def job_alive(job_id: str | None) -> bool:
    """True while the job exists and has not ended (queued, running, deferred or scheduled).

    When Redis does not answer the job's fate is unknown: it counts as alive (the card keeps
    showing the validation rather than failing it).
    """
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=redis_connection())
        return job.get_status(refresh=False) in ALIVE_STATUSES
    except NoSuchJobError:
        return False
    except RedisError:
        log.warning("job %s: Redis does not answer; its status is unknown", job_id)
        return True


def validation_job_id(integration_id: int) -> str:
    """A new id for one validation attempt: queue prefix, integration id and a nonce per save.

    The nonce keeps ids distinct across databases sharing one Redis (tests, staging); one
    attempt is enqueued once (``unique=True``) and a repeated save of the same values while it
    runs reuses the stored id, so a double click or two tabs give one job.
    """
    return f"{settings().queue_prefix}-validate-integration-{integration_id}-{uuid.uuid4().hex[:12]}"


def enqueue_validation(integration_id: int, job_id: str) -> Job:
    """Enqueue ``validate_integration(integration_id)`` once under ``job_id`` on the fast queue.

    :raises UnavailableError: when Redis does not answer.
    """
    try:
        job, _created = enqueue_unique(FAST, validate_integration, integration_id, job_id=job_id,
                                       timeout=120, result_ttl=600, failure_ttl=86400)
    except RedisError as exc:
        raise UnavailableError("The job queue does not answer; the validation could not be started.") from exc
    return job


@contextmanager
def partner_lock(name: str, partner_id: int, timeout: float = 30, wait: float = 10) -> Iterator[None]:
    """Serialise one kind of write per partner across processes (a Redis lock).

    :raises UnavailableError: Redis does not answer.
    :raises ConflictError: another request held the lock for longer than ``wait`` seconds.
    """
    key = f"{settings().queue_prefix}:lock:{name}:{partner_id}"
    try:
        lock = redis_connection().lock(key, timeout=timeout, blocking_timeout=wait)
        acquired = lock.acquire()
    except RedisError as exc:
        raise UnavailableError("The job queue does not answer; nothing was saved. Try again later.") from exc
    if not acquired:
        raise ConflictError("Another change of this integration is in progress; try again.")
    try:
        yield
    finally:
        try:
            lock.release()
        except (RedisError, LockError):
            log.warning("lock %s expired before release", key)


def connectwise_guard(partner_id: int, job_id: str | None = None):
    """A callable that raises ``IntegrationStoppedError`` unless the partner may still call ConnectWise.

    Call it before each ConnectWise write (or pass it as ``throttle=`` to ``client_for`` so it
    runs before every request). It re-reads the integration in its own short transaction, so a
    deactivation committed by another process stops a queued or running job at its next call.
    With ``job_id`` it also requires that this validation attempt is still the current one.
    """
    from msphub_psa.commands.integration import IntegrationGuard

    return IntegrationGuard(partner_id, job_id)


def validate_integration(integration_id: int) -> str:
    """Job: check the credentials under validation against ConnectWise and record the outcome."""
    from rq import get_current_job

    from msphub_psa.commands.integration import ValidateIntegrationCommand

    job = get_current_job()
    return ValidateIntegrationCommand(integration_id, job.id if job else None).run()
def partner_logged(func):
    """Decorate a job whose first argument is the partner id: its log records carry ``partner_id``."""

    @functools.wraps(func)
    def wrapper(partner_id, *args, **kwargs):
        """Run the job with the partner id bound to its logs."""
        with log_context(partner_id=int(partner_id)):
            return func(partner_id, *args, **kwargs)

    return wrapper


@partner_logged
def refresh_directory(partner_id: int, username: str, full: int = 0) -> dict | str:
    """Job: refresh the partner's ConnectWise directory cache, progress in the job's meta.

    Acts as ``username`` (the user who asked) or as ``system``; ends without side effects
    when the feature is off or the integration is no longer active.
    """
    from rq import get_current_job

    from msphub_psa.commands.base import audit_refusal
    from msphub_psa.commands.directory import RefreshDirectoryCommand, system_actor
    from msphub_psa.commands.exceptions import CommandError
    from msphub_psa.tenancy import actor_for_user, find_user

    if not partner_may_run(partner_id, "refresh_directory"):
        return "skipped"
    user = find_user(username) if username != "system" else None
    actor = actor_for_user(user) if user is not None and user.active else system_actor(partner_id)
    job = get_current_job()

    def progress(values: dict) -> None:
        """Publish progress in the job's meta."""
        if job is not None:
            job.meta["progress"] = values
            job.save_meta()

    try:
        return RefreshDirectoryCommand(actor, partner_id, bool(full), progress).run()
    except CommandError as err:
        if err.status in (403, 404):
            audit_refusal(actor, "directory.refresh", "partner", partner_id, err.message, partner_id=partner_id)
            return "skipped"
        raise


@partner_logged
def refresh_cw_lists(partner_id: int) -> str:
    """Job (fast queue): refresh the partner's cached ConnectWise categories, subcategories, types."""
    from msphub_psa.commands.exceptions import IntegrationInactiveError
    from msphub_psa.commands.rules.lists import RefreshListsCommand

    if not partner_may_run(partner_id, "refresh_cw_lists"):
        return "skipped: feature off"
    try:
        state = RefreshListsCommand(int(partner_id)).run()
    except IntegrationInactiveError:
        log.info("job=refresh_cw_lists partner=%s skipped: integration not active", partner_id)
        return "skipped: integration not active"
    return state.status


# -- Billing push (sync queue) ----------------------------------------------------------------------


def push_job_id(partner_id: int) -> str:
    """The push job's business key: one per partner (queue prefix keeps databases apart)."""
    return f"{settings().queue_prefix}-push-{int(partner_id)}"


WAITING_STATUSES = frozenset({"queued", "deferred", "scheduled"})


def enqueue_push(partner_id: int, requested_by: str = "system", preview_id: int = 0) -> tuple[Job, bool]:
    """Enqueue ``push_billing(partner_id)``; a push still *waiting* in the queue is joined instead.

    With ``preview_id`` (sync control, issue 9) the job pushes that approved preview's transactions
    only; such a job is never joined (each approval is enqueued once, by its compare-and-set).

    The job id is the business key plus a nonce, and the key points at the waiting job: RQ never
    re-runs a job whose worker was SIGKILLed and keeps calling it "started", so a fixed id would
    block every later push. Exclusivity is the lease's job (one run per partner); a new job
    that finds a live run waits up to one lease period for it, then ends ``busy``.

    :raises UnavailableError: when Redis does not answer.
    """
    key = push_job_id(partner_id)
    pointer = f"{settings().queue_prefix}:waiting:{key}"
    args = (int(partner_id), requested_by) + ((int(preview_id),) if preview_id else ())
    try:
        waiting = None if preview_id else _waiting_job(pointer)
        if waiting is not None:
            return waiting, False
        suffix = f"-p{int(preview_id)}" if preview_id else ""
        job, created = enqueue_unique(SYNC, push_billing, *args, job_id=f"{key}{suffix}-{uuid.uuid4().hex[:12]}",
                                      timeout=settings().push_job_timeout,
                                      result_ttl=3600, failure_ttl=86400)
        if not preview_id:
            redis_connection().set(pointer, job.id, ex=86400)
    except RedisError as exc:
        raise UnavailableError("The job queue does not answer; the push could not be started.") from exc
    return job, created


def _waiting_job(pointer: str) -> Job | None:
    """The partner's push job still waiting in the queue, or None."""
    job_id = redis_connection().get(pointer)
    if not job_id:
        return None
    try:
        job = Job.fetch(job_id.decode(), connection=redis_connection())
    except NoSuchJobError:
        return None
    return job if job.get_status(refresh=True) in WAITING_STATUSES else None


def push_billing(partner_id: int, requested_by: str = "system", preview_id: int = 0) -> dict | str:
    """Job (sync queue): push the partner's eligible billing transactions to ConnectWise
    (with ``preview_id``: only the transactions chosen in that approved preview)."""
    from rq import get_current_job

    from msphub_psa.commands.push import PushBillingCommand

    if not partner_may_run(partner_id, "push_billing"):
        return "skipped: feature off"
    job = get_current_job()
    if preview_id:
        from msphub_psa.commands.preview import push_approved

        return push_approved(int(partner_id), int(preview_id), requested_by, job.id if job else None)
    return PushBillingCommand(int(partner_id), requested_by, job.id if job else None).run(wait=True).as_dict()


def enqueue_stale_pushes() -> list[int]:
    """Enqueue a push for every partner with rows left in ``sending`` (run at a worker's start)."""
    from msphub_psa.daos.base import session
    from msphub_psa.daos.outbox import SyncLeaseDAO

    partners = SyncLeaseDAO.partners_with_stale_sending()
    session().rollback()
    for partner_id in partners:
        enqueue_push(partner_id, "system")
    return partners


def publish_job_progress(values: dict) -> None:
    """Put a run's progress in the current RQ job's meta (``job.meta["progress"]``); nothing outside a worker."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = values
    try:
        job.save_meta()
    except RedisError:
        log.warning("job %s: Redis does not answer; progress not published", job.id)


def push_waiting(partner_id: int) -> bool:
    """True while a push of the partner waits in the queue (not started yet); False when Redis does not answer."""
    pointer = f"{settings().queue_prefix}:waiting:{push_job_id(partner_id)}"
    try:
        return _waiting_job(pointer) is not None
    except RedisError:
        return False
# -- Sync schedule (issue 9): a tick every minute, one run per partner and slot --------------------


def schedule_tick() -> list[str]:
    """Job (fast queue, every minute from ``flask psa scheduler``): start the partners' due runs."""
    from msphub_psa.commands.schedule import ScheduleTickCommand

    return [f"{partner_id}@{slot.isoformat()}" for partner_id, slot in ScheduleTickCommand().run()]


def scheduled_job_id(partner_id: int, slot) -> str:
    """The scheduled run's business key: the partner and the slot (a slot runs once)."""
    return f"{settings().queue_prefix}-scheduled-{int(partner_id)}-{slot:%Y%m%dT%H%MZ}"


def enqueue_scheduled(partner_id: int, slot) -> Job:
    """Enqueue ``scheduled_sync(partner_id, slot)`` once per partner and slot.

    :raises UnavailableError: when Redis does not answer.
    """
    try:
        job, _created = enqueue_unique(SYNC, scheduled_sync, int(partner_id), slot.isoformat(),
                                       job_id=scheduled_job_id(partner_id, slot),
                                       timeout=settings().push_job_timeout,
                                       result_ttl=86400, failure_ttl=86400)
    except RedisError as exc:
        raise UnavailableError("The job queue does not answer; the scheduled sync could not be started.") from exc
    return job


@partner_logged
def scheduled_sync(partner_id: int, slot: str) -> dict:
    """Job (sync queue): the partner's scheduled run: a preview awaiting approval, or the push."""
    from rq import get_current_job

    from msphub_psa.commands.schedule import ScheduledSyncCommand

    job = get_current_job()
    return ScheduledSyncCommand(int(partner_id), slot, job.id if job else None).run()


def tick_name() -> str:
    """The cron job's name in RQ (per queue prefix, so deployments sharing a Redis stay apart)."""
    return f"{settings().queue_prefix}-schedule-tick"


def make_scheduler(app: Flask, name: str | None = None):
    """RQ's cron scheduler, enqueuing ``schedule_tick`` on the fast queue every minute."""
    import signal

    from rq.cron import CronScheduler

    class Scheduler(CronScheduler):
        """Stops on the first SIGINT/SIGTERM and ignores the next (Ctrl+C, then the demo stopping its children)."""

        def _request_stop(self, signum, frame):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            super()._request_stop(signum, frame)

    with app.app_context():
        scheduler = Scheduler(connection=redis_connection(), name=name or "")
        scheduler.register(schedule_tick, queue_name(FAST), interval=60, name=tick_name(),
                           job_timeout=120, result_ttl=600, failure_ttl=86400)
    return scheduler
