"""Job plumbing on the real Redis with a real worker process."""

from __future__ import annotations

import time
import uuid

import pytest

from msphub_psa.jobqueue import enqueue_unique, redis_connection
from tests.support import tenants

MARK = "tests.support.jobs.mark_if_allowed"

pytestmark = pytest.mark.worker


def wait_finished(job, timeout=20.0):
    """Poll until the job has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.get_status(refresh=True)
        if status in ("finished", "failed", "stopped", "canceled"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job.id} still {job.get_status()}")


def test_job_for_partner_with_feature_off_has_no_side_effect(app, worker):
    with app.app_context():
        pilot, other = tenants.pilot().id, tenants.other().id
        keys = {p: f"psa-test-{uuid.uuid4().hex}" for p in (pilot, other)}
        jobs = {p: enqueue_unique("fast", MARK, p, keys[p], job_id=f"test-{keys[p]}")[0] for p in (pilot, other)}
    proc = worker(queues="fast")
    with app.app_context():
        assert wait_finished(jobs[pilot]) == "finished", proc.stop()
        assert wait_finished(jobs[other]) == "finished"
        assert jobs[pilot].return_value() == "ran" and jobs[other].return_value() == "skipped"
        conn = redis_connection()
        assert conn.get(keys[pilot]) == b"ran" and conn.get(keys[other]) is None


def test_same_job_id_is_enqueued_once(app):
    with app.app_context():
        job_id = f"test-{uuid.uuid4().hex}"
        first, created = enqueue_unique("fast", MARK, 1, "k", job_id=job_id)
        again, created_again = enqueue_unique("fast", MARK, 1, "k", job_id=job_id)
        assert created and not created_again and again.id == first.id
        first.delete()
