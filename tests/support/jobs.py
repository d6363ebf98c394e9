"""A job used only by the tests of the job plumbing: it marks Redis when allowed to run."""

from __future__ import annotations

from msphub_psa.jobqueue import redis_connection
from msphub_psa.tasks import partner_may_run


def mark_if_allowed(partner_id: int, key: str) -> str:
    """Write ``key`` in Redis unless the partner's feature is off."""
    if not partner_may_run(partner_id, "test.mark"):
        return "skipped"
    redis_connection().set(key, "ran", ex=60)
    return "ran"
