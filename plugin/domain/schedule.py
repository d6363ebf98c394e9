"""The billing sync schedule: when a partner's push is due (pure; times in UTC in, UTC out).

A schedule is a time of day and a set of weekdays in the partner's timezone. Each (local date,
time) is one **slot**; its instant is that wall-clock time in the timezone:

- a time that does not exist on a spring-forward day (02:30 in a DST gap) is taken with the
  offset in force before the change, i.e. that many minutes later on the new clock (03:30);
- a time that occurs twice on a fall-back day (01:30) is its **first** occurrence;

so every local date gives exactly one instant, and a slot is due once. The weekday is the one of
the local date. A slot is due when it lies after the last claimed one (and after ``since``, the
moment the schedule was set, so a new schedule never fires for a time already past) and no
longer ago than the catch-up window.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msphub_psa.domain.errors import DomainError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in ``date.weekday()`` order."""
DEFAULT_TIME = "06:00"
"""Daily by default, at 06:00 in the partner's timezone."""
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class ScheduleError(DomainError):
    """A schedule value that cannot be used (time format, weekday, timezone)."""


@dataclass(frozen=True)
class Schedule:
    """A partner's push schedule."""

    enabled: bool
    at: dt.time
    days: frozenset[int]
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        """The timezone (UTC when unknown)."""
        return zone(self.timezone)


def zone(name: str | None) -> ZoneInfo:
    """A timezone by IANA name; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(text: str) -> dt.time:
    """``"HH:MM"`` (24-hour, two digits each) as a time.

    :raises ScheduleError: for anything else.
    """
    match = _TIME.match(text or "") if isinstance(text, str) else None
    if not match:
        raise ScheduleError(f"Time must be HH:MM on a 24-hour clock (e.g. 06:00), not {text!r}.")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_days(names: Iterable[str]) -> frozenset[int]:
    """Weekday names (``mon`` … ``sun``, any case) as ``weekday()`` numbers.

    :raises ScheduleError: for an unknown or repeated name.
    """
    days: list[int] = []
    for name in names:
        key = name.strip().lower() if isinstance(name, str) else None
        if key not in WEEKDAYS:
            raise ScheduleError(f"Unknown weekday {name!r}; use {', '.join(WEEKDAYS)}.")
        if WEEKDAYS.index(key) in days:
            raise ScheduleError(f"Weekday {key} is listed twice.")
        days.append(WEEKDAYS.index(key))
    return frozenset(days)


def day_names(days: Iterable[int]) -> list[str]:
    """Weekday numbers as names, Monday first."""
    return [WEEKDAYS[d] for d in sorted(set(days))]


def format_time(at: dt.time) -> str:
    """A time as ``HH:MM``."""
    return f"{at.hour:02d}:{at.minute:02d}"


def slot_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of ``at`` on local date ``day`` (DST gap: shifted forward; repeated hour: first)."""
    local = dt.datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return dt.datetime.fromtimestamp(local.timestamp(), dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (naive ones are taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _slots_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Slot instants with start < instant <= end, oldest first."""
    tz = schedule.zone
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    found = []
    while day <= last:
        if day.weekday() in schedule.days:
            instant = slot_instant(day, schedule.at, tz)
            if start < instant <= end:
                found.append(instant)
        day += dt.timedelta(days=1)
    return found


def due_slot(
    schedule: Schedule, now: dt.datetime, last: dt.datetime | None, since: dt.datetime | None, window: dt.timedelta
) -> dt.datetime | None:
    """The latest slot that is due now, or None.

    Due: at or before ``now``, after ``last`` (the last claimed slot) and after ``since`` (when the
    schedule was set), and at most ``window`` ago (a scheduler that was down longer skips it).
    """
    if not schedule.enabled or not schedule.days:
        return None
    now = _utc(now)
    floor = now - window
    for bound in (last, since):
        if bound is not None:
            floor = max(floor, _utc(bound))
    slots = _slots_between(schedule, floor, now)
    return slots[-1] if slots else None


def next_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The first slot after ``now`` (within the next eight days), or None when the schedule is off."""
    if not schedule.enabled or not schedule.days:
        return None
    now = _utc(now)
    slots = _slots_between(schedule, now, now + dt.timedelta(days=8))
    return slots[0] if slots else None
