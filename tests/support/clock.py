"""The suite's clock: every test starts at one pinned instant, in this process and in every process it starts.

``PSA_TEST_NOW`` (an ISO 8601 instant; naive means UTC) chooses the instant; without it the suite runs at
:data:`DEFAULT_NOW`, so no test depends on the day it runs. ``time-machine`` moves every reading of the time
(``datetime.now``, ``date.today``, ``time.time``; not the monotonic clock), and time ticks from there.

Worker, scheduler and sandbox processes are started through :func:`command` (``python -m tests.support.clock``),
which travels to the same instant: the test sets ``PSA_TEST_CLOCK`` to ``<pinned instant>@<real epoch>`` when
it starts, so each process computes the same "now" however late it starts.
"""
from __future__ import annotations

import datetime as dt
import os
import runpy
import sys
import time

import pytest
import time_machine

DEFAULT_NOW = "2026-11-18T15:00:00+00:00"  # a Wednesday in the middle of a month, far from any DST switch
ENV = "PSA_TEST_NOW"
ANCHOR = "PSA_TEST_CLOCK"


def pinned() -> dt.datetime:
    """The instant the suite runs at."""
    raw = os.environ.get(ENV) or DEFAULT_NOW
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _real_time() -> float:
    """The machine's real time, whatever travel is on."""
    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def destination() -> dt.datetime:
    """Where a process started now travels to: the anchor's instant plus the real time since the anchor."""
    raw = os.environ.get(ANCHOR)
    if not raw:
        return pinned()
    instant, real = raw.rsplit("@", 1)
    return dt.datetime.fromisoformat(instant) + dt.timedelta(seconds=_real_time() - float(real))


def command(*args: str) -> list[str]:
    """``python -m <args>`` run at the suite's time (e.g. ``command("flask", "psa", "worker")``)."""
    return [sys.executable, "-m", "tests.support.clock", *args]


@pytest.fixture(autouse=True)
def pinned_clock():
    """Each test starts at the pinned instant; processes it starts join it (see :func:`command`)."""
    instant = pinned()
    os.environ[ANCHOR] = f"{instant.isoformat()}@{_real_time()!r}"
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


def main() -> None:
    """``python -m tests.support.clock MODULE [ARGS...]``: run MODULE as ``__main__`` at the suite's time."""
    module, sys.argv = sys.argv[1], sys.argv[1:]
    time_machine.travel(destination(), tick=True).start()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
