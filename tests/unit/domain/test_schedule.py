"""The sync schedule: slots in the partner's timezone, weekdays, DST gaps and repeats, catch-up, parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from msphub_psa.domain.schedule import (
    Schedule,
    ScheduleError,
    day_names,
    due_slot,
    next_slot,
    parse_days,
    parse_time,
    slot_instant,
    zone,
)

UTC = dt.UTC
EVERY_DAY = frozenset(range(7))
HOUR = dt.timedelta(hours=1)


def at(text: str) -> dt.datetime:
    """An ISO UTC instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def daily(time: str = "06:00", tz: str = "UTC", days=EVERY_DAY, enabled: bool = True) -> Schedule:
    return Schedule(enabled, parse_time(time), frozenset(days), tz)


def test_parse_time_accepts_hh_mm_only():
    assert parse_time("06:00") == dt.time(6, 0) and parse_time("23:59") == dt.time(23, 59)
    for bad in ("6:00", "24:00", "06:60", "06:00:00", "noon", "", " 06:00", None, 600):
        with pytest.raises(ScheduleError):
            parse_time(bad)


def test_parse_days_names_any_case_refuses_unknown_and_repeats():
    assert parse_days(["mon", "Fri", "SUN"]) == frozenset({0, 4, 6})
    assert day_names({6, 0, 4}) == ["mon", "fri", "sun"]
    for bad in (["monday"], ["xyz"], ["mon", "MON"], [1], [""]):
        with pytest.raises(ScheduleError):
            parse_days(bad)


def test_slot_is_local_time_converted_to_utc():
    assert slot_instant(dt.date(2026, 1, 15), dt.time(6), zone("Europe/Paris")) == at("2026-01-15T05:00:00")
    assert slot_instant(dt.date(2026, 7, 15), dt.time(6), zone("Europe/Paris")) == at("2026-07-15T04:00:00")
    assert slot_instant(dt.date(2026, 1, 15), dt.time(6), zone("Australia/Sydney")) == at("2026-01-14T19:00:00")


def test_dst_gap_time_runs_shifted_forward_once():
    # America/New_York springs forward on 2026-03-08: 02:00 -> 03:00; 02:30 does not exist that day
    s = daily("02:30", "America/New_York")
    gap = slot_instant(dt.date(2026, 3, 8), dt.time(2, 30), s.zone)
    assert gap == at("2026-03-08T07:30:00")  # 03:30 EDT: the pre-change offset (EST, -5)
    assert due_slot(s, at("2026-03-08T07:31:00"), None, None, HOUR) == gap
    assert due_slot(s, at("2026-03-08T07:45:00"), gap, None, HOUR) is None  # claimed: never twice


def test_repeated_hour_runs_once_at_first_occurrence():
    # America/New_York falls back on 2026-11-01: 01:00-02:00 happens twice
    s = daily("01:30", "America/New_York")
    first = slot_instant(dt.date(2026, 11, 1), dt.time(1, 30), s.zone)
    assert first == at("2026-11-01T05:30:00")  # 01:30 EDT (-4), not 01:30 EST (06:30Z)
    assert due_slot(s, at("2026-11-01T05:31:00"), None, None, HOUR) == first
    assert due_slot(s, at("2026-11-01T06:31:00"), first, None, HOUR) is None  # the second 01:30 is not a slot


def test_weekday_is_the_local_date_not_the_utc_date():
    # Monday 06:00 in Sydney is Sunday 19:00/20:00 UTC
    s = daily("06:00", "Australia/Sydney", days={0})
    assert due_slot(s, at("2026-01-11T19:05:00"), None, None, HOUR) == at("2026-01-11T19:00:00")
    assert at("2026-01-11T19:00:00").weekday() == 6  # a Sunday in UTC
    assert due_slot(s, at("2026-01-12T19:05:00"), None, None, HOUR) is None  # Tuesday in Sydney


def test_due_only_inside_window_after_last_and_since():
    s = daily("06:00", "Europe/Paris")  # 05:00Z in winter
    assert due_slot(s, at("2026-01-15T04:59:00"), None, None, HOUR) is None  # before the slot
    assert due_slot(s, at("2026-01-15T05:00:00"), None, None, HOUR) == at("2026-01-15T05:00:00")
    assert due_slot(s, at("2026-01-15T06:01:00"), None, None, HOUR) is None  # missed by more than the window
    assert due_slot(s, at("2026-01-15T06:01:00"), None, None, 3 * HOUR) == at("2026-01-15T05:00:00")
    assert due_slot(s, at("2026-01-15T05:30:00"), None, at("2026-01-15T05:10:00"), HOUR) is None  # set after it
    assert due_slot(s, at("2026-01-15T05:30:00"), at("2026-01-15T05:00:00"), None, HOUR) is None  # claimed


def test_off_or_no_days_is_never_due_and_has_no_next():
    for s in (daily(enabled=False), daily(days=())):
        assert due_slot(s, at("2026-01-15T06:00:00"), None, None, HOUR) is None
        assert next_slot(s, at("2026-01-15T06:00:00")) is None


def test_next_slot_skips_days_off_and_crosses_dst():
    s = daily("06:00", "Europe/Paris", days={0, 2})  # Monday and Wednesday
    assert next_slot(s, at("2026-03-24T05:00:00")) == at("2026-03-25T05:00:00")  # Tue -> Wed (winter, +1)
    assert next_slot(s, at("2026-03-26T12:00:00")) == at("2026-03-30T04:00:00")  # Thu -> Mon (summer, +2)


def test_unknown_timezone_is_utc():
    assert zone("Not/AZone").key == "UTC" and zone(None).key == "UTC"
