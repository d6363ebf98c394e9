"""Resuming what dead workers left: a killed worker's push is not re-run by RQ, so a sync worker's start enqueues
the push of every partner whose rows were left in ``sending`` or ``removing`` (any later push recovers them too)."""

from __future__ import annotations

import logging

from msphub_psa.commands.base import transaction
from msphub_psa.daos.outbox import SyncLeaseDAO
from msphub_psa.jobqueue import QueueUnavailable, enqueue_push

log = logging.getLogger(__name__)


class ResumeStalePushesCommand:
    """Enqueue a push for every partner with rows left in ``sending`` by a run whose lease expired."""

    def run(self) -> list[int]:
        """The partners whose push was enqueued (none when the queue does not answer: logged)."""
        partners = _stale_partners()
        try:
            for partner_id in partners:
                enqueue_push(partner_id, "system")
        except QueueUnavailable:
            log.warning("stale pushes of partners %s not resumed: the job queue does not answer", partners)
            return []
        return partners


@transaction
def _stale_partners() -> list[int]:
    """Partners with rows in ``sending`` or ``removing`` (own short transaction; the push waits out a live lease)."""
    return SyncLeaseDAO.partners_with_stale_sending()
