"""The job queues, beneath the use cases: Redis, the two queues, jobs enqueued by the *name* of their body
(``msphub_psa.tasks``, which the use cases never import), job ids, job state, per-partner locks, and a running
job's progress. Errors are this module's own; the use cases turn them into messages for people.

Queues: ``<prefix>-fast`` (validation, directory and list refreshes, the schedule's tick) and ``<prefix>-sync``
(billing pushes), so a long push never delays an activation.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import current_app

from msphub_psa.settings import EXTENSION, settings

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue
    from rq.job import Job

log = logging.getLogger(__name__)
FAST, SYNC, SYNC_LATER = "fast", "sync", "sync-later"
"""Queue kinds: ``sync-later`` holds the continuations of pushes delivered in slices; a worker serving ``sync``
serves it after ``sync`` (``serving``), so every fresh push starts before any continuation."""
TASKS = "msphub_psa.tasks"
"""The module of the job bodies; a job names its body as ``msphub_psa.tasks.<function>``."""
ALIVE_STATUSES = frozenset({"queued", "started", "deferred", "scheduled"})
WAITING_STATUSES = frozenset({"queued", "deferred", "scheduled"})
ENDED_STATUSES = frozenset({"finished", "failed", "stopped", "canceled"})


BACKGROUND_NICENESS = 10
"""How far a work horse lowers its CPU priority for background work: a job from ``sync-later`` (a push's
continuation, the read-back after a push) and a push's first run once its short slice is over. Fresh pushes keep
the CPU on a saturated machine; the background gets what they leave (docs/operations.md, *Slices*)."""
_work_horse = {"in": False, "lowered": False}


def enter_work_horse() -> None:
    """Called first in a forked work horse: ``lower_priority`` acts in this process (it exits after its job)."""
    _work_horse.update({"in": True, "lowered": False})


def lower_priority() -> bool:
    """In a work horse, lower the CPU priority of each of its threads by ``BACKGROUND_NICENESS``, once (True when
    it did now). Elsewhere (an inline push, the CLI, a test's process) nothing changes."""
    if not _work_horse["in"] or _work_horse["lowered"]:
        return False
    _work_horse["lowered"] = True
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]  # Linux: a thread's niceness is its own
    except OSError:
        threads = [0]  # elsewhere the process's
    for tid in threads:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICENESS)
        except OSError:  # a thread that ended meanwhile
            continue
    return True


class QueueUnavailable(RuntimeError):
    """Redis does not answer: nothing was enqueued."""


class LockBusy(RuntimeError):
    """Another process holds the lock longer than we wait."""


def redis_connection() -> Redis:
    """One Redis connection per app, from ``REDIS_URL``."""
    from redis import Redis

    ext = current_app.extensions.setdefault(EXTENSION, {})
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(settings().redis_url)
    return ext["redis"]


def _redis_errors() -> tuple[type[BaseException], ...]:
    """The errors of a Redis that does not answer."""
    from redis.exceptions import RedisError

    return (RedisError, OSError)


def queue_name(kind: str) -> str:
    """Full queue name for ``fast`` or ``sync``."""
    return f"{settings().queue_prefix}-{kind}"


def serving(kinds: list[str]) -> list[str]:
    """The queue kinds a worker asked for ``kinds`` serves, in priority order: ``sync`` brings ``sync-later``
    right after it."""
    out: list[str] = []
    for kind in kinds:
        out += [k for k in ((kind, SYNC_LATER) if kind == SYNC else (kind,)) if k not in out]
    return out


def get_queue(kind: str) -> Queue:
    """The RQ queue of this kind."""
    from rq import Queue

    return Queue(queue_name(kind), connection=redis_connection())


def fetch_job(job_id: str) -> Job | None:
    """A job by id, or None when Redis no longer knows it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None


def enqueue_unique(kind: str, task: str, *args: int | str, job_id: str, **options: Any) -> tuple[Job, bool]:
    """Enqueue ``msphub_psa.tasks.<task>(*args)`` (or the function at a dotted path) once per ``job_id``; return
    (job, created). A second call while the job exists (queued, running or kept) returns the existing job.

    :raises QueueUnavailable: Redis does not answer.
    """
    from rq.exceptions import DuplicateJobError

    try:
        try:
            func = task if "." in task else f"{TASKS}.{task}"
            return get_queue(kind).enqueue_call(func, args=args, job_id=job_id, unique=True, **options), True
        except DuplicateJobError:
            return fetch_job(job_id), False
    except _redis_errors() as exc:
        raise QueueUnavailable(str(exc)) from exc


def enqueue_once(kind: str, task: str, *args: int | str, job_id: str, **options: Any) -> tuple[Job, bool]:
    """Like :func:`enqueue_unique`, but a kept job that has ended (e.g. failed) never blocks a new one.

    :raises QueueUnavailable: Redis does not answer.
    """
    job, created = enqueue_unique(kind, task, *args, job_id=job_id, **options)
    if not created and (job is None or job.get_status(refresh=True) in ENDED_STATUSES):
        if job is not None:
            job.delete()
        job, created = enqueue_unique(kind, task, *args, job_id=job_id, **options)
    return job, created


def jobs_waiting(kind: str, besides_push_of: int | None = None) -> int:
    """How many jobs wait in the queue of this kind (not those running); with ``besides_push_of``, leaving out
    that partner's own push waiting there.

    :raises QueueUnavailable: Redis does not answer.
    """
    try:
        count = get_queue(kind).count
        if count and besides_push_of is not None:
            own = _waiting_job(besides_push_of)
            count -= own is not None and own.origin == queue_name(kind)
        return count
    except _redis_errors() as exc:
        raise QueueUnavailable(str(exc)) from exc


def job_alive(job_id: str | None) -> bool:
    """True while the job exists and has not ended; True as well when Redis does not answer (its fate is
    unknown: a page keeps showing it rather than failing it)."""
    if not job_id:
        return False
    try:
        job = fetch_job(job_id)
        return job is not None and job.get_status(refresh=False) in ALIVE_STATUSES
    except _redis_errors():
        log.warning("job %s: Redis does not answer; its status is unknown", job_id)
        return True


def current_job_id() -> str | None:
    """The id of the RQ job this code runs in, if any."""
    from rq import get_current_job

    job = get_current_job()
    return job.id if job else None


def publish_job_progress(values: dict) -> None:
    """Put progress in the current RQ job's meta (``job.meta["progress"]``); nothing outside a worker."""
    from rq import get_current_job

    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = values
    try:
        job.save_meta()
    except _redis_errors():
        log.warning("job %s: Redis does not answer; progress not published", job.id)


@contextmanager
def partner_lock(name: str, partner_id: int, timeout: float = 30, wait: float = 10) -> Iterator[None]:
    """Serialise one kind of write per partner across processes (a Redis lock).

    :raises QueueUnavailable: Redis does not answer.
    :raises LockBusy: another process held the lock for longer than ``wait`` seconds.
    """
    from redis.exceptions import LockError

    key = f"{settings().queue_prefix}:lock:{name}:{partner_id}"
    try:
        lock = redis_connection().lock(key, timeout=timeout, blocking_timeout=wait)
        acquired = lock.acquire()
    except _redis_errors() as exc:
        raise QueueUnavailable(str(exc)) from exc
    if not acquired:
        raise LockBusy(key)
    try:
        yield
    finally:
        try:
            lock.release()
        except (*_redis_errors(), LockError):
            log.warning("lock %s expired before release", key)


# -- the jobs, by business key ------------------------------------------------------------------------------


def validation_job_id(integration_id: int) -> str:
    """A new id for one validation attempt: queue prefix, integration id and a nonce per save (ids stay distinct
    across databases sharing one Redis; a repeated save of the same values reuses the stored id)."""
    return f"{settings().queue_prefix}-validate-integration-{integration_id}-{uuid.uuid4().hex[:12]}"


def enqueue_validation(integration_id: int, job_id: str) -> Job:
    """``validate_integration(integration_id)`` once under ``job_id`` on the fast queue.

    :raises QueueUnavailable: Redis does not answer.
    """
    job, _created = enqueue_unique(
        FAST, "validate_integration", integration_id, job_id=job_id, timeout=120, result_ttl=600, failure_ttl=86400
    )
    return job


def enqueue_directory_refresh(partner_id: int, username: str, full: bool) -> tuple[Job, bool]:
    """The partner's directory refresh, once at a time (a finished or failed one never blocks the next).

    :raises QueueUnavailable: Redis does not answer.
    """
    return enqueue_once(
        FAST,
        "refresh_directory",
        partner_id,
        username,
        int(full),
        job_id=f"{settings().queue_prefix}-directory-{partner_id}",
        result_ttl=0,
        failure_ttl=3600,
    )


def enqueue_list_refresh(partner_id: int) -> tuple[Job, bool]:
    """The partner's PSA lists refresh, once at a time.

    :raises QueueUnavailable: Redis does not answer.
    """
    return enqueue_once(
        FAST,
        "refresh_cw_lists",
        partner_id,
        job_id=f"{settings().queue_prefix}-cw-lists-{partner_id}",
        result_ttl=0,
        failure_ttl=3600,
    )


def push_job_id(partner_id: int) -> str:
    """The push job's business key: one per partner (the queue prefix keeps databases apart)."""
    return f"{settings().queue_prefix}-push-{int(partner_id)}"


def _waiting_pointer(partner_id: int) -> str:
    """The Redis key naming the partner's push job still waiting in the queue."""
    return f"{settings().queue_prefix}:waiting:{push_job_id(partner_id)}"


def enqueue_push(
    partner_id: int, requested_by: str = "system", preview_id: int = 0, continues: int | None = None
) -> tuple[Job, bool]:
    """``push_billing(partner_id)``; a push still *waiting* in the queue is joined instead.

    With ``continues`` (a run whose slice is over) the job is that run's continuation, queued on ``sync-later``:
    behind every fresh job of the sync queue and the continuations queued before it (a push of the partner
    already waiting is joined: it delivers the same rows).

    With ``preview_id`` the job pushes that approved preview's transactions only; such a job is never joined
    (each approval is enqueued once, by its compare-and-set). The job id is the business key plus a nonce, and
    the key points at the waiting job: RQ never re-runs a job whose worker was SIGKILLed and keeps calling it
    "started", so a fixed id would block every later push. Exclusivity is the lease's job (one run per
    partner); a new job that finds a live run waits up to one lease period, then ends ``busy``.

    :raises QueueUnavailable: Redis does not answer.
    """
    args = (int(partner_id), requested_by) + ((int(preview_id),) if preview_id or continues else ())
    args += (int(continues),) if continues else ()
    try:
        waiting = None if preview_id else _waiting_job(partner_id)
        if waiting is not None:
            return waiting, False
        suffix = f"-p{int(preview_id)}" if preview_id else ""
        job, created = enqueue_unique(
            SYNC_LATER if continues else SYNC,
            "push_billing",
            *args,
            job_id=f"{push_job_id(partner_id)}{suffix}-{uuid.uuid4().hex[:12]}",
            timeout=settings().push_job_timeout,
            result_ttl=3600,
            failure_ttl=86400,
        )
        if not preview_id:
            redis_connection().set(_waiting_pointer(partner_id), job.id, ex=86400)
    except _redis_errors() as exc:
        raise QueueUnavailable(str(exc)) from exc
    return job, created


def enqueue_readback(partner_id: int, requested_by: str = "system", later: bool = False) -> tuple[Job, bool]:
    """``assurance_readback(partner_id)`` on the sync queue (``later``: on ``sync-later``, behind every fresh push:
    the read-back after a push), once at a time per partner (a finished or failed one never blocks the next).

    :raises QueueUnavailable: Redis does not answer.
    """
    return enqueue_once(
        SYNC_LATER if later else SYNC,
        "assurance_readback",
        int(partner_id),
        requested_by,
        job_id=f"{settings().queue_prefix}-assurance-{int(partner_id)}",
        timeout=settings().push_job_timeout,
        result_ttl=3600,
        failure_ttl=86400,
    )


def _waiting_job(partner_id: int) -> Job | None:
    """The partner's push job still waiting in the queue, or None."""
    job_id = redis_connection().get(_waiting_pointer(partner_id))
    job = fetch_job(job_id.decode()) if job_id else None
    return job if job is not None and job.get_status(refresh=True) in WAITING_STATUSES else None


def push_waiting(partner_id: int) -> bool:
    """True while a push of the partner waits in the queue; False when Redis does not answer."""
    try:
        return _waiting_job(partner_id) is not None
    except _redis_errors():
        return False


def scheduled_job_id(partner_id: int, slot: dt.datetime) -> str:
    """The scheduled run's business key: the partner and the slot (a slot runs once)."""
    return f"{settings().queue_prefix}-scheduled-{int(partner_id)}-{slot:%Y%m%dT%H%MZ}"


def enqueue_scheduled(partner_id: int, slot: dt.datetime) -> Job:
    """``scheduled_sync(partner_id, slot)`` once per partner and slot.

    :raises QueueUnavailable: Redis does not answer.
    """
    job, _created = enqueue_unique(
        SYNC,
        "scheduled_sync",
        int(partner_id),
        slot.isoformat(),
        job_id=scheduled_job_id(partner_id, slot),
        timeout=settings().push_job_timeout,
        result_ttl=86400,
        failure_ttl=86400,
    )
    return job


def tick_name() -> str:
    """The cron job's name in RQ (per queue prefix, so deployments sharing a Redis stay apart)."""
    return f"{settings().queue_prefix}-schedule-tick"


def queue_state() -> tuple[dict[str, int], int]:
    """({queue name: jobs waiting}, live workers serving our queues).

    :raises QueueUnavailable: Redis does not answer.
    """
    from rq import Worker

    try:
        queues = [get_queue(kind) for kind in (FAST, SYNC, SYNC_LATER)]
        redis_connection().ping()
        names = {q.name for q in queues}
        workers = sum(1 for w in Worker.all(connection=redis_connection()) if names & set(w.queue_names()))
        return {q.name: len(q) for q in queues}, workers
    except _redis_errors() as exc:
        raise QueueUnavailable(type(exc).__name__) from exc
