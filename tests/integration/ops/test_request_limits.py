"""Request limits: a body over the size limit answers 413, JSON nested too deeply 400 (never a RecursionError),
tenant API JSON is not cached, and ProxyFix (opt-in) lets HSTS appear behind a TLS-terminating proxy."""

from __future__ import annotations

import pytest

from tests.conftest import dispose, make_app
from tests.support.web import api_token, csrf_token

NESTED = "[" * 100_000


@pytest.fixture
def api(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    return client, {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}


def test_deeply_nested_json_is_400_on_plugin_and_fab_routes(api):
    client, headers = api
    for url, sent in (("/api/v1/psa_rules/", headers), ("/api/v1/security/login", {})):
        response = client.post(url, data=NESTED, content_type="application/json", headers=sent)
        assert response.status_code == 400, (url, response.get_data(as_text=True)[:300])
        assert response.get_json()["message"] and "Traceback" not in response.get_data(as_text=True)
    response = client.post("/api/v1/psa_rules/", data=NESTED, content_type="application/json", headers=headers)
    assert "nested too deeply" in response.get_json()["message"]


def test_a_body_over_the_limit_is_413_json_for_the_api_and_a_page_for_forms(app, api):
    client, headers = api
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/psa_rules/", data=big, content_type="application/json", headers=headers)
    assert response.status_code == 413 and response.get_json()["message"]
    page = app.test_client()
    response = page.post("/login/", data={"username": big, "csrf_token": csrf_token(page)})
    assert response.status_code == 413 and response.mimetype == "text/html"
    response = client.post("/api/v1/psa_rules/preview", json={"action": "delete"}, headers=headers)
    assert response.status_code != 413  # a normal body passes


def test_the_limit_is_the_setting_unless_the_host_set_its_own(db_url):
    for overrides, expected in (
        ({}, 1_048_576),
        ({"PSA_MAX_CONTENT_LENGTH": 4096}, 4096),
        ({"MAX_CONTENT_LENGTH": 99}, 99),
    ):
        application = make_app(db_url, **overrides)
        assert application.config["MAX_CONTENT_LENGTH"] == expected
        dispose(application)


def test_tenant_api_json_is_not_cached(api, pilot_ids):
    client, headers = api
    for url in ("/api/v1/psa_rules/", "/api/v1/psa_sync/runs", "/api/v1/psa_sync/items/999999"):
        assert client.get(url, headers=headers).headers["Cache-Control"] == "no-store", url


@pytest.mark.parametrize("hops, hsts", [(0, False), (1, True)])
def test_hsts_behind_a_tls_proxy_only_with_proxy_fix(db_url, hops, hsts):
    application = make_app(db_url, PSA_PROXY_FIX_HOPS=hops)
    response = application.test_client().get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert ("Strict-Transport-Security" in response.headers) is hsts
    dispose(application)
