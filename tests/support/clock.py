"""The suite's clock: every test starts at one pinned instant, in this process and in every process it starts.

``PSA_TEST_NOW`` (an ISO 8601 instant; naive means UTC) chooses the instant; without it the suite runs at
:data:`DEFAULT_NOW`, so no test depends on the day it runs. ``time-machine`` moves every reading of the time
(``datetime.now``, ``date.today``, ``time.time``; not the monotonic clock), and time ticks from there.

Worker, scheduler and sandbox processes are started through :func:`command` (``tests/support/travel.py``),
which travels to the same instant: the test sets ``PSA_TEST_CLOCK`` to ``<pinned instant>@<real epoch>`` when
it starts, so each process computes the same "now" however late it starts.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest
import time_machine

from tests.support.travel import ANCHOR, real_time

TRAVEL = Path(__file__).with_name("travel.py")
DEFAULT_NOW = "2026-11-18T15:00:00+00:00"  # a Wednesday in the middle of a month, far from any DST switch
ENV = "PSA_TEST_NOW"


def pinned() -> dt.datetime:
    """The instant the suite runs at."""
    raw = os.environ.get(ENV) or DEFAULT_NOW
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def command(*args: str, python: str = sys.executable) -> list[str]:
    """``python -m <args>`` run at the suite's time (e.g. ``command("flask", "psa", "worker")``); ``python`` may be
    another virtualenv's interpreter (it needs ``time-machine``)."""
    return [python, str(TRAVEL), *args]


@pytest.fixture(autouse=True)
def pinned_clock():
    """Each test starts at the pinned instant; processes it starts join it (see :func:`command`)."""
    instant = pinned()
    os.environ[ANCHOR] = f"{instant.isoformat()}@{real_time()!r}"
    with time_machine.travel(instant, tick=True):
        yield instant


def pytest_configure(config) -> None:
    """Session-wide set-up (the template database) happens at the pinned instant too."""
    traveller = time_machine.travel(pinned(), tick=True)
    traveller.start()
    config._psa_clock = traveller


def pytest_report_header(config) -> str:
    """Say which instant the suite runs at."""
    return f"pinned clock: {pinned().isoformat()} ({ENV} to change it)"
