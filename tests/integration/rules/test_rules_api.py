"""Configure Product Defaults through the REST API: counts, priority, preview, matching, bad input."""

from __future__ import annotations

import pytest

from msphub_psa.domain import rules as engine
from tests.integration.rules.conftest import ATTRS, MS_NCE, Api, product_count, rows_and_audit, rule_body


def test_page_needs_an_active_integration(client, app):
    login_api = Api(client, "pilot.admin")
    assert login_api.get().status_code == 403
    assert client.get("/psa/product-defaults/").status_code == 403


def test_default_rule_is_created_with_the_guides_values(admin_api, app):
    data = admin_api.get().get_json()
    d = data["default"]
    assert (d["category"], d["subcategory"], d["type"], d["product_class"]) == (
        "MSP Hub",
        "Perpetual Software",
        "MSP Hub License-Based",
        "Agreement",
    )
    assert d["count"] == data["total_products"] == product_count(app) > 0
    assert data["rules"] == []
    assert admin_api.send("DELETE", "default").status_code in (404, 405)


def test_add_rule_moves_its_products_from_the_default(admin_api, app):
    total = product_count(app)
    nce = product_count(app, publisher="Microsoft", item_type="OnlineServicesNCE")
    assert 0 < nce < total
    preview = admin_api.send("POST", "preview", {"action": "create", **rule_body()}).get_json()
    assert preview["moves"][0]["text"] == f"{nce} products move from Default Rule to this rule"
    assert rows_and_audit(app)[0] == 0
    response = admin_api.send("POST", "", rule_body())
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert [r["count"] for r in data["rules"]] == [nce]
    assert data["default"]["count"] == total - nce
    assert data["rules"][0]["description"] == ["Publisher = Microsoft", "Item Type = OnlineServicesNCE"]


def test_matching_window_lists_exactly_the_rules_products(admin_api, app):
    rule_id = admin_api.send("POST", "", rule_body()).get_json()["id"]
    nce = product_count(app, publisher="Microsoft", item_type="OnlineServicesNCE")
    page = admin_api.get(f"{rule_id}/matching?page_size=5").get_json()
    assert page["total"] == nce and len(page["result"]) == min(5, nce)
    seen = []
    for number in range(1, page["pages"] + 1):
        seen += admin_api.get(f"{rule_id}/matching?page_size=5&page={number}").get_json()["result"]
    assert len({p["id"] for p in seen}) == nce
    assert all((p["publisher"], p["item_type"]) == ("Microsoft", "OnlineServicesNCE") for p in seen)
    assert all(p["claimed_by"] is None for p in seen)
    found = admin_api.get(f"{rule_id}/matching?q=business%20PREMIUM").get_json()
    assert found["total"] and all("business premium" in p["title"].lower() for p in found["result"])


def test_moving_below_a_broader_rule_changes_the_counts(admin_api, app):
    narrow = admin_api.send("POST", "", rule_body()).get_json()["id"]
    broad_body = rule_body([{"field": "publisher", "operator": "equals", "value": "microsoft"}], category="MS")
    data = admin_api.send("POST", "", broad_body).get_json()
    broad = data["id"]
    nce = product_count(app, publisher="Microsoft", item_type="OnlineServicesNCE")
    microsoft = product_count(app, publisher="Microsoft")
    counts = {r["id"]: r["count"] for r in data["rules"]}
    assert counts == {narrow: nce, broad: microsoft - nce}
    preview = admin_api.send("POST", "preview", {"action": "move", "rule_id": narrow, "direction": "down"}).get_json()
    assert preview["moves"][0]["text"] == f"{nce} products move from this rule to Rule {broad}"
    data = admin_api.send("PUT", f"{narrow}/move", {"direction": "down"}).get_json()
    assert [(r["id"], r["priority"], r["count"]) for r in data["rules"]] == [(broad, 1, microsoft), (narrow, 2, 0)]
    page = admin_api.get(f"{narrow}/matching").get_json()
    assert page["total"] == nce and {p["claimed_by"] for p in page["result"]} == {broad}


def test_edit_and_delete(admin_api, app):
    created = admin_api.send("POST", "", rule_body()).get_json()
    rule = created["rules"][0]
    body = rule_body([{"field": "billing_term", "operator": "in", "value": ["p1y", "P3Y"]}], version=rule["version"])
    edited = admin_api.send("PUT", str(rule["id"]), body)
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["rules"][0]["count"] == product_count(app, billing_term="P1Y") + product_count(
        app, billing_term="P3Y"
    )
    stale = admin_api.send("PUT", str(rule["id"]), rule_body(version=rule["version"]))
    assert stale.status_code == 409
    deleted = admin_api.send("DELETE", str(rule["id"])).get_json()
    assert deleted["rules"] == [] and deleted["default"]["count"] == product_count(app)


@pytest.mark.parametrize(
    "body, key",
    [
        (rule_body([]), "conditions"),
        (rule_body([{"field": "colour", "operator": "equals", "value": "x"}]), "conditions.0.field"),
        (rule_body([{"field": "publisher", "operator": "like", "value": "x"}]), "conditions.0.operator"),
        (rule_body([{"field": "publisher", "operator": "equals", "value": " "}]), "conditions.0.value"),
        (rule_body(category="C" * 51), "attributes.category"),
        (rule_body(type="T" * 51), "attributes.type"),
        (rule_body(product_class="Gadget"), "attributes.product_class"),
        (rule_body(priority=5), "priority"),
        ({"conditions": MS_NCE}, "category"),
    ],
)
def test_bad_input_is_a_clear_400_and_saves_nothing(admin_api, app, body, key):
    before = rows_and_audit(app)
    response = admin_api.send("POST", "", body)
    assert response.status_code == 400
    payload = response.get_json()
    assert payload["message"] and key in payload["errors"], payload
    assert rows_and_audit(app) == before


def test_identical_conditions_are_refused(admin_api, app):
    assert admin_api.send("POST", "", rule_body()).status_code == 201
    before = rows_and_audit(app)
    same = rule_body(list(reversed([{**c, "value": c["value"].upper()} for c in MS_NCE])), category="Other")
    response = admin_api.send("POST", "", same)
    assert response.status_code == 400 and "same conditions" in response.get_json()["errors"]["conditions"][0]
    assert rows_and_audit(app) == before


def test_viewer_reads_but_cannot_write(client, active, app):
    viewer = Api(client, "pilot.viewer")
    assert viewer.get().status_code == 200
    before = rows_and_audit(app)
    assert viewer.send("POST", "", rule_body()).status_code == 403
    assert viewer.send("PUT", "default", ATTRS).status_code == 403
    assert viewer.send("POST", "lists/refresh").status_code == 403
    assert rows_and_audit(app)[0] == before[0]
    preview = viewer.send("POST", "preview", {"action": "create", **rule_body()})
    assert preview.status_code == 200


def test_every_change_is_audited(admin_api, app):
    from sqlalchemy import select

    from msphub_psa.daos.base import session
    from msphub_psa.models.tenancy import AuditEvent

    rule_id = admin_api.send("POST", "", rule_body()).get_json()["id"]
    admin_api.send("POST", "", rule_body([{"field": "publisher", "operator": "contains", "value": "soft"}]))
    admin_api.send("PUT", f"{rule_id}/move", {"priority": 2})
    assert admin_api.send("PUT", "default", {**ATTRS, "category": "Hub"}).status_code == 200
    admin_api.send("DELETE", str(rule_id))
    with app.app_context():
        actions = list(
            session().scalars(select(AuditEvent.action).where(AuditEvent.action.like("rule.%")).order_by(AuditEvent.id))
        )
    assert actions == [
        "rule.create",
        "rule.default.create",
        "rule.create",
        "rule.move",
        "rule.default.edit",
        "rule.delete",
    ]


def test_engine_and_api_agree(admin_api, app):
    """The page's counts are the engine's counts over the same products."""
    from msphub_psa.daos.hub import RuleProductDAO
    from tests.support import tenants

    admin_api.send("POST", "", rule_body())
    data = admin_api.send(
        "POST", "", rule_body([{"field": "title", "operator": "starts_with", "value": "micro"}])
    ).get_json()
    with app.app_context():
        products = RuleProductDAO.rows(tenants.pilot().distributor_id)
    rules = [
        engine.Rule(r["id"], r["priority"], tuple(engine.Condition(**c) for c in r["conditions"]), engine.GUIDE_DEFAULT)
        for r in data["rules"]
    ]
    expected = engine.counts(products, rules)
    assert {r["id"]: r["count"] for r in data["rules"]} == {k: v for k, v in expected.items() if k != "default"}
    assert data["default"]["count"] == expected["default"]
