"""Security headers, cookie flags and CSRF on forms."""

from __future__ import annotations

import re

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


# -- the Content Security Policy ---------------------------------------------------------------------------------

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
SCRIPT_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.I)
JS_TYPES = {"text/javascript", "module", "application/javascript"}


def directives(header: str) -> dict[str, str]:
    """A policy as {directive: sources}."""
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


def get_routes(app):
    """Every GET route of the app with sample arguments, except those that log out or change data on a GET (FAB's
    delete and action routes)."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or any(w in rule.endpoint for w in ("logout", "delete", "action", "requeue")):
            continue
        yield rule, rule.build({name: 1 for name in rule.arguments}, append_unknown=False)[1]


def inline_scripts_without(html: str, nonce: str | None) -> list[str]:
    """The inline executable <script> tags that do not carry ``nonce``."""
    bad = []
    for attrs in SCRIPT_TAG.findall(html):
        kind = SCRIPT_TYPE.search(attrs)
        if "src=" in attrs or (kind and kind.group(1).lower() not in JS_TYPES):
            continue  # a file of our origin, or a data block (type="application/json", "text/template")
        if nonce is None or f'nonce="{nonce}"' not in attrs:
            bad.append(attrs)
    return bad


def test_every_route_carries_the_strict_policy_and_the_rq_dashboard_its_own(app):
    """Every GET route, signed in as Admin (who reaches them all): no 'unsafe-inline' or 'unsafe-eval' for
    scripts, each inline script carries the response's nonce; the RQ dashboard's routes add 'unsafe-eval' only."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an error page must carry the policy too
    client = app.test_client()
    login(client, "admin")
    seen = {"rq": 0, "other": 0, "inline": 0}
    for rule, url in get_routes(app):
        response = client.get(url)
        header = response.headers.get("Content-Security-Policy")
        assert header, f"no policy on {url}"
        policy = directives(header)
        script = policy.pop("script-src").split()
        nonce = next((s[len("'nonce-") : -1] for s in script if s.startswith("'nonce-")), None)
        if rule.endpoint.startswith("rq_dashboard."):
            assert [s for s in script if not s.startswith("'nonce-")] == ["'self'", "'unsafe-eval'"], url
            seen["rq"] += 1
        else:
            assert [s for s in script if not s.startswith("'nonce-")] == ["'self'"], (url, header)
            seen["other"] += 1
        assert policy == {
            "default-src": "'self'",
            "img-src": "'self' data:",
            "style-src": "'self' 'unsafe-inline'",
            "object-src": "'none'",
            "frame-ancestors": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
        }, url
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert not inline_scripts_without(html, nonce), url
            seen["inline"] += bool(nonce and f'nonce="{nonce}"' in html)
    assert seen["rq"] >= 5 and seen["other"] >= 150 and seen["inline"] >= 30, seen


def test_each_response_has_its_own_nonce(client):
    login(client, "pilot.admin")
    first, second = (
        directives(client.get("/psa/my-organization/").headers["Content-Security-Policy"])["script-src"]
        for _ in range(2)
    )
    assert first != second and "'nonce-" in first


def test_rq_dashboard_hides_the_redis_url_and_links_back(app, monkeypatch):
    app.config["RQ_DASHBOARD_REDIS_URL"] = ["redis://:s3cret-pass@127.0.0.1:6379/0"]
    client = app.test_client()
    login(client, "admin")
    html = client.get("/psa/rq/").get_data(as_text=True)
    assert "s3cret" not in html and "redis://" not in html and "6379" not in html
    assert 'id="psa-rq-back"' in html and ">Redis 1<" in html
