"""The served OpenAPI spec documents every plugin operation completely: a success response with its
schema, the request body's schema where the operation takes one, path and query parameters typed, and
the plugin's error responses (with their schema)."""

from __future__ import annotations

from tests.integration.ops.spec_walk import PLUGIN_PATH, resolve, served_spec
from tests.support.web import api_token

ERRORS = {"400", "401", "403", "404", "422"}


def plugin_operations(spec):
    """(method, path, operation) of the plugin's documented operations."""
    for path, operations in sorted(spec["paths"].items()):
        if PLUGIN_PATH.search(path):
            for method, operation in operations.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    yield method, path, operation


def gaps(spec, method, path, operation) -> list[str]:
    """What the operation's documentation lacks."""
    found = []
    responses = {str(k): v for k, v in operation.get("responses", {}).items()}
    success = {c: resolve(spec, r) for c, r in responses.items() if c.startswith("2")}
    if not success:
        found.append("no success response")
    for code, response in success.items():
        content = response.get("content") or {}
        if code != "204" and not any(media.get("schema") for media in content.values()):
            found.append(f"{code} without a schema")
    for code in ERRORS - set(responses):
        found.append(f"{code} undocumented")
    for code in ERRORS & set(responses):
        if "schema" not in resolve(spec, responses[code]).get("content", {}).get("application/json", {}):
            found.append(f"{code} without a schema")
    if "requestBody" in operation:
        body = operation["requestBody"].get("content", {}).get("application/json", {})
        if not body.get("schema"):
            found.append("request body without a schema")
    for param in operation.get("parameters", []):
        param = resolve(spec, param)
        if "schema" not in param:
            found.append(f"parameter {param.get('name')} untyped")
    if not operation.get("summary") and not operation.get("description"):
        found.append("no summary")
    return found


def test_every_plugin_operation_is_fully_documented(app):
    client = app.test_client()
    spec = served_spec(client, {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"})
    operations = list(plugin_operations(spec))
    assert len(operations) >= 25
    missing = {f"{m.upper()} {p}": g for m, p, op in operations if (g := gaps(spec, m, p, op))}
    assert not missing, "\n".join(f"{k}: {', '.join(v)}" for k, v in missing.items())


def test_swagger_ui_is_on(app):
    from tests.support.web import login

    client = app.test_client()
    login(client, "pilot.admin")
    assert client.get("/swagger/v1").status_code == 200
