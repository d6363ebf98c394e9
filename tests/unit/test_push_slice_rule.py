"""The slice rule of a push run (``PushRun._take_turns``): a short push keeps its short slice, a push that knows it
cannot end within it yields to a fresh job at once, as its continuation would."""

from __future__ import annotations

import pytest

from msphub_psa.commands.billing import run as run_module
from msphub_psa.commands.billing.run import PushRun, SliceEnded


def _run(asked: list[bool], rate: float, known_rows: int, waiting: bool = True) -> PushRun:
    def on_slice_end(slice_over: bool) -> bool:
        asked.append(slice_over)
        return waiting

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
        rate=lambda: rate,
        known_rows=known_rows,
        progress=None,  # the rule publishes nothing (its default reads the app's settings)
    )


@pytest.fixture(autouse=True)
def _no_renice(monkeypatch):
    monkeypatch.setattr(run_module, "lower_priority", lambda: None)


@pytest.mark.parametrize(
    ("rate", "known_rows", "long"),
    [
        (2.0, 20, False),  # 20 rows at 2 a second: the push can end within its 10-second short slice
        (2.0, 21, True),
        (20.0, 200, False),
        (20.0, 1000, True),  # a full chunk of new outbox rows at 1,200 requests a minute
        (0.0, 50_000, False),  # no request limit: nothing says how long it takes, the short slice holds
    ],
)
def test_a_run_within_its_short_slice_asks_the_queue_only_when_it_knows_it_outlasts_it(rate, known_rows, long):
    asked: list[bool] = []
    run = _run(asked, rate, known_rows)
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
    _run(asked, 2.0, 100, waiting=False)._take_turns(0.5, True, "where")
    assert asked == [False]
    with pytest.raises(SliceEnded):
        _run(asked, 2.0, 100)._take_turns(31, True, "where")
    assert asked == [False, True]
