"""Ids no INTEGER column can hold and text with control characters: a 400 naming the field (404 for a path id),
in the API, the pages and the CLI, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.support.dump import diff, dump_tables
from tests.support.web import api_token

HUGE = 2**63


@pytest.fixture
def hostile(app, pilot_ids):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}
    before = dump_tables(app)
    yield client, headers, pilot_ids
    assert diff(before, dump_tables(app)) == {}


def test_huge_path_id_is_404_naming_that_id(hostile):
    client, headers, _ = hostile
    for url, id_ in (
        ("/api/v1/psa_sync/items/99999999999999999999", "99999999999999999999"),
        (f"/api/v1/psa_rules/{HUGE}/matching", str(HUGE)),
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.get_json()["message"] == f"No record has the id {id_}."


@pytest.mark.parametrize("value", [HUGE, -(HUGE + 1)])
def test_huge_ids_in_bodies_and_query_strings_are_400_naming_the_field(hostile, value):
    client, headers, ids = hostile
    sent = [
        ("POST", "/api/v1/psa_reconciliation/mappings", {"customer_id": value, "company_id": 1}, "customer_id"),
        ("POST", "/api/v1/psa_reconciliation/mappings", {"customer_id": 1, "company_id": value}, "company_id"),
        ("POST", "/api/v1/psa_reconciliation/subscriptions/automap", {"customer_ids": [value]}, "customer_ids.0"),
        ("POST", "/api/v1/psa_sync/retry-failed", {"ids": [value]}, "ids.0"),
        ("POST", "/api/v1/psa_rules/preview", {"action": "delete", "rule_id": value}, "rule_id"),
        ("GET", f"/api/v1/psa_reconciliation/suggestions?customer_ids=1,{value}", None, "customer_ids"),
        ("GET", f"/api/v1/psa_rules/?partner_id={value}", None, "partner_id"),
        ("GET", f"/api/v1/psa_integration/?partner_id={value}", None, "partner_id"),
    ]
    for method, url, body, field in sent:
        response = client.open(url, method=method, headers=headers, json=body)
        assert response.status_code == 400, (url, field, response.get_data(as_text=True)[:300])
        assert field in response.get_json()["errors"], (url, response.get_json())


def test_control_characters_in_text_are_400_naming_the_field(hostile):
    client, headers, ids = hostile
    rule = {"category": "A\u0000", "subcategory": "S", "type": "T", "product_class": "Agreement"}
    rule["conditions"] = [{"field": "publisher", "operator": "equals", "value": "Microsoft"}]
    response = client.post("/api/v1/psa_rules/", headers=headers, json=rule)
    assert response.status_code == 400 and "category" in response.get_json()["errors"]
    rule = {**rule, "category": "A", "conditions": [{"field": "publisher", "operator": "equals", "value": "M\x1b"}]}
    response = client.post("/api/v1/psa_rules/", headers=headers, json=rule)
    assert response.status_code == 400 and "conditions.0.value" in response.get_json()["errors"]
    response = client.get("/api/v1/psa_reconciliation/customers?q=a%00b", headers=headers)
    assert response.status_code == 400 and "q" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "args",
    [
        ["customers", "map", "--customer", str(HUGE), "--company", "1"],
        ["sync", "retry-failed", "--partner", "1", "--id", str(HUGE)],
        ["sync", "show-item", "--partner", "1", str(HUGE)],
    ],
)
def test_cli_refuses_huge_ids_with_a_clear_error(app, args):
    result = app.test_cli_runner().invoke(args=["psa", *args, "--as", "admin"])
    assert result.exit_code == 2, result.output
    assert "is out of range" in result.output and "Traceback" not in result.output
