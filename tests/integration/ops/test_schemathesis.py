"""schemathesis over the served OpenAPI spec, as a partner admin with a JWT: no 5xx, every response
matches its documented schema. Bounded: a few examples per plugin operation and an overall time budget.

The operations come from the served spec (``/api/v1/_openapi``), so endpoints added later (the billing
sync) are covered without touching this test.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from msphub_psa.connectwise.sandbox.seed import DEMO_PRIVATE_KEY
from tests.support.reconciliation import pilot_ready
from tests.support.web import api_token

PLUGIN_PATHS = r"^/api/v1/psa_(?!health)"  # health answers 503 without a worker, by design
EXAMPLES = 8
BUDGET_S = 40.0
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _run(operation, headers: dict, deadline: float) -> int:
    """Generate and send bounded cases for one operation; the number sent."""
    sent = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case):
        if time.monotonic() > deadline:
            return
        response = case.call(headers=headers)
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS)
        assert DEMO_PRIVATE_KEY not in response.text

    check()
    return len(sent)


def test_plugin_api_conforms_to_its_spec(app, cw_live):
    with app.app_context():
        pilot_ready(cw_live)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=headers)
    operations = [result.ok() for result in schema.include(path_regex=PLUGIN_PATHS).get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    deadline = time.monotonic() + BUDGET_S
    sent, failures = {}, {}
    for op in operations:
        try:
            sent[op.label] = _run(op, headers, deadline)
        except (AssertionError, BaseExceptionGroup) as exc:  # report every operation's failures at once
            failures[op.label] = str(exc)[:1500]
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
    assert sum(sent.values()) >= len(operations), sent
