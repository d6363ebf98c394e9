"""The sync schedule: a tick (every minute) finds the partners whose slot is due and starts their run.

The tick (job ``msphub_psa.tasks.schedule_tick``, enqueued every minute by ``flask psa scheduler``) first
resumes the runs a dead worker abandoned (``recovery.ResumeAbandonedRunsCommand``), then looks only at
partners whose feature is on and whose integration is active, computes each one's due slot
(``msphub_psa.domain.schedule``), **claims** it by compare-and-set on the partner's settings row (a slot
is claimed once, whatever the number of schedulers and workers), and enqueues
``scheduled_sync(partner_id, slot)`` under a job id made of the partner and the slot.

The scheduled run re-checks the feature and the integration (off: nothing is done or written),
then prepares a preview awaiting approval when the partner's pushes need approval, else pushes.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.exc import IntegrityError

from msphub_psa import clock
from msphub_psa.commands.access import require_active_integration
from msphub_psa.commands.base import audit, transaction
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreparePreviewCommand
from msphub_psa.commands.billing.recovery import ResumeAbandonedRunsCommand
from msphub_psa.commands.billing.settings import approval_required, default_time, schedule_of
from msphub_psa.commands.directory import system_actor
from msphub_psa.commands.exceptions import CommandError
from msphub_psa.daos.base import session
from msphub_psa.daos.control import SyncSettingsDAO
from msphub_psa.domain import schedule as sched
from msphub_psa.jobqueue import QueueUnavailable, enqueue_scheduled
from msphub_psa.settings import settings

log = logging.getLogger(__name__)


def catch_up_window() -> dt.timedelta:
    """How late a slot may still fire (``PSA_SCHEDULE_CATCH_UP_MINUTES``, default 360)."""
    return dt.timedelta(minutes=settings().schedule_catch_up_minutes)


class ScheduleTickCommand:
    """One tick of the scheduler: claim each due slot once and enqueue its run."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or clock.now()

    def run(self) -> list[tuple[int, dt.datetime]]:
        """(partner id, slot) of every run this tick started; first, resume the runs abandoned by a dead worker."""
        ResumeAbandonedRunsCommand().run()
        started = []
        for partner_id, slot in self._due():
            previous = self._claim(partner_id, slot)
            if previous is False:
                continue  # another tick claimed it
            try:
                enqueue_scheduled(partner_id, slot)
            except QueueUnavailable:
                self._unclaim(partner_id, slot, previous)
                log.warning(
                    "schedule: partner=%s slot=%s not started: the job queue does not answer",
                    partner_id,
                    slot.isoformat(),
                )
                continue
            started.append((partner_id, slot))
        return started

    @transaction
    def _due(self) -> list[tuple[int, dt.datetime]]:
        """Partners (feature on, integration active) with a due slot, and that slot."""
        window, due = catch_up_window(), []
        for partner_id, tz, row, activated_at in SyncSettingsDAO.scheduled_partners():
            schedule = schedule_of(row, tz)
            since = max([t for t in (row.schedule_since if row else None, activated_at) if t is not None], default=None)
            slot = sched.due_slot(schedule, self.now, row.last_slot_at if row else None, since, window)
            if slot is not None:
                due.append((partner_id, slot))
        return due

    @transaction
    def _claim(self, partner_id: int, slot: dt.datetime):
        """Claim the slot: the previous claimed slot (None if none) when ours, False when taken."""
        row = SyncSettingsDAO.for_partner(partner_id)
        if row is None:
            try:
                with session().begin_nested():
                    row = SyncSettingsDAO.create(partner_id, schedule_time=default_time())
            except IntegrityError:  # another tick created it first
                row = SyncSettingsDAO.for_partner(partner_id)
        previous = row.last_slot_at
        return previous if SyncSettingsDAO.claim_slot(partner_id, slot) else False

    @transaction
    def _unclaim(self, partner_id: int, slot: dt.datetime, previous: dt.datetime | None) -> None:
        """Give a slot back whose run could not be enqueued (the next tick tries again)."""
        SyncSettingsDAO.release_slot(partner_id, slot, previous)


class ScheduledSyncCommand:
    """A scheduled run of one partner (the job's body): preview awaiting approval, or push."""

    def __init__(self, partner_id: int, slot: str, job_id: str | None = None):
        self.partner_id, self.slot, self.job_id = int(partner_id), slot, job_id

    def run(self) -> dict:
        """Nothing (and nothing written) when the feature or the integration is off."""
        reason = _stopped(self.partner_id)
        if reason:
            log.info("scheduled sync partner=%s slot=%s skipped: %s", self.partner_id, self.slot, reason)
            return {"status": "skipped", "reason": reason}
        actor = system_actor(self.partner_id)
        if _approval(self.partner_id, approval_required):
            preview_id = PreparePreviewCommand(actor, self.partner_id, source="schedule").run()
            return {"status": "awaiting_approval" if preview_id else "nothing to push", "preview_id": preview_id}
        config = settings()
        push = PushBillingCommand(
            self.partner_id,
            "schedule",
            self.job_id,
            slice_seconds=config.push_slice_seconds,
            short_slice_seconds=config.push_short_slice_seconds,
        )
        result = push.run(wait=True)
        _audit_run(actor, self.partner_id, self.slot, result)
        return result.as_dict()


@transaction
def _stopped(partner_id: int) -> str | None:
    """Why the partner's scheduled run must not run (feature off, integration not active), or None."""
    try:
        require_active_integration(partner_id)
    except CommandError as err:
        return err.message
    return None


@transaction
def _approval(partner_id: int, approval_required) -> bool:
    """Whether the partner's pushes need approval now (own short transaction)."""
    return approval_required(partner_id)


@transaction
def _audit_run(actor, partner_id: int, slot: str, result) -> None:
    """Audit a scheduled push."""
    audit(
        actor,
        "sync.schedule",
        "partner",
        partner_id,
        partner_id=partner_id,
        slot=slot,
        run_id=result.run_id,
        status=result.status,
    )
