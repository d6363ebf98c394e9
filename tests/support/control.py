"""Helpers of the sync control tests: run a queued job here, read previews, end a customer's mapping."""

from __future__ import annotations

from rq.job import Job
from sqlalchemy import select

from msphub_psa import clock
from msphub_psa.daos.base import session
from msphub_psa.jobqueue import redis_connection
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import SyncPreview


def run_queued(job_id: str):
    """Run a queued job's function here (the test's app context), as a worker would; remove it from Redis."""
    job = Job.fetch(job_id, connection=redis_connection())
    result = job.func(*job.args, **job.kwargs)
    job.delete()
    return result


def preview_row(preview_id: int) -> SyncPreview:
    """A preview as stored (fresh)."""
    session().expire_all()
    return session().get(SyncPreview, preview_id)


def end_customer_mapping(customer_id: int) -> None:
    """Disassociate a customer (its mapping and its subscriptions' mappings end), as the Reconciliation Center does."""
    now = clock.now()
    for row in session().scalars(
        select(CustomerMapping).where(CustomerMapping.customer_id == customer_id, CustomerMapping.ended_at.is_(None))
    ):
        row.ended_at, row.ended_by = now, "test"
    for row in session().scalars(
        select(SubscriptionMapping).where(
            SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None)
        )
    ):
        row.ended_at, row.active, row.ended_by = now, False, "test"
    session().commit()
