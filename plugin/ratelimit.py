"""A per-partner limit on ConnectWise requests, kept in Redis and shared by every worker.

ConnectWise limits each partner's account, not us: every worker on every machine
takes a slot from the same moving window (``limits``' Redis strategy, atomic in
Lua) before each request, and waits when the window is full. One limiter may be
called from several threads at once (the push's concurrent requests).

The window is a minute by default; a shorter one (``window_seconds``) keeps the same
rate with smaller bursts (``per_minute × window ÷ 60`` requests per window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimitTimeout(RuntimeError):
    """No slot came free within the allowed wait."""


class PartnerRateLimiter:
    """The client's ``throttle``: blocks until the partner's window has room for one request."""

    def __init__(
        self,
        redis_url: str,
        partner_id: int,
        per_minute: int,
        *,
        namespace: str = "psa",
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: int = 60,
    ):
        if per_minute < 1 or window_seconds < 1:
            raise ValueError("per_minute and window_seconds must be at least 1")
        self.limiter = MovingWindowRateLimiter(storage_from_string(_limits_url(redis_url)))
        self.item = window_item(per_minute, window_seconds)
        self.keys = (f"{namespace}-cw", str(partner_id))
        self.max_wait = max_wait
        self.sleep = sleep
        self.waited = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Take one slot, waiting for the window to move if it is full.

        :raises RateLimitTimeout: after ``max_wait`` seconds without a slot.
        """
        deadline = time.monotonic() + self.max_wait
        while not self.limiter.hit(self.item, *self.keys):
            reset_at = self.limiter.get_window_stats(self.item, *self.keys).reset_time
            pause = min(max(reset_at - time.time(), 0.01), 1.0)
            if time.monotonic() + pause > deadline:
                raise RateLimitTimeout(
                    f"No ConnectWise request slot for partner {self.keys[1]} within {self.max_wait:.0f} s"
                )
            self.sleep(pause)
            with self._lock:
                self.waited += pause

    def clear(self) -> None:
        """Forget the partner's window (tests and operators)."""
        self.limiter.clear(self.item, *self.keys)

    def recent_grants(self) -> list[float]:
        """When the window's last slots were granted (epoch seconds, newest first; at most the limit's amount):
        what every worker took from this partner's window."""
        storage = self.limiter.storage
        key = storage.prefixed_key(self.item.key_for(*self.keys))
        return [float(value) for value in storage.get_connection().lrange(key, 0, -1)]


def window_item(per_minute: int, window_seconds: int = 60):
    """The moving window: ``per_minute`` a minute, or the same rate over a shorter window (at least 1)."""
    if window_seconds == 60:
        return RateLimitItemPerMinute(per_minute)
    return RateLimitItemPerSecond(max(1, round(per_minute * window_seconds / 60)), window_seconds)


def _limits_url(redis_url: str) -> str:
    """``limits`` spells unix sockets ``redis+unix://``."""
    return "redis+unix://" + redis_url[len("unix://") :] if redis_url.startswith("unix://") else redis_url
