"""An idle worker stops within 10 s on SIGTERM, also right after it started (RQ's command listener then used to
hold the stop for its full 60 s wait: 61-63 s measured)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.fixtures import WorkerProcess

STOP_SECONDS = 10


def _listening(proc: WorkerProcess) -> bool:
    """The worker has subscribed to its command channel and waits for jobs."""
    proc.output.seek(0)
    return b"*** Listening on" in proc.output.read()


@pytest.mark.parametrize("scheduler", [True, False], ids=["with-scheduler", "without-scheduler"])
def test_an_idle_worker_stops_soon_on_sigterm(db_url, scheduler):
    proc = WorkerProcess(db_url, queues="fast,sync", scheduler=scheduler)
    try:
        deadline = time.monotonic() + 60  # only ends a hang
        while not _listening(proc):
            assert proc.proc.poll() is None and time.monotonic() < deadline, proc.stop()
            time.sleep(0.1)
        sent = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        proc.proc.wait(STOP_SECONDS + 50)
        stopped = time.monotonic() - sent
        # 0: a warm shut down; -SIGTERM: the signal came before RQ installed its handlers
        assert proc.proc.returncode in (0, -signal.SIGTERM) and stopped < STOP_SECONDS, (stopped, proc.stop())
    finally:
        proc.stop()
