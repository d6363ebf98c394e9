"""The operators' health endpoint."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import dispose, make_app


@pytest.fixture
def app(db_url, monkeypatch):
    """The host application on queues of its own: the process's other tests stop, and SIGKILL, workers on the
    shared queues, and RQ keeps a killed worker registered until its key expires."""
    monkeypatch.setenv("PSA_QUEUE_PREFIX", f"psa-health-{uuid.uuid4().hex[:8]}")
    application = make_app(db_url)
    yield application
    dispose(application)


def test_degraded_without_a_worker_then_ok_with_one(app, client, worker):
    body = client.get("/api/v1/psa_health/")
    assert body.status_code == 503
    data = body.get_json()
    assert data["database"] and data["redis"] and data["workers"] == 0 and data["status"] == "degraded"
    prefix = app.config["PSA_QUEUE_PREFIX"]
    assert set(data["queues"]) == {f"{prefix}-fast", f"{prefix}-sync", f"{prefix}-sync-later"}
    worker(queues="fast,sync")
    for _ in range(40):
        response = client.get("/api/v1/psa_health/")
        if response.status_code == 200:
            break
        time.sleep(0.25)
    assert response.status_code == 200 and response.get_json()["workers"] == 1


def test_a_killed_worker_stops_counting_within_90_seconds(app, worker):
    """RQ forgets a worker when its key expires: 90 s after its last heartbeat (``WORKER_TTL`` + 60), not 8 min."""
    from rq import Worker

    from msphub_psa.jobqueue import redis_connection

    with app.app_context():
        prefix = app.config["PSA_QUEUE_PREFIX"]

        def ours():
            return [w for w in Worker.all(connection=redis_connection()) if w.queue_names()[0].startswith(prefix)]

        started = worker(queues="fast,sync")
        for _ in range(120):
            if ours():
                break
            time.sleep(0.25)
        started.kill()
        registered = ours()
        assert len(registered) == 1
        assert 0 < redis_connection().ttl(registered[0].key) <= 90
        registered[0].register_death()


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:1/0"])
def test_redis_down_is_reported_not_raised(db_url, redis_url):
    application = make_app(db_url, REDIS_URL=redis_url)
    response = application.test_client().get("/api/v1/psa_health/")
    assert response.status_code == 503
    data = response.get_json()
    assert data["redis"] is False and data["database"] is True and data["errors"]
