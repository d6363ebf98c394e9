"""Security headers, cookie flags and CSRF on forms."""
from __future__ import annotations

from tests.conftest import make_app
from tests.support.web import csrf_token, login


def test_security_headers_on_pages_and_api(client):
    for url in ("/login/", "/api/v1/psa_features/"):
        headers = client.get(url).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite(client):
    login(client, "pilot.admin")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_cookies_are_secure(db_url, monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("PSA_ENV", "production")
    app = make_app(db_url)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_login_form_requires_csrf(client):
    response = client.post("/login/", data={"username": "pilot.admin", "password": "x"})
    assert response.status_code == 400
    assert csrf_token(client)


def test_production_start_stops_without_secrets(monkeypatch, db_url):
    import pytest

    import config

    monkeypatch.setenv("PSA_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="Missing SECRET_KEY"):
        make_app(db_url)
