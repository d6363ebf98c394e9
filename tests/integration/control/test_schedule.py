"""The sync schedule on real Redis and the sandbox: a slot fires once (two ticks, two racing schedulers), the
scheduled run respects approval, and a partner whose feature or integration is off gets nothing written."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from msphub_psa import clock
from msphub_psa.commands.billing.preview import ApprovePreviewCommand
from msphub_psa.commands.billing.schedule import ScheduleTickCommand
from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand
from msphub_psa.commands.integration import DeactivateIntegrationCommand
from msphub_psa.daos.base import session
from msphub_psa.domain.schedule import slot_instant, zone
from msphub_psa.jobqueue import SYNC, get_queue, scheduled_job_id
from msphub_psa.models.hub import Partner
from msphub_psa.models.sync import SyncPreview, SyncSettings
from msphub_psa.models.tenancy import AuditEvent, PartnerFeature
from msphub_psa.tasks import scheduled_sync
from tests.support.clock import command
from tests.support.control import preview_row, run_queued
from tests.support.dump import diff, dump_tables
from tests.support.push import by_reference, cw_records, expected_transactions, items, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

TZ = "America/New_York"


@pytest.fixture(autouse=True)
def _empty_sync_queue(app):
    """Jobs a test leaves queued must not reach a later test's worker."""
    yield
    with app.app_context():
        get_queue(SYNC).empty()


def _scheduled(partner_id: int) -> list[str]:
    """Scheduled-run job ids of the partner waiting in the sync queue."""
    prefix = scheduled_job_id(partner_id, dt.datetime(2000, 1, 1)).rsplit("-", 1)[0]
    return [j for j in get_queue(SYNC).job_ids if j.startswith(prefix + "-")]


def _set_up(cw_live, approval: str = "never", customers: int = 1):
    """The pilot mapped on the sandbox, in New York, scheduled daily at 06:00; the next slot two days ahead."""
    partner_id, actor, chosen = push_setup(cw_live, customers=customers)
    session().get(Partner, partner_id).timezone = TZ
    session().commit()
    UpdateSyncSettingsCommand(
        actor,
        {
            "schedule_enabled": True,
            "schedule_time": "06:00",
            "schedule_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "approval": approval,
        },
        partner_id,
    ).run()
    local_day = clock.today(TZ) + dt.timedelta(days=2)
    return partner_id, actor, chosen, slot_instant(local_day, dt.time(6), zone(TZ))


def test_a_slot_fires_once_for_two_ticks_and_again_the_next_day(ctx, cw_live):
    partner_id, _actor, _chosen, slot = _set_up(cw_live)
    before = ScheduleTickCommand(slot - dt.timedelta(minutes=1)).run()
    assert before == [] and _scheduled(partner_id) == []
    first = ScheduleTickCommand(slot + dt.timedelta(seconds=20)).run()
    second = ScheduleTickCommand(slot + dt.timedelta(seconds=80)).run()  # the next minute's tick
    later = ScheduleTickCommand(slot + dt.timedelta(hours=2)).run()  # still inside the catch-up window
    assert [p for p, _s in first] == [partner_id] and second == [] and later == []
    assert _scheduled(partner_id) == [scheduled_job_id(partner_id, slot)]
    assert session().scalar(select(SyncSettings.last_slot_at).where(SyncSettings.partner_id == partner_id)) is not None
    next_day = slot + dt.timedelta(days=1)
    assert ScheduleTickCommand(next_day + dt.timedelta(seconds=5)).run() == [(partner_id, next_day)]
    assert len(_scheduled(partner_id)) == 2


def test_two_schedulers_ticking_at_once_start_one_run(app, cw_live):
    with app.app_context():
        partner_id, _actor, _chosen, slot = _set_up(cw_live)
        session().remove()
    barrier, started, errors = threading.Barrier(2), [], []

    def tick():
        with app.app_context():
            try:
                barrier.wait(5)
                started.extend(ScheduleTickCommand(slot + dt.timedelta(seconds=30)).run())
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                session().remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and started == [(partner_id, slot)]
    with app.app_context():
        assert _scheduled(partner_id) == [scheduled_job_id(partner_id, slot)]


def test_a_scheduled_run_with_approval_prepares_a_preview_and_pushes_nothing_until_approved(ctx, cw_live):
    partner_id, actor, chosen, slot = _set_up(cw_live, approval="always")
    ScheduleTickCommand(slot + dt.timedelta(seconds=10)).run()
    start = cw_live.requests()[-1]["seq"]
    outcome = run_queued(scheduled_job_id(partner_id, slot))
    assert outcome["status"] == "awaiting_approval"
    preview = preview_row(outcome["preview_id"])
    assert (preview.source, preview.prepared_by, preview.status) == ("schedule", "system", "awaiting_approval")
    assert [r for r in cw_live.requests(start) if r["method"] != "GET"] == [] and items(partner_id) == []

    ApprovePreviewCommand(actor, preview.id, partner_id).run_inline()
    txs = expected_transactions(chosen)
    agreements = {r.agreement_remote_id for r in items(partner_id)}
    additions, adjustments = cw_records(cw_live, agreements)
    pushed = set(by_reference(additions, "serialNumber")) | set(by_reference(adjustments, "description"))
    assert pushed == {t.id for t in txs}


def test_a_scheduled_run_without_approval_pushes_and_is_audited(ctx, cw_live):
    partner_id, _actor, chosen, slot = _set_up(cw_live, approval="never")
    ScheduleTickCommand(slot + dt.timedelta(seconds=10)).run()
    outcome = run_queued(scheduled_job_id(partner_id, slot))
    assert outcome["status"] == "succeeded" and outcome["counts"]["pushed"] == len(expected_transactions(chosen))
    assert session().scalar(select(SyncPreview.id).where(SyncPreview.partner_id == partner_id)) is None
    audit = session().scalar(select(AuditEvent).where(AuditEvent.action == "sync.schedule"))
    assert audit.username == "system" and audit.detail["run_id"] == outcome["run_id"]


@pytest.mark.parametrize("stop", ["feature off", "deactivated"])
def test_a_scheduled_run_for_a_stopped_partner_writes_nothing(app, cw_live, stop):
    with app.app_context():
        partner_id, actor, _chosen, slot = _set_up(cw_live)
        if stop == "feature off":
            session().scalar(select(PartnerFeature).where(PartnerFeature.partner_id == partner_id)).enabled = False
            session().commit()
        else:
            DeactivateIntegrationCommand(actor, partner_id).run()
        start = cw_live.requests()[-1]["seq"]
        session().remove()
    before = dump_tables(app)
    with app.app_context():
        assert ScheduleTickCommand(slot + dt.timedelta(seconds=10)).run() == []  # not even a slot is claimed
        assert _scheduled(partner_id) == []
        outcome = scheduled_sync(partner_id, slot.isoformat())  # a run queued before the stop: does nothing
        assert outcome["status"] == "skipped"
        session().remove()
    assert diff(before, dump_tables(app)) == {}
    assert cw_live.requests(start) == []


@pytest.mark.worker
def test_the_scheduler_process_enqueues_the_tick_and_a_worker_runs_it(app, db_url, cw_live, worker):
    import os
    import subprocess
    import time

    from rq.job import Job

    from msphub_psa.jobqueue import FAST, redis_connection
    from tests.support.fixtures import ROOT

    with app.app_context():
        partner_id, _actor, _chosen, _slot = _set_up(cw_live)
        get_queue(FAST).empty()
        session().remove()
    env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "app"}
    proc = subprocess.Popen(
        command("flask", "psa", "scheduler"), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        with app.app_context():
            deadline, ticks = time.monotonic() + 20, []
            while not ticks and time.monotonic() < deadline:
                ticks = [
                    j
                    for j in get_queue(FAST).job_ids
                    if Job.fetch(j, connection=redis_connection()).func_name == "msphub_psa.tasks.schedule_tick"
                ]
                time.sleep(0.2)
            assert ticks, "the scheduler enqueued no tick"
            worker(queues="fast")
            job = Job.fetch(ticks[0], connection=redis_connection())
            deadline = time.monotonic() + 20
            while job.get_status(refresh=True) not in ("finished", "failed") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert job.get_status() == "finished" and job.return_value() == []  # no slot is due yet
            row = session().scalar(select(SyncSettings).where(SyncSettings.partner_id == partner_id))
            assert row.last_slot_at is None
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_partner_without_settings_runs_daily_at_the_default_time_with_approval(ctx, cw_live):
    partner_id, _actor, _chosen = push_setup(cw_live, customers=1)
    session().get(Partner, partner_id).timezone = TZ
    session().commit()
    assert session().scalar(select(SyncSettings).where(SyncSettings.partner_id == partner_id)) is None
    slot = slot_instant(clock.today(TZ) + dt.timedelta(days=1), dt.time(6), zone(TZ))
    assert ScheduleTickCommand(slot - dt.timedelta(seconds=30)).run() == []
    assert session().scalar(select(SyncSettings).where(SyncSettings.partner_id == partner_id)) is None
    assert ScheduleTickCommand(slot + dt.timedelta(seconds=30)).run() == [(partner_id, slot)]
    assert ScheduleTickCommand(slot + dt.timedelta(seconds=90)).run() == []
    row = session().scalar(select(SyncSettings).where(SyncSettings.partner_id == partner_id))
    assert (row.schedule_time, row.approval) == ("06:00", "default")
    outcome = run_queued(scheduled_job_id(partner_id, slot))
    assert outcome["status"] == "awaiting_approval"  # no push has succeeded yet: the default asks for approval
