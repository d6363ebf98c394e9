"""The shared per-partner request limit, on the real Redis, across processes."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid

import pytest

from msphub_psa.ratelimit import PartnerRateLimiter, RateLimitTimeout

REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _hammer(namespace: str, per_minute: int, seconds: float, queue) -> None:
    """Take slots as fast as allowed for ``seconds``; report the times they were granted."""
    limiter = PartnerRateLimiter(REDIS, 7, per_minute, namespace=namespace)
    granted, end = [], time.time() + seconds
    while time.time() < end:
        try:
            limiter.max_wait = max(0.01, end - time.time())
            limiter()
        except RateLimitTimeout:
            break
        granted.append(time.time())
    queue.put(granted)


def test_two_processes_share_one_partner_window():
    namespace = f"psa-test-{uuid.uuid4().hex[:8]}"
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_hammer, args=(namespace, 30, 3.0, queue)) for _ in range(2)]
    for proc in procs:
        proc.start()
    grants = sorted(queue.get(timeout=30) + queue.get(timeout=30))
    for proc in procs:
        proc.join(10)
    assert len(grants) == 30, "together the two processes got exactly the partner's 30 slots a minute"


def test_partners_do_not_share_a_window():
    namespace = f"psa-test-{uuid.uuid4().hex[:8]}"
    a = PartnerRateLimiter(REDIS, 1, 2, namespace=namespace, max_wait=0.05)
    b = PartnerRateLimiter(REDIS, 2, 2, namespace=namespace, max_wait=0.05)
    a(), a(), b(), b()
    with pytest.raises(RateLimitTimeout):
        a()


def test_full_window_waits_instead_of_failing():
    namespace = f"psa-test-{uuid.uuid4().hex[:8]}"
    waits = []
    limiter = PartnerRateLimiter(REDIS, 3, 1, namespace=namespace, max_wait=1.05, sleep=waits.append)
    limiter()
    with pytest.raises(RateLimitTimeout):
        limiter()
    assert waits and all(0 < w <= 1.0 for w in waits)


def test_a_shorter_window_keeps_the_rate_with_smaller_bursts():
    namespace = f"psa-test-{uuid.uuid4().hex[:8]}"
    limiter = PartnerRateLimiter(REDIS, 4, 120, namespace=namespace, max_wait=0.05, window_seconds=1)
    limiter(), limiter()  # 120 a minute over 1 s: 2 per second
    with pytest.raises(RateLimitTimeout):
        limiter()
    time.sleep(1.05)
    limiter()  # the window moved on


def test_room_tells_when_slots_free_up_and_takes_none():
    namespace = f"psa-test-{uuid.uuid4().hex[:8]}"
    limiter = PartnerRateLimiter(REDIS, 5, 3, namespace=namespace, max_wait=0.05)
    assert limiter.room(3) == 0
    limiter(), limiter()
    assert limiter.room(1) == 0 and 0 < limiter.room(2) <= 60
    assert limiter.room(2) > 0  # asking took nothing
    limiter()
    assert 0 < limiter.room(1) <= 60 and limiter.room(10) >= limiter.room(1)  # more than the limit: the whole window
    with pytest.raises(RateLimitTimeout):
        limiter()
