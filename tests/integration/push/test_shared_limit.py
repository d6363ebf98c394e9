"""Two real worker processes serving ConnectWise jobs of the SAME partner stay, together, under the
partner's shared request limit.

The sync worker runs the billing push (8 concurrent creates); the fast worker meanwhile runs list
and directory refreshes for that partner. The limit is 240 a minute over a 5-second moving window
(``PSA_CW_RATE_WINDOW_SECONDS``: 20 requests in any 5 seconds), so the test takes ~20 s, not minutes.
The limit is checked on the moments the shared window granted its slots (read from Redis while the
workers run), and every request the sandbox logged had a slot: arrival times at the sandbox would add
the machine's scheduling delays, which a busy machine makes as long as it likes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from msphub_psa.daos.base import session
from msphub_psa.jobqueue import FAST, enqueue_push, get_queue
from msphub_psa.models.sync import SyncRun
from msphub_psa.ratelimit import PartnerRateLimiter
from msphub_psa.tasks import refresh_cw_lists, refresh_directory
from tests.integration.push.test_push_faults import _wait
from tests.support.push import add_history, push_setup
from tests.support.settings import configure

PER_MINUTE, WINDOW = 240, 5
PER_WINDOW = PER_MINUTE * WINDOW // 60


def _times(entries: list[dict]) -> list[float]:
    """Arrival times (epoch seconds) of logged requests, sorted."""
    return sorted(dt.datetime.fromisoformat(e["time"]).timestamp() for e in entries)


def _busiest_window(times: list[float], length: float) -> int:
    """The most requests that arrived within any ``length`` seconds."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= length:
            start += 1
        best = max(best, end - start + 1)
    return best


def _run_finished(partner_id: int) -> SyncRun | None:
    """The partner's finished push run, if any."""
    session().rollback()
    return session().scalar(select(SyncRun).where(SyncRun.partner_id == partner_id, SyncRun.finished_at.is_not(None)))


def test_two_workers_of_one_partner_never_exceed_its_shared_limit(ctx, cw_live, worker, monkeypatch):
    # no slices: past its short slice a push's work horse would run at a lower CPU priority, and on a busy machine
    # the work, not the limit, could then set the pace this test measures
    settings = (("PSA_CW_REQUESTS_PER_MINUTE", PER_MINUTE), ("PSA_CW_RATE_WINDOW_SECONDS", WINDOW))
    for name, value in (*settings, ("PSA_PUSH_SLICE_SECONDS", 0)):
        monkeypatch.setenv(name, str(value))
        configure(ctx, **{name: value})
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    add_history(partner_id, customers, 40)
    limiter = PartnerRateLimiter(
        ctx.config["REDIS_URL"], partner_id, PER_MINUTE, namespace=ctx.config["PSA_QUEUE_PREFIX"], window_seconds=WINDOW
    )
    limiter.clear()
    since = cw_live.requests()[-1]["seq"] if cw_live.requests() else 0
    grants: set[float] = set()

    def finished() -> bool:
        """The push and the refreshes are done (and the window's grants so far are collected)."""
        grants.update(limiter.recent_grants())
        return (
            _run_finished(partner_id) is not None
            and fast_queue.count == 0
            and not fast_queue.started_job_registry.get_job_ids()
        )

    sync, fast = worker(queues="sync"), worker(queues="fast")
    enqueue_push(partner_id, "test")
    fast_queue = get_queue(FAST)
    for round_ in range(8):  # 8 x 3 list reads, and two full directory reads, competing with the push
        fast_queue.enqueue(refresh_cw_lists, partner_id)
        if round_ % 4 == 0:
            fast_queue.enqueue(refresh_directory, partner_id, "system", 1)
    assert _wait(finished, 120, step=0.2)  # the window keeps 20 grants for 5 s: polled well within that
    grants.update(limiter.recent_grants())
    run = _run_finished(partner_id)
    assert run.status == "succeeded", run.error

    log = [e for e in cw_live.requests(since) if "/apis/3.0/" in e["path"]]
    pushes = [e for e in log if e["method"] == "POST"]
    others = [
        e for e in log if (e["method"] == "GET" and "/procurement/" in e["path"]) or "/company/companies" in e["path"]
    ]
    assert len(pushes) >= 40 and len(others) >= 24
    # both workers were calling ConnectWise at the same time
    assert _times(others)[0] < _times(pushes)[-1] and _times(pushes)[0] < _times(others)[-1]
    assert len(log) <= len(grants) <= len(cw_live.requests(since)), "every ConnectWise request took a slot"
    times = sorted(grants)
    assert len(times) > 2 * PER_WINDOW, "enough requests for the limit to matter"
    assert _busiest_window(times, WINDOW) <= PER_WINDOW  # both workers together, in any 5 seconds
    assert _busiest_window(times, WINDOW) >= PER_WINDOW - 2, "the limit, not the work, set the pace"
    assert times[-1] - times[0] >= (len(times) / PER_WINDOW - 1) * WINDOW
    sync.stop(), fast.stop()
