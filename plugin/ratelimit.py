"""A per-partner limit on ConnectWise requests, kept in Redis and shared by every worker.

ConnectWise limits each partner's account, not us: every worker on every machine
takes a slot from the same moving window (``limits``' Redis strategy, atomic in
Lua) before each request, and waits when the window is full.
"""
from __future__ import annotations

import time
from typing import Callable

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimitTimeout(RuntimeError):
    """No slot came free within the allowed wait."""


class PartnerRateLimiter:
    """The client's ``throttle``: blocks until the partner's window has room for one request."""

    def __init__(self, redis_url: str, partner_id: int, per_minute: int, *, namespace: str = "psa",
                 max_wait: float = 300.0, sleep: Callable[[float], None] = time.sleep):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.limiter = MovingWindowRateLimiter(storage_from_string(_limits_url(redis_url)))
        self.item = RateLimitItemPerMinute(per_minute)
        self.keys = (f"{namespace}-cw", str(partner_id))
        self.max_wait = max_wait
        self.sleep = sleep
        self.waited = 0.0

    def __call__(self) -> None:
        """Take one slot, waiting for the window to move if it is full.

        :raises RateLimitTimeout: after ``max_wait`` seconds without a slot.
        """
        deadline = time.monotonic() + self.max_wait
        while not self.limiter.hit(self.item, *self.keys):
            reset_at = self.limiter.get_window_stats(self.item, *self.keys).reset_time
            pause = min(max(reset_at - time.time(), 0.01), 1.0)
            if time.monotonic() + pause > deadline:
                raise RateLimitTimeout(f"No ConnectWise request slot for partner {self.keys[1]} "
                                       f"within {self.max_wait:.0f} s")
            self.sleep(pause)
            self.waited += pause

    def clear(self) -> None:
        """Forget the partner's window (tests and operators)."""
        self.limiter.clear(self.item, *self.keys)


def _limits_url(redis_url: str) -> str:
    """``limits`` spells unix sockets ``redis+unix://``."""
    return "redis+unix://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url
