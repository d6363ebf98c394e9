"""Every day of two years (2027 and 2028: a leap day, the demo timezones' DST switches, two year turns):
periods, From Date, eligibility, auto-association, the schedule and the Reconciliation Center's period
windows hold their rules on each of them. Pure code: no database, no clock but the one set here."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
import time_machine

from msphub_psa import clock
from msphub_psa.commands.reconciliation import add_months as add_calendar_months
from msphub_psa.commands.reconciliation import period_start
from msphub_psa.domain.errors import EmptyFromDateRangeError
from msphub_psa.domain.periods import (
    Agreement,
    Ineligibility,
    Subscription,
    add_months,
    agreement_eligibility,
    auto_association,
    current_period_start,
    from_date_range,
    is_eligible_transaction,
)
from msphub_psa.domain.schedule import Schedule, due_slot, next_slot, parse_time, slot_instant, zone

FIRST, LAST = dt.date(2027, 1, 1), dt.date(2028, 12, 31)
DAYS = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
STARTS = [
    dt.date(2024, 2, 29),
    dt.date(2025, 1, 31),
    dt.date(2025, 3, 30),
    dt.date(2025, 8, 1),
    dt.date(2026, 12, 15),
    dt.date(2027, 2, 28),
    dt.date(2028, 2, 29),
    dt.date(2028, 12, 31),
]
ZONES = ["America/New_York", "Europe/Berlin", "Europe/London", "UTC"]  # the demo partners' zones, and UTC
TIMES = ["06:00", "00:00", "23:30", "01:30", "02:30"]  # 01:30 repeats on fall-back days, 02:30 is skipped in spring
UTC = dt.UTC


def test_the_sweep_covers_the_hostile_days():
    assert dt.date(2028, 2, 29) in DAYS and len(DAYS) == 731
    switches = [day for day in DAYS if _is_dst_switch(day, "America/New_York")]
    assert switches == [dt.date(2027, 3, 14), dt.date(2027, 11, 7), dt.date(2028, 3, 12), dt.date(2028, 11, 5)]
    assert sum(_is_dst_switch(day, "Europe/Berlin") for day in DAYS) == 4


def _is_dst_switch(day: dt.date, tz: str) -> bool:
    """True when the zone's UTC offset changes during ``day``."""
    zone_info = zone(tz)
    start = dt.datetime.combine(day, dt.time(0), zone_info).utcoffset()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone_info).utcoffset()
    return start != end


@pytest.mark.parametrize("start", STARTS, ids=str)
def test_the_current_monthly_period_contains_today_and_keeps_its_anchor_day(start):
    for today in DAYS:
        begin = current_period_start(start, "monthly", today)
        if today <= start:
            assert begin == start
            continue
        following = add_months(start, _months_between(start, begin) + 1)
        assert begin <= today < following, (start, today, begin)
        assert begin.day == min(start.day, calendar.monthrange(begin.year, begin.month)[1])


@pytest.mark.parametrize("start", STARTS, ids=str)
def test_the_current_annual_period_starts_on_the_anniversary(start):
    for today in DAYS:
        begin = current_period_start(start, "annual", today)
        if today <= start:
            assert begin == start
            continue
        assert begin <= today < add_months(start, _months_between(start, begin) + 12)
        assert begin.month == start.month and _months_between(start, begin) % 12 == 0
        assert current_period_start(start, "one_time", today) == start


def _months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


@pytest.mark.parametrize("start", STARTS, ids=str)
def test_the_from_date_range_ends_today_and_starts_at_the_later_bound(start):
    agreement_starts = [None, dt.date(2026, 6, 30), dt.date(2027, 12, 31)]
    for today in DAYS:
        for bill_start in agreement_starts:
            lower = max(start, bill_start or start)
            if lower > today:
                with pytest.raises(EmptyFromDateRangeError):
                    from_date_range(bill_start, None, start, today)
                continue
            allowed = from_date_range(bill_start, None, start, today)
            assert (allowed.lower, allowed.upper) == (lower, today)
            assert today in allowed and lower in allowed and today + dt.timedelta(days=1) not in allowed


def test_a_transaction_is_eligible_when_its_period_ends_on_or_after_the_from_date():
    for day in DAYS:
        assert is_eligible_transaction(day, day)
        assert is_eligible_transaction(day + dt.timedelta(days=1), day)
        assert not is_eligible_transaction(day - dt.timedelta(days=1), day)


def test_an_agreement_ending_today_is_eligible_and_one_that_ended_yesterday_is_not():
    subscription = Subscription(1, 7, dt.date(2025, 1, 31), "monthly", "USD")
    for today in DAYS:
        ends_today = Agreement(1, 7, end_date=today, billing_cycle="Monthly", start_date=dt.date(2025, 1, 1))
        ended = Agreement(1, 7, end_date=today - dt.timedelta(days=1), start_date=dt.date(2025, 1, 1))
        starts_tomorrow = Agreement(1, 7, bill_start_date=today + dt.timedelta(days=1))
        assert agreement_eligibility(ends_today, subscription, today).eligible
        assert agreement_eligibility(ended, subscription, today).reason == Ineligibility.ENDED
        assert agreement_eligibility(starts_tomorrow, subscription, today).reason == Ineligibility.NOT_STARTED


@pytest.mark.parametrize("start", STARTS, ids=str)
def test_auto_association_starts_at_the_current_period_within_the_allowed_range(start):
    agreement = Agreement(3, 7, billing_cycle="Monthly", start_date=dt.date(2026, 6, 30))
    for today in DAYS:
        subscription = Subscription(1, 7, start, "monthly", "USD")
        decision = auto_association(subscription, [agreement], today)
        assert decision.agreement_id == 3
        if start > today:  # not started yet: its first period is the current one
            assert decision.from_date == start
            continue
        assert decision.from_date == max(current_period_start(start, "monthly", today), dt.date(2026, 6, 30))
        assert decision.from_date in from_date_range(None, agreement.start_date, start, today)


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("time", TIMES)
def test_each_local_day_has_exactly_one_slot_that_is_due_once(tz, time):
    schedule = Schedule(True, parse_time(time), frozenset(range(7)), tz)
    window, previous = dt.timedelta(hours=6), None
    for day in DAYS:
        slot = slot_instant(day, schedule.at, schedule.zone)
        assert slot.astimezone(schedule.zone).date() == day  # the slot belongs to its local day
        assert previous is None or slot > previous
        assert next_slot(schedule, slot - dt.timedelta(seconds=1)) == slot
        assert due_slot(schedule, slot - dt.timedelta(seconds=1), previous, None, window) is None
        assert due_slot(schedule, slot, previous, None, window) == slot
        assert due_slot(schedule, slot + dt.timedelta(minutes=1), slot, None, window) is None  # claimed: not twice
        previous = slot


def test_a_slot_in_a_spring_gap_moves_forward_and_a_repeated_one_takes_the_first():
    gap = slot_instant(dt.date(2027, 3, 14), dt.time(2, 30), zone("America/New_York"))
    assert gap == dt.datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT
    repeat = slot_instant(dt.date(2028, 11, 5), dt.time(1, 30), zone("America/New_York"))
    assert repeat == dt.datetime(2028, 11, 5, 5, 30, tzinfo=UTC)  # the first 01:30, EDT


def test_the_figures_period_windows_follow_the_partners_month():
    for today in DAYS:
        assert period_start("this_month", today) == today.replace(day=1)
        three = period_start("last_3_months", today)
        assert three.day == 1 and add_calendar_months(three, 2) == today.replace(day=1)
        assert period_start("all", today) is None


@pytest.mark.parametrize("tz", ZONES)
def test_the_partners_today_is_its_own_at_every_hour_of_the_year_turn(tz):
    for hour in range(-30, 30):
        moment = dt.datetime(2028, 1, 1, tzinfo=UTC) + dt.timedelta(hours=hour, minutes=30)
        with time_machine.travel(moment, tick=False):
            assert clock.now() == moment
            assert clock.today(tz) == moment.astimezone(zone(tz)).date()
            assert clock.today(None) == moment.date() and clock.today("Not/AZone") == moment.date()
