"""Structured logs: a real worker in JSON mode logs the validation job and a directory refresh with our ids,
ConnectWise's request id and timings, and never the private key."""

from __future__ import annotations

import base64
import io
import json
import logging
import time

from msphub_psa.logs import JsonFormatter, configure_logging, log_context, make_handler
from tests.integration.test_reconciliation_jobs import wait_for
from tests.support import tenants
from tests.support.card import activate, form_values, session_client, status
from tests.support.fixtures import WorkerProcess
from tests.support.reconciliation import seed_sandbox_for_pilot


def _wait_active(client, timeout=30.0):
    """Poll the card's state (as the page does) until the validation ends."""
    deadline = time.monotonic() + timeout
    while status(client)["validating"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return status(client)["status"]


def _refresh_directory(app, client, headers, partner_id):
    """Ask for a directory refresh as the page does and wait for it."""
    assert client.post("/api/v1/psa_reconciliation/directory/refresh", headers=headers, json={}).status_code == 202
    assert wait_for(app, partner_id, ("done", "failed"))[0] == "done"


def _json_lines(output: str) -> list[dict]:
    """The JSON records of a worker's output (every line must be one)."""
    lines = [line for line in output.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # a non-JSON line fails here
    assert records
    return records


def test_worker_logs_json_with_ids_and_never_the_key(app, db_url, cw_live, monkeypatch, tmp_path):
    monkeypatch.setenv("PSA_LOG_FORMAT", "json")
    monkeypatch.setenv("PSA_LOG_LEVEL", "DEBUG")
    with app.app_context():
        partner_id = tenants.pilot().id
        seed_sandbox_for_pilot(cw_live)
    client, headers = session_client(app)
    started = activate(client, headers, form_values(cw_live))
    assert started.status_code == 202, started.get_data(as_text=True)
    validation_job = started.get_json()["job_id"]
    proc = WorkerProcess(db_url, queues="fast", scheduler=False)
    try:
        assert _wait_active(client) == "active", proc.stop()[-2000:]
        _refresh_directory(app, client, headers, partner_id)
    finally:
        output = proc.stop()
    basic = base64.b64encode(f"{cw_live.company_id}+{cw_live.public_key}:{cw_live.private_key}".encode()).decode()
    assert cw_live.private_key not in output and basic not in output
    records = _json_lines(output)
    psa_calls = [r for r in records if r.get("cw_path")]
    validation = [r for r in psa_calls if r.get("job_id") == validation_job]
    assert {r["cw_path"] for r in validation} >= {"/system/info"}
    for record in psa_calls:
        assert record["partner_id"] == partner_id and record["job_id"]
        assert record["cw_method"] == "GET" and record["cw_status"] == 200 and record["duration_ms"] >= 0
        assert record["cw_request_id"] and record["attempt"] == 1
    directory_calls = [r for r in psa_calls if "directory" in r["job_id"]]
    assert any(r["cw_path"].startswith("/company/companies") for r in directory_calls)
    assert all(r.get("job") == "msphub_psa.tasks.refresh_directory" for r in directory_calls)
    audits = {r["action"]: r for r in records if r.get("action")}
    assert audits["integration.validation"]["job_id"] == validation_job
    assert audits["integration.validation"]["partner_id"] == partner_id
    assert audits["integration.validation"]["outcome"] == "ok" and audits["integration.validation"]["user"]


def test_formatter_fields_context_and_text_mode():
    stream = io.StringIO()
    handler = make_handler("json", stream)
    logger = logging.getLogger("psa.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with log_context(partner_id=3, run_id=11, row_id=12):
            logger.info("pushed %s", "x", extra={"cw_request_id": "abc", "job_id": "j1"})
        logger.info("after")
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "pushed x" and first["level"] == "INFO" and first["ts"].endswith("+00:00")
    assert (first["partner_id"], first["run_id"], first["row_id"], first["job_id"], first["cw_request_id"]) == (
        3,
        11,
        12,
        "j1",
        "abc",
    )
    assert "partner_id" not in second  # the context ends with its block
    text = io.StringIO()
    handler = make_handler("text", text)
    logger.addHandler(handler)
    try:
        with log_context(partner_id=3):
            logger.info("hello")
    finally:
        logger.removeHandler(handler)
    assert text.getvalue().rstrip().endswith("hello [partner_id=3]")
    assert isinstance(make_handler("json").formatter, JsonFormatter)


def test_configure_logging_replaces_its_handler():
    root = logging.getLogger()
    configure_logging("json", "INFO")
    configure_logging("text", "INFO")
    ours = [h for h in root.handlers if getattr(h, "psa_handler", False)]
    assert len(ours) == 1 and not isinstance(ours[0].formatter, JsonFormatter)


def test_web_requests_log_one_access_line_with_request_user_and_partner(app, client):
    from tests.support.web import api_token, login

    stream = io.StringIO()
    handler = make_handler("json", stream)
    logging.getLogger().addHandler(handler)
    previous = logging.getLogger("msphub_psa.access").level
    logging.getLogger("msphub_psa.access").setLevel(logging.INFO)
    try:
        with app.app_context():
            partner_id = tenants.pilot().id
        token = api_token(client, "pilot.admin")
        response = client.get(
            "/api/v1/psa_integration/?q=secret-search",
            headers={"Authorization": f"Bearer {token}", "X-Request-Id": "caller-req-0001"},
        )
        refused = client.get("/api/v1/psa_features/", headers={"Authorization": f"Bearer {token}"})
        login(client, "pilot.admin")
        page = client.get("/psa/reconciliation/")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("msphub_psa.access").setLevel(previous)
    lines = [line for line in _json_lines(stream.getvalue()) if line["logger"] == "msphub_psa.access"]
    api = next(line for line in lines if line["http_path"] == "/api/v1/psa_integration/")
    assert response.headers["X-Request-Id"] == "caller-req-0001" == api["request_id"]
    assert (api["http_method"], api["http_status"], api["user"], api["partner_id"]) == (
        "GET",
        response.status_code,
        "pilot.admin",
        partner_id,
    )
    assert api["duration_ms"] >= 0 and "secret-search" not in stream.getvalue()  # no query strings
    denied = next(line for line in lines if line["http_path"] == "/api/v1/psa_features/")
    assert (denied["http_status"], denied["user"]) == (
        refused.status_code,
        "pilot.admin",
    ) and refused.status_code == 403
    web = next(line for line in lines if line["http_path"] == "/psa/reconciliation/")
    assert (web["user"], web["partner_id"], web["http_status"]) == ("pilot.admin", partner_id, page.status_code)
    assert len(web["request_id"]) == 32 and page.headers["X-Request-Id"] == web["request_id"]
