"""The tick's side of a crash, in this process: a run still ``running`` whose lease expired is marked abandoned
once, at its last heartbeat, with one alert, and its push is enqueued again as Sync now would (a queue that does
not answer leaves it for the next tick; approval required now gives a preview awaiting approval instead)."""

from __future__ import annotations

import datetime as dt

import pytest

from msphub_psa import clock
from msphub_psa.commands.billing import recovery
from msphub_psa.commands.billing.schedule import ScheduleTickCommand
from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.control import SyncPreviewDAO
from msphub_psa.daos.outbox import SyncLeaseDAO
from msphub_psa.jobqueue import QueueUnavailable, push_waiting
from msphub_psa.models.sync import SyncLease, SyncRun
from tests.support import alerts
from tests.support.push import push_setup, without_approval
from tests.support.settings import configure

pytestmark = pytest.mark.usefixtures("empty_sync_queues")


@pytest.fixture
def recorded_alerts(ctx):
    """Alerts handed over in this process."""
    configure(ctx, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record")
    alerts.SENT.clear()
    yield alerts.SENT
    alerts.SENT.clear()


def _dead_run(partner_id: int, lease_left: float) -> SyncRun:
    """A run whose worker died 70 s after it started, 10 s after its last heartbeat; its lease expires in
    ``lease_left`` seconds (negative: expired)."""
    SyncLeaseDAO.ensure(partner_id)
    assert SyncLeaseDAO.acquire(partner_id, "dead-worker", 30)[0]
    now = clock.now()
    run = SyncRun(
        partner_id=partner_id,
        status="running",
        requested_by="pilot.admin",
        started_at=now - dt.timedelta(seconds=80),
        heartbeat_at=now - dt.timedelta(seconds=10),
        counts={"pushed": 8},
        psa_calls=11,
        writes=8,
        catalog_calls=3,
    )
    session().add(run)
    session().flush()
    SyncLeaseDAO.renew(partner_id, "dead-worker", lease_left, run_id=run.id)
    session().commit()
    return run


def _fresh(run_id: int) -> SyncRun:
    session().expire_all()
    return session().get(SyncRun, run_id)


def test_abandoned_at_its_heartbeat_once_with_its_figures_and_resumed(ctx, cw_live, recorded_alerts, monkeypatch):
    partner_id, actor, _customers = push_setup(cw_live, customers=1)
    without_approval(actor, partner_id)
    live = _dead_run(partner_id, lease_left=30)
    ScheduleTickCommand().run()
    assert _fresh(live.id).status == "running" and not push_waiting(partner_id)  # its lease is still live

    SyncLeaseDAO.renew(partner_id, "dead-worker", -1)
    session().commit()

    def queue_down(*_args, **_kwargs):
        raise QueueUnavailable("down")

    monkeypatch.setattr(recovery, "enqueue_push", queue_down)
    ScheduleTickCommand().run()
    assert _fresh(live.id).status == "running" and recorded_alerts == []  # the next tick tries again
    monkeypatch.undo()

    resumed = recovery.ResumeAbandonedRunsCommand().run()
    assert [(r.run_id, r.started) for r in resumed] == [(live.id, "push")]
    run = _fresh(live.id)
    assert run.status == "abandoned" and run.finished_at == run.heartbeat_at
    assert (run.counts, run.psa_calls, run.writes, run.catalog_calls) == ({"pushed": 8}, 11, 8, 3)
    assert [(e.run_id, e.status) for e in recorded_alerts] == [(live.id, "abandoned")]
    assert push_waiting(partner_id)
    lease = session().query(SyncLease).filter_by(partner_id=partner_id).one()
    assert lease.holder is None  # freed: the dead run can no longer renew it
    assert recovery.ResumeAbandonedRunsCommand().run() == [] and len(recorded_alerts) == 1  # once


def test_approval_required_by_now_prepares_a_preview_instead(ctx, cw_live, recorded_alerts):
    partner_id, actor, _customers = push_setup(cw_live, customers=1)
    UpdateSyncSettingsCommand(actor, {"approval": "always"}, partner_id).run()
    dead = _dead_run(partner_id, lease_left=-1)
    resumed = recovery.ResumeAbandonedRunsCommand().run()
    assert [(r.run_id, r.started) for r in resumed] == [(dead.id, "preview")]
    assert _fresh(dead.id).status == "abandoned" and len(recorded_alerts) == 1
    assert not push_waiting(partner_id)
    assert SyncPreviewDAO.awaiting(partner_id) is not None
