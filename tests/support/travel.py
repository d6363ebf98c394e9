"""Run a Python module at the suite's pinned time: ``python tests/support/travel.py MODULE [ARGS...]``.

The test that starts the process sets ``PSA_TEST_CLOCK`` to ``<pinned instant>@<real epoch>``; this process
travels (time-machine) to that instant plus the real time gone since, and ticks from there, so every process
of a test reads the same "now". Standalone (time-machine only), so another virtualenv can run it.
"""

from __future__ import annotations

import datetime as dt
import os
import runpy
import sys
import time

import time_machine

ANCHOR = "PSA_TEST_CLOCK"


def real_time() -> float:
    """The machine's real time, whatever travel is on."""
    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def destination() -> dt.datetime | None:
    """Where a process started now travels to (None without an anchor)."""
    raw = os.environ.get(ANCHOR)
    if not raw:
        return None
    instant, real = raw.rsplit("@", 1)
    return dt.datetime.fromisoformat(instant) + dt.timedelta(seconds=real_time() - float(real))


def main() -> None:
    """Travel, then run the module named first as ``__main__`` with the remaining arguments."""
    module, sys.argv = sys.argv[1], sys.argv[1:]
    target = destination()
    if target is not None:
        time_machine.travel(target, tick=True).start()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
