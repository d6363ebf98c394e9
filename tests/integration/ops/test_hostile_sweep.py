"""Hostile values everywhere input is parsed, discovered from the served OpenAPI spec and the console's views:
for every integer parameter or body field 2^63, -1, 0, a string and a float; for every string field NUL,
10,000 characters and nested JSON; for every console ModelView hostile paging, sorting and filter arguments and
ids. Never a 5xx or a traceback, and the database is unchanged (one app, one login each, a dump before and after).
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask_appbuilder import ModelView

from tests.integration.ops.spec_walk import PLUGIN_PATH, body_schema, fill_path, resolve, served_spec
from tests.integration.ops.test_bad_input import plausible
from tests.support.dump import diff, dump_tables
from tests.support.web import api_token, login

HUGE = 2**63
BAD_INTEGERS = [HUGE, -(HUGE + 1), -1, 0, "abc", 1.5]
BAD_STRINGS = ["a\u0000b", "x" * 10_000, [[[[[[[[["deep"]]]]]]]]], "[" * 1000]
HUGE_TEXT = "99999999999999999999"


def bad_values(spec: dict, prop: dict) -> list:
    """The hostile values of one parameter or property, by its type."""
    prop = resolve(spec, prop)
    if prop.get("type") == "array":
        return [[value] for value in bad_values(spec, prop.get("items", {}))]
    return BAD_INTEGERS if prop.get("type") in ("integer", "number") else BAD_STRINGS


def operations(spec: dict):
    """(method, path template, operation) of every plugin operation."""
    for path, methods in sorted(spec["paths"].items()):
        if PLUGIN_PATH.search(path):
            for method, operation in methods.items():
                yield method.upper(), path, operation


def api_cases(spec: dict, ids: dict):
    """(method, url, json body or None) with one hostile value each."""
    for method, path, operation in operations(spec):
        schema = body_schema(spec, operation)
        base = plausible(spec, schema, ids) if schema else None
        for param in operation.get("parameters", []):
            param = resolve(spec, param)
            for value in bad_values(spec, param.get("schema", {})):
                if param["in"] == "path":
                    yield method, fill_path(path, {**ids, param["name"]: value}), base
                elif param["in"] == "query":
                    yield method, f"{fill_path(path, ids)}?{urlencode({param['name']: str(value)})}", base
        for name, prop in (schema or {}).get("properties", {}).items():
            for value in bad_values(spec, prop):
                yield method, fill_path(path, ids), {**base, name: value}
        if schema:
            yield method, fill_path(path, ids), "[" * 100_000


def console_urls(app):
    """Every plugin ModelView's list with hostile paging, sorting and filter arguments, and its pages by a huge id."""
    for view in app.appbuilder.baseviews:
        if not isinstance(view, ModelView) or not type(view).__module__.startswith("msphub_psa."):
            continue
        name, base = type(view).__name__, view.route_base
        hostile = [(f"page_{name}", v) for v in (HUGE_TEXT, "-1", "abc")]
        hostile += [(f"psize_{name}", v) for v in (HUGE_TEXT, "-5", "abc")]
        hostile += [(f"_oc_{name}", "nonexistent"), (f"_oc_{name}", "__class__")]
        for column in view.search_columns:
            hostile += [(f"_flt_0_{column}", HUGE_TEXT), (f"_flt_0_{column}", "a\u0000b"), (f"_flt_9_{column}", "x")]
        for arg, value in hostile:
            yield f"{base}/list/?{urlencode({arg: value, '_od_' + name: 'asc'})}"
        yield f"{base}/list/?{urlencode({'_oc_' + name: view.order_columns[0], '_od_' + name: 'sideways'})}"
        for page in ("show", "edit", "delete"):
            yield f"{base}/{page}/99999999999999999999"


def refused_cleanly(response) -> bool:
    """No 5xx and no traceback in the body."""
    return response.status_code < 500 and "Traceback" not in response.get_data(as_text=True)


def test_hostile_values_never_500_and_change_nothing(app, pilot_ids):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    api = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(api, 'pilot.admin')}"}
    console = login(app.test_client(), "admin")
    spec = served_spec(api, headers)
    before = dump_tables(app)
    problems, sent = [], 0
    for method, url, body in api_cases(spec, pilot_ids):
        kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
        response = api.open(url, method=method, headers=headers, **kwargs)
        sent += 1
        if not refused_cleanly(response):
            problems.append((method, url[:120], str(body)[:120], response.status_code))
    for url in console_urls(app):
        response = console.get(url)
        sent += 1
        if not refused_cleanly(response):
            problems.append(("GET", url[:160], response.status_code))
    assert sent > 1000
    assert not problems, "\n".join(map(str, problems))
    assert diff(before, dump_tables(app)) == {}
