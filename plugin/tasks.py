"""The job bodies RQ runs (``msphub_psa.tasks.<name>``): each takes ids, reloads what it needs and calls one
command. A job whose partner's feature is off ends without side effects."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from msphub_psa.commands import access
from msphub_psa.commands.access import actor_for_user, find_user
from msphub_psa.commands.base import audit_refusal
from msphub_psa.commands.billing.alerts import notify_drift
from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.commands.billing.common import ALERT_STATUSES
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import push_approved
from msphub_psa.commands.billing.schedule import ScheduledSyncCommand, ScheduleTickCommand
from msphub_psa.commands.directory import RefreshDirectoryCommand, system_actor
from msphub_psa.commands.exceptions import CommandError, FeatureDisabledError, IntegrationInactiveError
from msphub_psa.commands.integration import ValidateIntegrationCommand
from msphub_psa.commands.rules.lists import RefreshListsCommand
from msphub_psa.jobqueue import QueueUnavailable, current_job_id, enqueue_readback, publish_job_progress
from msphub_psa.logs import log_context
from msphub_psa.psa.errors import PsaError
from msphub_psa.settings import settings

log = logging.getLogger(__name__)


def partner_may_run(partner_id: int, job: str) -> bool:
    """False (and logged) when the partner's feature is off: the job must end without side effects."""
    try:
        access.require_feature(partner_id)
    except FeatureDisabledError:
        log.info("job=%s partner=%s skipped: ConnectWise integration disabled for the partner", job, partner_id)
        return False
    return True


def partner_logged(func: Callable[..., Any]) -> Callable[..., Any]:
    """A job whose first argument is the partner id: its log records carry ``partner_id``."""

    @functools.wraps(func)
    def wrapper(partner_id, *args, **kwargs):
        """Run the job with the partner id bound to its logs."""
        with log_context(partner_id=int(partner_id)):
            return func(partner_id, *args, **kwargs)

    return wrapper


def validate_integration(integration_id: int) -> str:
    """Check the credentials under validation against the PSA and record the outcome."""
    return ValidateIntegrationCommand(integration_id, current_job_id()).run()


@partner_logged
def refresh_directory(partner_id: int, username: str, full: int = 0) -> dict | str:
    """Refresh the partner's directory cache (progress in the job's meta), acting as ``username`` or ``system``;
    nothing when the feature is off or the integration no longer active."""
    if not partner_may_run(partner_id, "refresh_directory"):
        return "skipped"
    user = find_user(username) if username != "system" else None
    actor = actor_for_user(user) if user is not None and user.active else system_actor(partner_id)
    try:
        return RefreshDirectoryCommand(actor, partner_id, bool(full), publish_job_progress).run()
    except CommandError as err:
        if err.status in (403, 404):
            audit_refusal(actor, "directory.refresh", "partner", partner_id, err.message, partner_id=partner_id)
            return "skipped"
        raise


@partner_logged
def refresh_cw_lists(partner_id: int) -> str:
    """Refresh the partner's cached PSA categories, subcategories and product types."""
    if not partner_may_run(partner_id, "refresh_cw_lists"):
        return "skipped: feature off"
    try:
        return RefreshListsCommand(int(partner_id)).run().status
    except IntegrationInactiveError:
        log.info("job=refresh_cw_lists partner=%s skipped: integration not active", partner_id)
        return "skipped: integration not active"


@partner_logged
def push_billing(partner_id: int, requested_by: str = "system", preview_id: int = 0, continues: int = 0) -> dict | str:
    """Push the partner's eligible billing transactions (with ``preview_id``: that approved preview's), in slices
    (``PSA_PUSH_SHORT_SLICE_SECONDS``, ``PSA_PUSH_SLICE_SECONDS``; with ``continues``: the continuation of that
    yielded run)."""
    if not partner_may_run(partner_id, "push_billing"):
        return "skipped: feature off"
    if preview_id:
        result = push_approved(int(partner_id), int(preview_id), requested_by, current_job_id())
    else:
        result = (
            PushBillingCommand(
                int(partner_id),
                requested_by,
                current_job_id(),
                slice_seconds=settings().push_slice_seconds,
                short_slice_seconds=settings().push_short_slice_seconds,
                continues=int(continues) or None,
            )
            .run(wait=True)
            .as_dict()
        )
    _read_back_after(int(partner_id), result)
    return result


def _read_back_after(partner_id: int, result: dict | str) -> None:
    """After a push that wrote to the PSA, its read-back on ``sync-later``, behind every fresh push (revenue
    assurance); after the last slice of a push delivered in slices only."""
    if not isinstance(result, dict) or not (result.get("counts") or {}).get("pushed"):
        return
    if result.get("status") == "yielded":
        return
    try:
        enqueue_readback(partner_id, later=True)
    except QueueUnavailable:
        log.warning("job=push_billing partner=%s: the read-back could not be enqueued", partner_id)


@partner_logged
def assurance_readback(partner_id: int, requested_by: str = "system") -> dict | str:
    """Read the partner's agreements back from the PSA and keep the findings (revenue assurance)."""
    if not partner_may_run(partner_id, "assurance_readback"):
        return "skipped: feature off"
    try:
        access.require_active_integration(int(partner_id))
    except IntegrationInactiveError:
        return "skipped: integration not active"
    return ReadBackCommand(int(partner_id), requested_by).run()


def schedule_tick() -> list[str]:
    """Every minute (``flask psa scheduler``): start the partners' due runs."""
    return [f"{partner_id}@{slot.isoformat()}" for partner_id, slot in ScheduleTickCommand().run()]


@partner_logged
def scheduled_sync(partner_id: int, slot: str) -> dict:
    """The partner's scheduled run: a preview awaiting approval, or the push."""
    readback = _read_back_first(int(partner_id))
    result = ScheduledSyncCommand(int(partner_id), slot, current_job_id()).run()
    if readback is not None and result.get("status") not in ALERT_STATUSES:  # an alert carries the findings
        notify_drift(int(partner_id), readback)
    _read_back_after(int(partner_id), result)
    return result


def _read_back_first(partner_id: int) -> dict | None:
    """The scheduled run reads the PSA back before it pushes, so its e-mail carries the findings; its summary."""
    if not partner_may_run(partner_id, "assurance_readback"):
        return None
    try:
        access.require_active_integration(partner_id)
        return ReadBackCommand(partner_id, "schedule").run()
    except (CommandError, PsaError) as err:
        log.warning("job=scheduled_sync partner=%s: the read-back did not run (%s)", partner_id, err)
        return None
