"""Bad input against every plugin write endpoint of the served spec: a clear 4xx, and nothing changes.

For each write operation: malformed JSON, a body that is not an object, unknown ids in the path, and,
for each property of its request schema, values that must be refused: 10,000 characters of quotes,
``<script>`` and Unicode, negative and huge numbers, out-of-range or impossible dates, wrong types and
unknown ids, each in an otherwise plausible body. The plugin's tables are dumped before and after.
"""

from __future__ import annotations

from tests.integration.ops.spec_walk import body_schema, fill_path, resolve, served_spec, write_operations
from tests.support.dump import diff, dump_tables
from tests.support.web import api_token

LONG = ('O\'Brien "IT" <script>alert(1)</script> Café Müller 日本語 👍 ‮ ' * 200)[:10_000]
UNKNOWN_ID = 987_654_321
BAD_BY_TYPE = {
    "string": [LONG, {"nested": "object"}, 12],
    "integer": [-1, -(10**9), 10**18, 1.5, "12abc", [1]],
    "number": [-1, -(10**9), 10**18, "1e999", [1]],
    "boolean": ["maybe", 2, {"x": 1}],
    "array": ["not a list", {"x": 1}],
}
BAD_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "yesterday", LONG]


def plausible(spec: dict, schema: dict, ids: dict) -> dict:
    """A body of plausible values (own ids, enums' first value) for every property."""
    body = {}
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(spec, prop)
        kind = prop.get("type")
        if prop.get("readOnly"):
            continue
        if "enum" in prop:
            body[name] = prop["enum"][0]
        elif kind == "integer":
            body[name] = ids.get(name, 1)
        elif kind == "boolean":
            body[name] = False
        elif kind == "array":
            body[name] = []
        elif kind == "string":
            body[name] = "2026-01-01" if "date" in (prop.get("format") or "") else "x"
    return body


def bad_values(spec: dict, prop: dict, name: str) -> list:
    """The values one property must refuse."""
    prop = resolve(spec, prop)
    if "date" in (prop.get("format") or "") or name.endswith(("_date", "date")):
        return BAD_DATES
    values = list(BAD_BY_TYPE.get(prop.get("type"), [LONG, -1]))
    if name.endswith("_id"):
        values.append(UNKNOWN_ID)
    return values


def cases(spec: dict, ids: dict):
    """(method, url, kwargs, what) for every bad request of every write operation."""
    for method, path, operation in write_operations(spec):
        url = fill_path(path, ids)
        if "{" in path:
            yield method, fill_path(path, {k: UNKNOWN_ID for k in ids}), {"json": {}}, "unknown id in the path"
        schema = body_schema(spec, operation)
        if not schema:
            continue
        yield method, url, {"data": '{"name": "x", ', "content_type": "application/json"}, "malformed JSON"
        for body in ([], "text", 42):
            yield method, url, {"json": body}, f"body {body!r}"
        base = plausible(spec, schema, ids)
        for name, prop in schema.get("properties", {}).items():
            for value in bad_values(spec, prop, name):
                yield method, url, {"json": {**base, name: value}}, f"{name}={str(value)[:40]!r}"


def test_bad_input_gets_clear_4xx_and_changes_nothing(app, pilot_ids):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}
    spec = served_spec(client, headers)
    before = dump_tables(app)
    problems, sent = [], 0
    for method, url, kwargs, what in cases(spec, pilot_ids):
        response = client.open(url, method=method, headers=headers, **kwargs)
        sent += 1
        body = response.get_json(silent=True) or {}
        message = body.get("message") or body.get("msg")
        if not 400 <= response.status_code < 500 or not message:
            problems.append((method, url, what, response.status_code, response.get_data(as_text=True)[:200]))
        if LONG[:50] in response.get_data(as_text=True) and "<script>" in response.get_data(as_text=True):
            problems.append((method, url, what, "echoes the raw input"))
    assert sent >= 150
    assert not problems, "\n".join(map(str, problems))
    assert diff(before, dump_tables(app)) == {}


def test_ids_no_integer_column_can_hold_are_404_in_paths_400_in_queries(app, pilot_ids):
    """PostgreSQL refuses an INTEGER out of range (SQLite does not): such a path id names no record (404),
    such a query argument is bad input (400)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, 'admin')}"}
    huge = 10**12
    for method, url in (
        ("DELETE", f"/api/v1/psa_rules/{huge}"),
        ("PUT", f"/api/v1/psa_rules/{huge}/move"),
        ("DELETE", f"/api/v1/psa_reconciliation/mappings/{huge}"),
        ("PUT", f"/api/v1/psa_features/{huge}"),
        ("GET", f"/api/v1/psa_integration/?partner_id={huge}"),
        ("GET", f"/api/v1/psa_audit/export?partner_id={huge}"),
        ("GET", f"/api/v1/psa_rules/?partner_id={huge}"),
    ):
        body = {"enabled": True} if "psa_features" in url else {}
        response = client.open(url, method=method, headers=headers, json=body)
        status = 400 if "?" in url else 404
        assert response.status_code == status and response.get_json()["message"], (method, url, response.status_code)
    response = client.post(
        "/api/v1/psa_reconciliation/mappings",
        headers=headers,
        json={"customer_id": huge, "company_id": pilot_ids["company_id"]},
    )
    assert 400 <= response.status_code < 500 and response.get_json()["message"]
