"""Fairness between partners: a push yields its worker at a batch boundary once its delivery has run its short slice
(``PSA_PUSH_SHORT_SLICE_SECONDS``) and a fresh job waits in the sync queue, or its slice (``PSA_PUSH_SLICE_SECONDS``)
and another push's continuation waits; it queues its continuation on ``sync-later`` (which workers serve after every
fresh job) and ends ``yielded``; the continuation resumes where it stopped. Exactly once holds across slices, a
yielded run neither alerts nor looks abandoned, and small partners' pushes queued behind a large one run before it
continues; with nobody waiting a push goes on. No test here measures time: slices are made tiny (or endless) so
that what waits decides."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from msphub_psa.commands.billing import orchestrator
from msphub_psa.commands.billing import outbox as outbox_module
from msphub_psa.commands.billing import run as run_module
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.recovery import ResumeAbandonedRunsCommand
from msphub_psa.commands.psa_client import partner_limiter
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import SyncLeaseDAO
from msphub_psa.daos.runs import SyncRunHistoryDAO
from msphub_psa.jobqueue import (
    QueueUnavailable,
    enqueue_push,
    enqueue_unique,
    get_queue,
    redis_connection,
    serving,
)
from msphub_psa.models.sync import SyncItem, SyncRun
from tests.support import tenants
from tests.support.fleet import partner_on_sandbox
from tests.support.push import add_history, by_reference, cw_records, expected_transactions, items, push_setup
from tests.support.settings import configure

TINY = 0.001
"""A slice every batch outlasts: a push yields after its first batch whenever another job waits."""
ENDLESS = 3600.0
"""A slice no test reaches: only a fresh push waiting makes the push yield."""
MARK = "tests.support.jobs.mark_if_allowed"


def _runs(partner_id: int) -> list[SyncRun]:
    session().expire_all()
    return list(session().scalars(select(SyncRun).where(SyncRun.partner_id == partner_id).order_by(SyncRun.id)))


def _exactly_once(cw_live, partner_id: int, customers: list[int]) -> int:
    """Every transaction of the customers carries its reference exactly once in the sandbox; how many."""
    txs = expected_transactions(customers)
    rows = items(partner_id)
    assert {r.state for r in rows} == {"pushed"}, {r.state for r in rows}
    additions, adjustments = cw_records(cw_live, {r.agreement_remote_id for r in rows})
    refs = by_reference(additions, "serialNumber") + by_reference(adjustments, "description")
    ours = {t.id for t in txs}
    assert {ref: n for ref, n in refs.items() if ref in ours} == dict.fromkeys(ours, 1)
    return len(txs)


def _drain(app) -> None:
    """Run the sync queues in this process until they are empty (continuations included)."""
    queues = [get_queue(kind) for kind in serving(["sync"])]
    SimpleWorker(queues, connection=redis_connection()).work(burst=True)


def _next_jobs() -> list[tuple[str, tuple]]:
    """The waiting jobs in the order a sync worker takes them (RQ's ``dequeue_any`` over the queues it serves)."""
    return [(j.func_name, j.args) for kind in serving(["sync"]) for j in get_queue(kind).get_jobs()]


def test_a_push_yields_after_its_slice_without_alert_and_its_continuations_finish_exactly_once(
    ctx, cw_live, empty_sync_queues
):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    total = len(expected_transactions(customers))
    enqueue_unique("sync", MARK, partner_id, "slices", job_id=f"test-{uuid.uuid4().hex}")
    first = PushBillingCommand(partner_id, "pilot.admin", slice_seconds=TINY, concurrency=4).run()

    assert first.status == "yielded", first.error
    assert first.counts["pushed"] == 4 and "Yielded" in first.error
    run = session().get(SyncRun, first.run_id)
    assert run.status == "yielded" and run.finished_at is not None and run.alert_sent_at is None
    assert run.progress_done == 4 and run.progress_total == total
    states = {r.state for r in items(partner_id)}
    assert states == {"pushed", "pending"}  # nothing left in ``sending``: the slice ends between two batches
    assert not SyncLeaseDAO.is_held(partner_id)
    # not abandoned, not alerting, not "running"
    assert ResumeAbandonedRunsCommand().run() == []
    assert session().get(SyncRun, first.run_id).status == "yielded"
    assert SyncRunHistoryDAO.open_alerts(partner_id)[0] is None
    assert SyncRunHistoryDAO.running(partner_id) is None
    # its continuation waits on sync-later: a push queued after it still goes first
    enqueue_unique("sync", MARK, partner_id, "later", job_id=f"test-{uuid.uuid4().hex}")
    assert _next_jobs() == [
        (MARK, (partner_id, "slices")),
        (MARK, (partner_id, "later")),
        ("msphub_psa.tasks.push_billing", (partner_id, "pilot.admin", 0, first.run_id)),
    ]

    configure(ctx, PSA_PUSH_SLICE_SECONDS=TINY, PSA_PUSH_BATCH_SIZE=16)
    _drain(ctx)  # the waiting job, then the continuation: nobody waits behind it, it goes on slice after slice

    runs = _runs(partner_id)
    assert [r.status for r in runs] == ["yielded", "succeeded"] and runs[-1].error is None
    assert [r.continues_run_id for r in runs] == [None, first.run_id]  # the chain of slices
    assert all(r.alert_sent_at is None for r in runs)
    assert sum((r.counts or {}).get("pushed", 0) for r in runs) == total
    assert _exactly_once(cw_live, partner_id, customers) == total
    assert sum(r.writes for r in runs) == total  # one create per record, over all the slices


def test_with_nobody_waiting_a_push_goes_on_slice_after_slice_in_one_run_in_the_background(
    ctx, cw_live, empty_sync_queues, monkeypatch
):
    lowered = []
    monkeypatch.setattr(run_module, "lower_priority", lambda: lowered.append(True))
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    kept = PushBillingCommand(partner_id, slice_seconds=ENDLESS, short_slice_seconds=ENDLESS, concurrency=4).run()
    assert kept.status == "succeeded" and kept.counts["pushed"] > 4 and lowered == []  # within its short slice
    add_history(partner_id, customers, len(expected_transactions(customers)) + 20)
    result = PushBillingCommand(partner_id, slice_seconds=TINY, concurrency=4).run()
    assert result.status == "succeeded", result.error
    assert len(_runs(partner_id)) == 2 and _next_jobs() == []
    assert lowered  # past its short slice with nobody waiting: it goes on, as background work
    assert _exactly_once(cw_live, partner_id, customers) == kept.counts["pushed"] + result.counts["pushed"]


def test_a_fresh_job_waiting_ends_the_short_slice_a_continuation_only_the_full_one(ctx, cw_live, empty_sync_queues):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    other = tenants.partner(1).id
    # another partner's continuation waits: before the slice is over, the push goes on to its end
    enqueue_unique("sync-later", MARK, other, "continuation", job_id=f"test-{uuid.uuid4().hex}")
    result = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4).run()
    assert result.status == "succeeded", result.error
    assert len(_runs(partner_id)) == 1

    add_history(partner_id, customers, len(expected_transactions(customers)) + 20)
    # a fresh job waits, but the push has not delivered for its short slice: it goes on
    enqueue_unique("sync", MARK, other, "early", job_id=f"test-{uuid.uuid4().hex}")
    kept = PushBillingCommand(partner_id, slice_seconds=ENDLESS, short_slice_seconds=ENDLESS, concurrency=4).run()
    assert kept.status == "succeeded", kept.error
    get_queue("sync").empty()
    add_history(partner_id, customers, len(expected_transactions(customers)) + 20)
    # a fresh job waits: with no short slice the push yields after its first batch, however long its slice
    enqueue_unique("sync", MARK, other, "fresh", job_id=f"test-{uuid.uuid4().hex}")
    result = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4).run()
    assert result.status == "yielded" and result.counts["pushed"] == 4, result.error
    assert _next_jobs() == [
        (MARK, (other, "fresh")),
        (MARK, (other, "continuation")),
        ("msphub_psa.tasks.push_billing", (partner_id, "system", 0, result.run_id)),
    ]
    # a continuation yields to a fresh job at its first batch boundary, whatever its slices
    enqueue_unique("sync", MARK, other, "fresh again", job_id=f"test-{uuid.uuid4().hex}")
    cont = PushBillingCommand(
        partner_id, slice_seconds=ENDLESS, short_slice_seconds=ENDLESS, concurrency=4, continues=result.run_id
    ).run(wait=True)
    assert cont.status == "yielded" and cont.counts["pushed"] == 4, cont.error
    get_queue("sync").empty()
    # only continuations wait and the slice is over: it yields to them, its own continuation behind them
    nxt = PushBillingCommand(partner_id, slice_seconds=TINY, concurrency=4, continues=result.run_id).run(wait=True)
    assert nxt.status == "yielded", nxt.error
    assert _next_jobs() == [  # its continuation joins the partner's push still waiting there
        (MARK, (other, "continuation")),
        ("msphub_psa.tasks.push_billing", (partner_id, "system", 0, result.run_id)),
    ]
    get_queue("sync-later").empty()
    PushBillingCommand(partner_id, concurrency=4).run()
    assert _exactly_once(cw_live, partner_id, customers) == len(expected_transactions(customers))


def test_the_partners_own_push_waiting_does_not_end_the_slice(ctx, cw_live, empty_sync_queues):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    own, _created = enqueue_push(partner_id, "pilot.admin")  # e.g. Sync now clicked again while it runs
    result = PushBillingCommand(partner_id, slice_seconds=TINY, concurrency=4).run()
    assert result.status == "succeeded", result.error  # it would deliver the same rows: no reason to yield
    assert _next_jobs() == [("msphub_psa.tasks.push_billing", (partner_id, "pilot.admin"))]
    assert _exactly_once(cw_live, partner_id, customers) == result.counts["pushed"]


def test_a_run_whose_request_limit_is_spent_waits_between_batches_and_yields_to_a_job_arriving_meanwhile(
    ctx, cw_live, empty_sync_queues
):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    add_history(partner_id, customers, len(expected_transactions(customers)) + 60)
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=30, PSA_CW_RATE_WINDOW_SECONDS=60)
    limiter = partner_limiter(partner_id)
    limiter.clear()
    arrived = threading.Event()

    def arrive() -> None:
        """Once the window is spent (the next batch would wait most of a minute), a job arrives."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and limiter.room(4) <= 1:
            time.sleep(0.05)
        with ctx.app_context():
            enqueue_unique("sync", MARK, tenants.partner(1).id, "meanwhile", job_id=f"test-{uuid.uuid4().hex}")
        arrived.set()

    thread = threading.Thread(target=arrive)
    thread.start()
    result = PushBillingCommand(partner_id, slice_seconds=ENDLESS, short_slice_seconds=TINY, concurrency=4).run()
    thread.join()
    assert arrived.is_set()
    assert result.status == "yielded", result.error
    # it gave the worker back while the window was still spent: it did not sit out the minute inside a batch
    assert limiter.room(4) > 0 and 0 < result.counts["pushed"] < len(expected_transactions(customers))


def test_a_continuation_whose_request_limit_is_spent_yields_to_a_fresh_job_before_its_steps(
    ctx, cw_live, empty_sync_queues
):
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    other = tenants.partner(1).id
    enqueue_unique("sync", MARK, other, "fresh", job_id=f"test-{uuid.uuid4().hex}")
    first = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4).run()
    assert first.status == "yielded", first.error  # no short slice: it yields after its first batch
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=30, PSA_CW_RATE_WINDOW_SECONDS=60)
    limiter = partner_limiter(partner_id)
    limiter.clear()
    while limiter.room(4) <= 1:
        limiter()  # the slice before spent the partner's window
    calls = len(cw_live.requests())
    runs_before = SyncRunHistoryDAO.page(partner_id, 1, 1)[1]
    cont = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4, continues=first.run_id).run(wait=True)
    assert cont.status == "yielded" and "its request limit was spent" in cont.error
    assert cont.counts.get("pushed", 0) == 0 and cont.psa_calls == 0 and len(cw_live.requests()) == calls
    # it did nothing: no row in the run history, and the push it queues still continues the first run
    assert cont.run_id is None and f"continues run {first.run_id}" in cont.error
    assert SyncRunHistoryDAO.page(partner_id, 1, 1)[1] == runs_before
    assert _next_jobs()[-1] == ("msphub_psa.tasks.push_billing", (partner_id, "system", 0, first.run_id))
    get_queue("sync").empty()
    get_queue("sync-later").empty()
    limiter.clear()
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=600, PSA_CW_RATE_WINDOW_SECONDS=60)
    last = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4, continues=first.run_id).run(wait=True)
    assert last.status == "succeeded", last.error  # nobody waits: it goes on, where the first run stopped
    assert _exactly_once(cw_live, partner_id, customers) == first.counts["pushed"] + last.counts["pushed"]


def test_the_steps_before_delivery_yield_to_a_fresh_job_between_chunks_and_the_push_ends_exactly_once(
    ctx, cw_live, empty_sync_queues, monkeypatch
):
    monkeypatch.setattr(outbox_module, "CHUNK", 4)  # the outbox steps go 4 rows at a time
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    enqueue_unique("sync", MARK, tenants.partner(1).id, "fresh", job_id=f"test-{uuid.uuid4().hex}")
    first = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4).run()
    assert first.status == "yielded" and "(new outbox rows," in first.error
    assert first.counts.get("pushed", 0) == 0 and first.psa_calls == 0 and len(items(partner_id)) == 4
    # an approved preview's push never yields in its steps: it adds every other row (and pushes none of them)
    assert PushBillingCommand(partner_id, slice_seconds=ENDLESS, only_transactions=set()).run().status != "yielded"
    assert len(items(partner_id)) == len(expected_transactions(customers))
    # the fresh job still waits: a continuation yields while it follows eligibility, before any call
    cont = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4, continues=first.run_id).run(wait=True)
    assert cont.status == "yielded" and "(eligibility," in cont.error
    assert cont.counts.get("pushed", 0) == 0 and cont.psa_calls == 0
    get_queue("sync").empty()
    get_queue("sync-later").empty()
    last = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4, continues=cont.run_id).run(wait=True)
    assert last.status == "succeeded", last.error  # nobody waits: it goes on to the end
    assert _exactly_once(cw_live, partner_id, customers) == len(expected_transactions(customers))


def test_a_first_run_that_knows_it_outlasts_its_short_slice_yields_to_a_fresh_job_at_once(
    ctx, cw_live, empty_sync_queues, monkeypatch
):
    monkeypatch.setattr(outbox_module, "CHUNK", 4)
    partner_id, _actor, customers = push_setup(cw_live, customers=3)
    total = len(expected_transactions(customers))
    assert total > 12
    # 1 request a minute: a 600-second short slice sends 11 requests (1 at once, then 10), so 12 rows cannot end in it
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=1, PSA_CW_RATE_WINDOW_SECONDS=60)
    partner_limiter(partner_id).clear()
    enqueue_unique("sync", MARK, tenants.partner(1).id, "fresh", job_id=f"test-{uuid.uuid4().hex}")
    first = PushBillingCommand(partner_id, slice_seconds=ENDLESS, short_slice_seconds=600, concurrency=4).run()
    assert first.status == "yielded" and "(new outbox rows," in first.error, first.error
    # within its short slice: it held on while it knew 4 and 8 rows, and yielded once it knew 12, before any call
    assert len(items(partner_id)) == 12 and first.psa_calls == 0
    assert _next_jobs()[-1] == ("msphub_psa.tasks.push_billing", (partner_id, "system", 0, first.run_id))
    get_queue("sync").empty()
    get_queue("sync-later").empty()
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=600)
    partner_limiter(partner_id).clear()
    last = PushBillingCommand(partner_id, slice_seconds=ENDLESS, concurrency=4, continues=first.run_id).run(wait=True)
    assert last.status == "succeeded", last.error
    assert _exactly_once(cw_live, partner_id, customers) == total


def test_a_run_waiting_for_its_request_limit_with_nobody_waiting_goes_on_to_its_end(ctx, cw_live, empty_sync_queues):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    configure(ctx, PSA_CW_REQUESTS_PER_MINUTE=240, PSA_CW_RATE_WINDOW_SECONDS=2)  # 8 requests every 2 s
    partner_limiter(partner_id).clear()
    result = PushBillingCommand(partner_id, slice_seconds=TINY, short_slice_seconds=TINY, concurrency=4).run()
    assert result.status == "succeeded", result.error
    assert _exactly_once(cw_live, partner_id, customers) == result.counts["pushed"]


def test_without_a_queue_the_slice_does_not_end_and_the_run_goes_to_its_end(ctx, cw_live, monkeypatch):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)

    def down(*_args, **_kwargs):
        raise QueueUnavailable("Connection refused")

    monkeypatch.setattr(orchestrator, "jobs_waiting", down)
    result = PushBillingCommand(partner_id, slice_seconds=TINY, concurrency=4).run()
    assert result.status == "succeeded", result.error
    assert _exactly_once(cw_live, partner_id, customers) == result.counts["pushed"]


def test_an_approved_previews_push_and_an_inline_push_never_yield(ctx, cw_live):
    partner_id, _actor, customers = push_setup(cw_live, customers=2)
    chosen = {t.id for t in expected_transactions(customers)}
    result = PushBillingCommand(partner_id, only_transactions=chosen, slice_seconds=TINY, concurrency=4).run()
    assert result.status == "succeeded" and result.counts["pushed"] == len(chosen)
    assert PushBillingCommand(partner_id).run().status == "succeeded"  # no slice given: none


@pytest.mark.worker
def test_small_partners_push_while_a_large_one_is_unfinished_and_it_resumes_exactly_once(
    app, cw_live, worker, empty_sync_queues, monkeypatch
):
    with app.app_context():
        large, _actor, large_customers = push_setup(cw_live, customers=4)
        add_history(large, large_customers, 200)
        small = {p: partner_on_sandbox(cw_live, p, customers=1) for p in (tenants.partner(1).id, tenants.partner(2).id)}
        assert all(small.values())
        for partner_id in (large, *small):  # the large partner's push first in the queue
            enqueue_push(partner_id, "system")
    monkeypatch.setenv("PSA_PUSH_SLICE_SECONDS", str(TINY))
    monkeypatch.setenv("PSA_PUSH_BATCH_SIZE", "25")
    proc = worker(queues="sync", scheduler=False)  # one worker: the queue's order is the order of the runs

    with app.app_context():
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            session().expire_all()
            left = session().scalar(
                select(func.count()).select_from(SyncItem).where(SyncItem.state.in_(("pending", "sending")))
            )
            running = session().scalar(select(func.count()).select_from(SyncRun).where(SyncRun.status == "running"))
            if _runs(large) and left == 0 and running == 0 and not _next_jobs():
                break
            time.sleep(0.5)
        else:
            raise AssertionError(proc.stop())

        large_runs = _runs(large)
        assert large_runs[0].status == "yielded" and large_runs[-1].status == "succeeded"
        assert [r.continues_run_id for r in large_runs] == [None] + [r.id for r in large_runs[:-1]]
        for partner_id in small:
            (run,) = _runs(partner_id)
            assert run.status == "succeeded", run.error
            # started after the large push's first slice, before its continuation; done before it went on
            assert large_runs[0].id < run.id < large_runs[1].id
            assert run.finished_at <= large_runs[1].started_at
        assert all(r.alert_sent_at is None for r in large_runs)
        assert _exactly_once(cw_live, large, large_customers) == 200
        for partner_id, customers in small.items():
            assert _exactly_once(cw_live, partner_id, customers) > 0
