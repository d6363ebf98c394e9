"""Login rate limit (FAB's Flask-Limiter): the 11th bad login within 20 s answers 429."""

from __future__ import annotations

import pytest

from tests.conftest import dispose, make_app
from tests.support.web import csrf_token


@pytest.fixture
def limited_app(db_url):
    """An app with the rate limit on (the test mode turns it off), counting in memory."""
    application = make_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    yield application
    dispose(application)


def test_form_login_eleventh_bad_attempt_is_429(limited_app):
    client = limited_app.test_client()
    token = csrf_token(client, "/login/")
    codes = [
        client.post("/login/", data={"username": "pilot.admin", "password": "wrong", "csrf_token": token}).status_code
        for _ in range(11)
    ]
    assert all(code != 429 for code in codes[:10]), codes
    assert codes[10] == 429
    refused = client.post("/login/", data={"username": "pilot.admin", "password": "wrong", "csrf_token": token})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 20


def test_api_login_eleventh_bad_attempt_is_429(limited_app):
    client = limited_app.test_client()
    body = {"username": "pilot.admin", "password": "wrong", "provider": "db"}
    codes = [client.post("/api/v1/security/login", json=body).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10, codes
    assert codes[10] == 429
    # the right password is refused too while the window lasts (no guessing around it)
    good = {"username": "pilot.admin", "password": "pilot-admin-demo-2026", "provider": "db"}
    refused = client.post("/api/v1/security/login", json=good)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 20


def test_disabled_in_test_mode_by_default(app):
    client = app.test_client()
    body = {"username": "pilot.admin", "password": "wrong", "provider": "db"}
    assert {client.post("/api/v1/security/login", json=body).status_code for _ in range(12)} == {401}


def test_production_counts_in_redis(monkeypatch):
    import config

    monkeypatch.setenv("PSA_ENV", "production")
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.5:6379/2")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert config.build()["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.5:6379/2"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://limits:6379/5")
    assert config.build()["RATELIMIT_STORAGE_URI"] == "redis://limits:6379/5"


def test_two_processes_share_the_count_in_redis(db_url):
    """Two app instances (as two web processes) counting in the same Redis: 5 + 6 attempts -> the 11th is 429."""
    import os
    import uuid

    shared = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ["REDIS_URL"],
        "RATELIMIT_KEY_PREFIX": f"psa-test-login-{uuid.uuid4().hex[:8]}",
    }
    first, second = make_app(db_url, **shared), make_app(db_url, **shared)
    try:
        body = {"username": "pilot.admin", "password": "wrong", "provider": "db"}
        codes = [first.test_client().post("/api/v1/security/login", json=body).status_code for _ in range(5)]
        codes += [second.test_client().post("/api/v1/security/login", json=body).status_code for _ in range(6)]
    finally:
        dispose(first)
        dispose(second)
    assert codes[:10] == [401] * 10 and codes[10] == 429, codes
