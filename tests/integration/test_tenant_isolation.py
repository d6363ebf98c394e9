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
from plugin.models.psa import AuditEvent, PartnerFeature, ProductDefaultRule, ProductRule
from tests.support import tenants
from tests.support.web import api_token, csrf_token, login

SKIP = re.compile(r"^/(static|appbuilder)/|^/(login|logout)/|^/swagger|^/api/v1/_openapi|^/lang/")
ALLOWED = {301, 302, 303, 400, 401, 403, 404, 405, 422}


def b_snapshot():
    """Everything of B's that a write could change."""
    b = tenants.other().id
    return (
        session().scalar(select(func.count(Customer.id)).where(Customer.partner_id == b)),
        session().scalar(select(func.count(Subscription.id)).where(Subscription.partner_id == b)),
        session().scalar(select(func.count(BillingTransaction.id)).where(BillingTransaction.partner_id == b)),
        session().scalar(select(func.count(AuditEvent.id)).where(AuditEvent.partner_id == b)),
        session().scalar(select(PartnerFeature.enabled).where(PartnerFeature.partner_id == b)),
        # Configure Product Defaults: B's rules and default rule, as stored
        tuple(session().execute(select(ProductRule.id, ProductRule.priority, ProductRule.category, ProductRule.version)
                                .where(ProductRule.partner_id == b)).all()),
        session().scalar(select(ProductDefaultRule.category).where(ProductDefaultRule.partner_id == b)),
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
        # Configure Product Defaults: a rule and a default rule of B's (ids and a marker only B has)
        rule = ProductRule(partner_id=b.id, priority=1, category="B-ONLY-CATEGORY", subcategory="S", product_type="T",
                           product_class="Agreement",
                           conditions=[{"field": "publisher", "operator": "equals", "value": "Microsoft"}])
        session().add_all([rule, ProductDefaultRule(partner_id=b.id, category="B-ONLY-DEFAULT", subcategory="S",
                                                    product_type="T", product_class="Agreement")])
        session().commit()
        ids.update({"Rule": rule.id, "ProductRule": rule.id})
        markers += ["B-ONLY-CATEGORY", "B-ONLY-DEFAULT"]
        return ids, markers, b_snapshot()


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
