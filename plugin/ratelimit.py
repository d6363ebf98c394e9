"""A per-partner limit on ConnectWise requests, kept in Redis and shared by every worker.

ConnectWise limits each partner's account, not us: every worker on every machine takes a slot from the same
moving window before each request, and waits when the window is full. The window is a Redis list of the grants'
times, newest first; one Lua script reads Redis's own clock (``TIME``), checks the oldest grant still counted and
records the new one, atomically. Every grant is thus stamped by one clock, however the workers' clocks differ or
however long a worker was descheduled between asking and being granted (a window stamped by each caller's
clock, as ``limits``' moving window does, let 22 grants into a window of 20 when a caller was descheduled
between reading its clock and running the script). One limiter may be called from several threads at once (the
push's concurrent requests).

The window is a minute by default; a shorter one (``window_seconds``) keeps the same rate with smaller bursts
(``per_minute × window ÷ 60`` requests per window).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

ACQUIRE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local oldest = redis.call('LINDEX', KEYS[1], limit - 1)
if oldest and tonumber(oldest) > now - window then
    return tostring(tonumber(oldest) + window - now)
end
redis.call('LPUSH', KEYS[1], string.format('%.6f', now))
redis.call('LTRIM', KEYS[1], 0, limit - 1)
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return '0'
"""
"""Take a slot: ``'0'`` when granted, else the seconds until the oldest counted grant leaves the window."""

ROOM = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local entry = redis.call('LINDEX', KEYS[1], limit - math.min(tonumber(ARGV[3]), limit))
if entry and tonumber(entry) > now - window then
    return tostring(tonumber(entry) + window - now)
end
return '0'
"""
"""Take nothing: ``'0'`` when ``ARGV[3]`` slots are free now, else the seconds until they are."""


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
        self.redis = Redis.from_url(redis_url)
        self.acquire = self.redis.register_script(ACQUIRE)
        self._room = self.redis.register_script(ROOM)
        self.limit = max(1, round(per_minute * window_seconds / 60))
        self.window = window_seconds
        self.partner_id = partner_id
        self.key = f"{namespace}-cw:window:{int(partner_id)}:{self.limit}/{self.window}s"
        self.max_wait = max_wait
        self.sleep = sleep
        self.waited = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Take one slot, waiting for the window to move if it is full.

        :raises RateLimitTimeout: after ``max_wait`` seconds without a slot.
        """
        deadline = time.monotonic() + self.max_wait
        while (wait := float(self.acquire(keys=[self.key], args=[self.limit, self.window]))) > 0:
            pause = min(max(wait, 0.01), 1.0)
            if time.monotonic() + pause > deadline:
                raise RateLimitTimeout(
                    f"No ConnectWise request slot for partner {self.partner_id} within {self.max_wait:.0f} s"
                )
            self.sleep(pause)
            with self._lock:
                self.waited += pause

    def room(self, amount: int = 1) -> float:
        """Seconds until ``amount`` slots are free in the window (0: now, or Redis does not answer: a request
        then finds out for itself); takes none."""
        try:
            return float(self._room(keys=[self.key], args=[self.limit, self.window, max(1, int(amount))]))
        except (RedisError, OSError):
            return 0.0

    def capacity(self, seconds: float) -> float:
        """Requests the limit allows within ``seconds`` from an unspent window: the window's burst, then its
        rate."""
        return self.limit * (1 + seconds / self.window)

    def clear(self) -> None:
        """Forget the partner's window (tests and operators)."""
        self.redis.delete(self.key)

    def recent_grants(self) -> list[float]:
        """When the window's last slots were granted (Redis's clock, epoch seconds, newest first; at most the
        window's limit): what every worker took from this partner's window."""
        return [float(value) for value in self.redis.lrange(self.key, 0, -1)]
