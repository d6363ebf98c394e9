"""The operators' health endpoint."""

from __future__ import annotations

import pytest


def test_degraded_without_a_worker_then_ok_with_one(app, client, worker):
    body = client.get("/api/v1/psa_health/")
    assert body.status_code == 503
    data = body.get_json()
    assert data["database"] and data["redis"] and data["workers"] == 0 and data["status"] == "degraded"
    prefix = app.config["PSA_QUEUE_PREFIX"]
    assert set(data["queues"]) == {f"{prefix}-fast", f"{prefix}-sync", f"{prefix}-sync-later"}
    worker(queues="fast,sync")
    import time

    for _ in range(40):
        response = client.get("/api/v1/psa_health/")
        if response.status_code == 200:
            break
        time.sleep(0.25)
    assert response.status_code == 200 and response.get_json()["workers"] >= 1


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:1/0"])
def test_redis_down_is_reported_not_raised(db_url, redis_url):
    from tests.conftest import make_app

    app = make_app(db_url, REDIS_URL=redis_url)
    response = app.test_client().get("/api/v1/psa_health/")
    assert response.status_code == 503
    data = response.get_json()
    assert data["redis"] is False and data["database"] is True and data["errors"]
