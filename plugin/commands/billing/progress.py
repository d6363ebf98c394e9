"""A push run's live progress: done / total rows and failures so far, on the run row and in the job's meta.

The push calls ``PushRun.publish_progress`` (``run.py``) after counting a row's outcome and when it renews its
lease (inside that transaction: no commit of its own), once with the number of rows it is about to push, and once
at the end. Writes are throttled to one every ``PSA_PUSH_PROGRESS_SECONDS`` (default 1, the pages' polling
period); the total and the final numbers are always written. Each write also records the run's counts by outcome,
its calls so far and its heartbeat (``heartbeat_at``), so a killed run's record keeps what it did and when it was
last alive.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from msphub_psa.daos.base import session
from msphub_psa.daos.runs import SyncRunHistoryDAO
from msphub_psa.jobqueue import publish_job_progress
from msphub_psa.settings import settings

DONE_OUTCOMES = ("pushed", "failed", "skipped", "blocked")
"""Run counts that mean a row is dealt with in this run (``recovered`` rows are counted again as pushed/failed)."""


class RunProgress:
    """Throttled publisher of one run's progress."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.interval = settings().push_progress_seconds
        self._last = time.monotonic()  # the run's start is its first heartbeat (written with its record)

    def publish(
        self,
        run_id: int | None,
        counts: Counter,
        total: int | None = None,
        final: bool = False,
        figures: Callable[[], dict] = dict,
    ) -> None:
        """Write the numbers when due, with ``figures()`` (counts and calls for the run row); ``total`` = rows
        still to push (commits its own write)."""
        done = sum(counts.get(outcome, 0) for outcome in DONE_OUTCOMES)
        if total is not None:
            self.total = done + total
        now = time.monotonic()
        if run_id is None or not (total is not None or final or now - self._last >= self.interval):
            return
        self._last = now
        values = {"run_id": run_id, "done": done, "total": self.total, "failed": counts.get("failed", 0)}
        SyncRunHistoryDAO.set_progress(run_id, done, self.total, values["failed"], **figures())
        if total is not None:
            session().commit()
        publish_job_progress(values)
