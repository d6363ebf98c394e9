"""The one clock: every "now" and "today" the plugin uses comes from here.

Times are UTC and timezone-aware; a "today" is always someone's today, so it takes the
timezone it is asked in (a partner's, a user's). Tests move this clock, and every other
reading of the time in the process, with ``time-machine`` (see ``tests/support/clock.py``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC


def now() -> dt.datetime:
    """Now, in UTC, timezone-aware."""
    return dt.datetime.now(UTC)


def zone(name: str | None) -> dt.tzinfo:
    """The timezone named ``name`` (an IANA name); UTC when empty or unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_now(tz: str | None) -> dt.datetime:
    """Now in the timezone ``tz``."""
    return now().astimezone(zone(tz))


def today(tz: str | None) -> dt.date:
    """Today's date in the timezone ``tz`` (UTC when empty or unknown)."""
    return local_now(tz).date()
