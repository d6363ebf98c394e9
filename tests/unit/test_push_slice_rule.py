"""The slice rule of a push run (``PushRun._take_turns``): a short push keeps its short slice, a push that knows it
cannot end within it yields to a fresh job at once, as its continuation would."""

from __future__ import annotations

import math

import pytest

from msphub_psa.commands.billing import run as run_module
from msphub_psa.commands.billing.run import PushRun, SliceEnded
from msphub_psa.ratelimit import PartnerRateLimiter

REDIS = "redis://127.0.0.1:1/0"
"""No Redis answers there: the rule computes, it never takes a slot."""


def _run(asked: list[bool], per_minute: int | None, known_rows: int, waiting: bool = True) -> PushRun:
    def on_slice_end(slice_over: bool) -> bool:
        asked.append(slice_over)
        return waiting

    # the orchestrator's: the partner's limiter over a 60-second window (it reaches Redis only when asked to)
    limiter = PartnerRateLimiter(REDIS, 1, per_minute) if per_minute is not None else None

    return PushRun(
        partner_id=1,
        token="t",
        lease_seconds=60,
        max_tries=1,
        max_backoff=1,
        concurrency=4,
        batch_size=4,
        slice_seconds=30,
        short_slice_seconds=10,
        on_slice_end=on_slice_end,
        capacity=limiter.capacity if limiter is not None else lambda _seconds: math.inf,
        known_rows=known_rows,
        progress=None,  # the rule publishes nothing (its default reads the app's settings)
    )


@pytest.fixture(autouse=True)
def _no_renice(monkeypatch):
    monkeypatch.setattr(run_module, "lower_priority", lambda: None)


@pytest.mark.parametrize(
    ("per_minute", "known_rows", "long"),
    [
        (60, 70, False),  # 60 at once, then 1 a second: 70 rows can end within the 10-second short slice
        (60, 71, True),
        (300, 61, False),  # a small partner at the lowest limit: its burst covers it
        (1200, 1400, False),
        (1200, 5000, True),  # a large partner's first chunks of new outbox rows
        (None, 50_000, False),  # no request limit: nothing says how long it takes, the short slice holds
    ],
)
def test_a_run_within_its_short_slice_asks_the_queue_only_when_it_knows_it_outlasts_it(per_minute, known_rows, long):
    asked: list[bool] = []
    run = _run(asked, per_minute, known_rows)
    assert run.long is long
    if long:
        with pytest.raises(SliceEnded, match="where"):
            run._take_turns(0.5, True, "where")
        assert asked == [False]  # a fresh job, not the other pushes' continuations: its slice is not over
    else:
        run._take_turns(0.5, True, "where")
        assert asked == []


def test_a_long_run_with_nobody_waiting_goes_on_and_after_its_slice_yields_to_continuations_too():
    asked: list[bool] = []
    _run(asked, 60, 100, waiting=False)._take_turns(0.5, True, "where")
    assert asked == [False]
    with pytest.raises(SliceEnded):
        _run(asked, 60, 100)._take_turns(31, True, "where")
    assert asked == [False, True]


def test_a_run_waiting_for_its_window_asks_often_and_renews_its_lease_once_a_second(monkeypatch):
    clock = [100.0]

    class FakeTime:
        @staticmethod
        def monotonic() -> float:
            return clock[0]

        @staticmethod
        def sleep(seconds: float) -> None:
            clock[0] += seconds

    monkeypatch.setattr(run_module, "time", FakeTime)
    beats: list[float] = []
    run = _run([], 60, 0)
    run._beat = clock[0]
    run.heartbeat = lambda: (beats.append(clock[0]), setattr(run, "_beat", clock[0]))  # type: ignore[method-assign]
    for _ in range(15):
        run._pause(30.0)  # the window frees a slot in 30 s: each pause is one look at the queues
    assert clock[0] == pytest.approx(100.0 + 15 * run_module.ROOM_WAIT)
    assert beats == pytest.approx([101.0, 102.0, 103.0])  # 3 s of waiting: 15 looks at the queues, 3 renewals
