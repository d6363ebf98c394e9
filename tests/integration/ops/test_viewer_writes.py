"""A Partner Viewer's every write is refused: the URL map and the served spec, with a session and a token.

Every non-GET route of the plugin (pages, console views, APIs) and every write operation of the spec
answers 403, 404 or 405 to the pilot's viewer, aimed at the pilot's own records; nothing changes.
"""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from msphub_psa import permissions
from tests.integration.ops.spec_walk import fill_path, served_spec, write_operations
from tests.integration.test_tenant_isolation import _plugin_view, routes
from tests.support.dump import diff, dump_tables
from tests.support.web import api_token, csrf_token, login

REFUSED = {403, 404, 405}
BODY = {
    "enabled": True,
    "customer_id": 1,
    "company_id": 1,
    "priority": 1,
    "direction": "up",
    "full": True,
    "name": "viewer",
    "rowid": ["1"],
    "action": "x",
}


def plugin_write_routes(app, ids):
    """(url, method) of every plugin route that accepts a method other than GET."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    by_model = {
        "Customer": ids["customer_id"],
        "Partner": ids["partner_id"],
        "Rule": ids["rule_id"],
        "ProductRule": ids["rule_id"],
        "PsaCompany": ids["company_id"],
    }
    for url, methods in routes(app, by_model):
        view = views.get(_endpoint_view(app, url))
        if view is None or not _plugin_view(view):
            continue
        for method in methods:
            if method != "GET":
                yield url, method


def _endpoint(app, url, method=None) -> str:
    """The endpoint (``View.method``) behind a URL, or ''."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(url.split("?")[0], method=method)
    except (HTTPException, RoutingException):  # no such route or method, or a redirect
        return ""
    return endpoint


def _endpoint_view(app, url):
    """The view class name behind a URL."""
    return _endpoint(app, url).split(".")[0] or None


def is_read_only(app, url, method) -> bool:
    """True when the route's permission is *read* (e.g. a POST preview that saves nothing)."""
    name = _endpoint(app, url, method).split(".")[-1]
    return permissions.METHOD_PERMISSIONS.get(name) == permissions.READ[4:]


@pytest.mark.parametrize("auth", ["session", "jwt"])
def test_viewer_writes_refused_everywhere(app, pilot_ids, auth):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    if auth == "session":
        login(client, "pilot.viewer")
        headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    else:
        headers = {"Authorization": f"Bearer {api_token(client, 'pilot.viewer')}"}
    before = dump_tables(app)
    answers = {}
    for url, method in plugin_write_routes(app, pilot_ids):
        if auth == "jwt" and not url.startswith("/api/"):
            continue  # pages take the session only (the session run covers them)
        answers[(method, url)] = client.open(url, method=method, json=BODY, headers=headers).status_code
    spec_headers = headers if auth == "jwt" else {}
    for method, path, _operation in write_operations(served_spec(client, spec_headers)):
        url = fill_path(path, pilot_ids)
        answers[(method, url)] = client.open(url, method=method, json=BODY, headers=headers).status_code
    read_only = {k for k in answers if is_read_only(app, k[1], k[0])}
    accepted = {k: v for k, v in answers.items() if v not in REFUSED and not (k in read_only and v < 500)}
    assert len(read_only) <= 2, read_only  # POST /psa_rules/preview: computes, saves nothing
    assert len(answers) >= (40 if auth == "session" else 12), sorted(answers)
    assert any(url.startswith("/api/v1/psa_audit") or "rules" in url for _m, url in answers)
    assert not accepted, accepted
    assert diff(before, dump_tables(app)) == {}
