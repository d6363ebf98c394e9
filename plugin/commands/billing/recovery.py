"""Resuming what dead workers left.

A killed worker's push is not re-run by RQ, and a killed work horse (an out-of-memory kill) leaves its run
``running`` while the worker lives on. The scheduler's tick and a sync worker's start therefore look for runs still
``running`` whose lease has expired: each is marked ``abandoned`` (compare-and-set, once) with the counts and calls
of its last heartbeat and ending at it, its alert is handed over, and the partner's push is enqueued again the way
*Sync now* does: an approved preview's push pushes that preview again; otherwise a push, or a preview awaiting
approval when the partner's pushes need approval now. A sync worker's start also enqueues the push of every other
partner whose rows were left in ``sending`` or ``removing`` (any later push recovers them too), but not while the
partner's run still holds a live lease: a plain push taking it over would ignore an approved preview's choice, so
that run is left to the tick, which resumes it as it was asked once its lease has expired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.alerts import notify_run_alert
from msphub_psa.commands.billing.preview import PreparePreviewCommand
from msphub_psa.commands.billing.settings import approval_required
from msphub_psa.commands.directory import system_actor
from msphub_psa.daos.control import SyncPreviewDAO
from msphub_psa.daos.outbox import SyncLeaseDAO, SyncRunDAO
from msphub_psa.jobqueue import QueueUnavailable, enqueue_push

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resumed:
    """An abandoned run and what was started in its place: ``push``, ``preview push`` or ``preview``."""

    run_id: int
    partner_id: int
    started: str


class ResumeAbandonedRunsCommand:
    """Mark runs whose lease expired while ``running`` as abandoned, alert, and enqueue their push again."""

    def run(self) -> list[Resumed]:
        """What was resumed (a run whose push cannot be enqueued now stays ``running``: the next tick retries)."""
        resumed = []
        for run_id in _expired_runs():
            try:
                done = _abandon_and_resume(run_id)
            except QueueUnavailable:
                log.warning("abandoned run %s not resumed: the job queue does not answer", run_id)
                break
            if done is None:
                continue  # another tick or worker took it
            notify_run_alert(run_id)
            if done.started == "preview":
                _prepare_preview(done.partner_id)
            log.info("run %s abandoned (lease expired); partner %s: %s", run_id, done.partner_id, done.started)
            resumed.append(done)
        return resumed


def _prepare_preview(partner_id: int) -> None:
    """A preview awaiting approval in place of an abandoned push that needs approval now (failures logged)."""
    try:
        PreparePreviewCommand(system_actor(partner_id), partner_id).run()
    except Exception:  # noqa: BLE001 - the tick goes on for the other partners; the run's alert is out already
        log.exception("partner %s: the preview replacing an abandoned push could not be prepared", partner_id)


@transaction
def _expired_runs() -> list[int]:
    """Runs still ``running`` whose lease expired (own short transaction)."""
    return SyncLeaseDAO.expired_runs()


@transaction
def _abandon_and_resume(run_id: int) -> Resumed | None:
    """Mark the run abandoned and free its expired lease, then enqueue its push before committing (a queue that
    does not answer rolls both back); None when the run was no longer running.

    :raises QueueUnavailable: Redis does not answer.
    """
    run = SyncRunDAO.get(run_id)
    if run is None or not SyncRunDAO.abandon(run_id):
        return None
    SyncLeaseDAO.expire(run.partner_id, run_id)
    preview = SyncPreviewDAO.approved_for_job(run.partner_id, run.job_id)
    if preview is not None:
        job, _created = enqueue_push(run.partner_id, run.requested_by, preview_id=preview.id)
        SyncPreviewDAO.set_job(preview.id, job.id)
        return Resumed(run_id, run.partner_id, "preview push")
    if approval_required(run.partner_id):
        return Resumed(run_id, run.partner_id, "preview")
    enqueue_push(run.partner_id, run.requested_by)
    return Resumed(run_id, run.partner_id, "push")


class ResumeStalePushesCommand:
    """A sync worker's start: resume the abandoned runs, then enqueue a push for every other partner with rows
    left in ``sending`` or ``removing``."""

    def run(self) -> list[int]:
        """Resume the abandoned runs first; then the partners whose push was enqueued here (none when the queue
        does not answer: logged)."""
        resumed = {done.partner_id for done in ResumeAbandonedRunsCommand().run()}
        partners = [p for p in _stale_partners() if p not in resumed]
        try:
            for partner_id in partners:
                enqueue_push(partner_id, "system")
        except QueueUnavailable:
            log.warning("stale pushes of partners %s not resumed: the job queue does not answer", partners)
            return []
        return partners


@transaction
def _stale_partners() -> list[int]:
    """Partners with rows in ``sending`` or ``removing`` and no run under a live lease (own short transaction)."""
    return SyncLeaseDAO.partners_with_stale_sending()
