"""Tenant isolation sweep: partner A's session and token against partner B's ids, on every route.

Walks the app's URL map, fills each route's arguments with B's ids (the record of
the view's own model where the route has a ``pk``), sends every method the route
accepts as A — with a valid CSRF token, so only authorization can stop it — and
asserts that A gets 3xx/4xx, never B's data, and that nothing of B's changed.
Later features extend ``IDS`` and ``B_MARKERS`` as they add models.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from plugin.daos.base import session
from plugin.models.hub import BillingTransaction, Customer, Subscription
from plugin.models.psa import AuditEvent, Integration, PartnerFeature
from tests.support import tenants
from tests.support.web import api_token, csrf_token, login

SKIP = re.compile(r"^/api/v1/psa_health/|^/(static|appbuilder)/|^/(login|logout)/|^/swagger|^/api/v1/_openapi|^/lang/")
ALLOWED = {301, 302, 303, 400, 401, 403, 404, 405, 422, 409}  # 409: A's own state refuses it (card)


def b_snapshot():
    """Everything of B's that a write could change."""
    b = tenants.other().id
    return (
        session().scalar(select(func.count(Customer.id)).where(Customer.partner_id == b)),
        session().scalar(select(func.count(Subscription.id)).where(Subscription.partner_id == b)),
        session().scalar(select(func.count(BillingTransaction.id)).where(BillingTransaction.partner_id == b)),
        session().scalar(select(func.count(AuditEvent.id)).where(AuditEvent.partner_id == b)),
        session().scalar(select(PartnerFeature.enabled).where(PartnerFeature.partner_id == b)),
        session().scalar(select(Integration.version).where(Integration.partner_id == b)),  # card
    )


def b_records(app):
    """B's ids per model name, and strings only B's data contains."""
    with app.app_context():
        b = tenants.other()
        customer = tenants.first_customer(b.id)
        sub = session().scalar(select(Subscription).where(Subscription.partner_id == b.id))
        tx = session().scalar(select(BillingTransaction).where(BillingTransaction.partner_id == b.id))
        ids = {"Partner": b.id, "Customer": customer.id, "Subscription": sub.id, "BillingTransaction": tx.id}
        markers = [b.name, customer.external_id, sub.external_id]
        integration = b_integration(b.id)  # card: B's ConnectWise integration
        ids["Integration"] = integration.id
        markers.append(integration.company_name)
        return ids, markers, b_snapshot()


def b_integration(partner_id: int) -> Integration:
    """An active ConnectWise integration of B (card issue), with a marker company name."""
    from plugin.crypto import encrypt_secret

    row = Integration(partner_id=partner_id, status="active", client_id="b-client", client_id_locked=True,
                      company_name="b_marker_company", public_key="BPublic", api_url="https://api-eu.myconnectwise.net",
                      private_key_encrypted=encrypt_secret("b-private-key"))
    session().add(row)
    session().commit()
    return row


def _plugin_view(view) -> bool:
    """True for the plugin's own views and APIs."""
    return type(view).__module__.startswith("plugin.")


def routes(app, ids):
    """(url, methods) for every route, arguments filled with B's ids."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    for rule in app.url_map.iter_rules():
        if SKIP.search(rule.rule) or rule.endpoint == "static":
            continue
        view = views.get(rule.endpoint.split(".")[0])
        if "name" in rule.arguments and not getattr(view, "actions", None) and not _plugin_view(view):
            continue  # FAB's own views crash (500) on an unknown action name before any check
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        values = {}
        for arg in rule.arguments:
            if arg == "pk":
                values[arg] = ids.get(model.__name__, ids["Customer"]) if model else ids["Customer"]
            elif arg.endswith("_id") or arg in ("id",):
                values[arg] = ids.get(arg[:-3].title().replace("_", ""), ids["Partner"])
            else:
                values[arg] = next(iter(getattr(view, "actions", {}) or {}), "x")
        try:
            url = rule.build(values)[1]
        except Exception:  # noqa: BLE001 - a converter refused our value: nothing to call
            continue
        yield url, sorted(rule.methods - {"HEAD", "OPTIONS"})


def call(client, method, url, headers):
    """Send one request with a JSON body for writes."""
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {"enabled": True, "name": "hijack", "rowid": ["1"], "action": "x"}
    return client.open(url, method=method, **kwargs)


@pytest.mark.parametrize("auth", ["session", "jwt"])
def test_partner_a_cannot_reach_partner_b(app, client, auth):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    ids, markers, before = b_records(app)
    if auth == "session":
        login(client, "pilot.admin")
        headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    else:
        headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}
    failures, checked = [], 0
    for url, methods in routes(app, ids):
        for method in methods:
            response = call(client, method, url, headers)
            checked += 1
            body = response.get_data(as_text=True)
            leaked = [m for m in markers if m in body]
            if leaked or (response.status_code not in ALLOWED and response.status_code >= 300):
                failures.append((method, url, response.status_code, leaked))
            elif response.status_code < 300 and any(str(v) in url for v in ids.values()) and method != "GET":
                failures.append((method, url, response.status_code, "write accepted"))
    with app.app_context():
        after = b_snapshot()
    assert checked > 100
    assert not failures, "\n".join(map(str, failures))
    assert after == before, "partner B's data changed"


def test_card_endpoints_with_partner_b_id_answer_404(app, client):
    """The card's API takes a partner id only as ``?partner_id=`` (Admin): B's answers 404 to A."""
    ids, markers, before = b_records(app)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    query = f"?partner_id={ids['Partner']}"
    body = {"company_name": "x", "public_key": "y", "private_key": "z", "api_url": "https://api-na.myconnectwise.net"}
    answers = [client.get(f"/api/v1/psa_integration/{query}"),
               client.post(f"/api/v1/psa_integration/activate{query}", json=body, headers=headers),
               client.put(f"/api/v1/psa_integration/{query}", json=body, headers=headers),
               client.post(f"/api/v1/psa_integration/deactivate{query}", headers=headers)]
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert not any(m in r.get_data(as_text=True) for r in answers for m in markers)
    with app.app_context():
        assert b_snapshot() == before
