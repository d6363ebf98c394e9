"""Walk the served OpenAPI spec: the plugin's operations, their path parameters and request bodies.

The sweeps discover endpoints here (and in the URL map), so endpoints added later are swept too.
"""

from __future__ import annotations

import re

PLUGIN_PATH = re.compile(r"^/api/v1/psa_(?!health)")
WRITE_METHODS = ("post", "put", "patch", "delete")


def served_spec(client, headers) -> dict:
    """The spec as the API serves it to this caller."""
    response = client.get("/api/v1/_openapi", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def resolve(spec: dict, node: dict | None) -> dict:
    """Follow a ``$ref`` (one level is all our schemas use, repeated as needed)."""
    while node and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = spec
        for part in path:
            node = node[part]
    return node or {}


def write_operations(spec: dict):
    """(method, path template, operation) for every plugin write operation."""
    for path, operations in sorted(spec["paths"].items()):
        if not PLUGIN_PATH.search(path):
            continue
        for method, operation in operations.items():
            if method in WRITE_METHODS:
                yield method.upper(), path, operation


def body_schema(spec: dict, operation: dict) -> dict:
    """The JSON request body's schema (resolved), or {}."""
    content = operation.get("requestBody", {}).get("content", {})
    return resolve(spec, content.get("application/json", {}).get("schema"))


def fill_path(path: str, ids: dict[str, int]) -> str:
    """Replace ``{name}`` with the id of that name (``rule_id`` -> ids['rule_id']), else 1."""
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
