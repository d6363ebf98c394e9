"""Audit log: console page, REST list and CSV export (tenant-scoped, filtered), CLI, no secret in detail."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from msphub_psa.commands.base import audit, scrub, transaction
from msphub_psa.domain.actor import Actor
from tests.support import tenants
from tests.support.web import api_token, login


@transaction
def _event(partner_id, action, at=None, username="pilot.admin", **detail):
    """Record one audit event (optionally back-dated)."""
    from msphub_psa.daos.audit import AuditDAO

    audit(Actor(None, username), action, "customer", 7, partner_id=partner_id, **detail)
    if at is not None:
        AuditDAO.page(partner_id, {"action": action}, 1, 1)[1][0].at = at


@pytest.fixture
def events(app):
    """Events of the pilot and of Fabrikam, one old, one with a formula-looking object."""
    with app.app_context():
        a, b = tenants.pilot().id, tenants.other().id
        _event(a, "mapping.create", note="A-ONLY")
        _event(a, "mapping.delete", at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC), note="=HYPERLINK(1)")
        _event(b, "mapping.create", username="fabrikam.admin", note="B-ONLY")
        return a, b


def _bearer(client, user):
    return {"Authorization": f"Bearer {api_token(client, user)}"}


def _csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_partner_admin_exports_only_own_tenant(app, events):
    a, b = events
    client = app.test_client()
    rows = _csv(client.get("/api/v1/psa_audit/export", headers=_bearer(client, "pilot.admin")))
    assert rows and {r["partner_id"] for r in rows} == {str(a)}
    assert any("A-ONLY" in r["detail"] for r in rows)
    assert not any("B-ONLY" in r["detail"] for r in rows)
    formula = next(r for r in rows if "HYPERLINK" in r["detail"])
    assert json.loads(formula["detail"])["note"].startswith("=")  # inside JSON: harmless text, kept as is
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), key=int)  # oldest first
    # another tenant's partner id is 404, never B's rows
    response = client.get(f"/api/v1/psa_audit/export?partner_id={b}", headers=_bearer(client, "pilot.admin"))
    assert response.status_code == 404 and "B-ONLY" not in response.get_data(as_text=True)


def test_filters_and_admin_scope(app, events):
    a, b = events
    client = app.test_client()
    admin = _bearer(client, "admin")
    everything = _csv(client.get("/api/v1/psa_audit/export", headers=admin))
    assert {str(a), str(b)} <= {r["partner_id"] for r in everything}
    only_b = _csv(client.get(f"/api/v1/psa_audit/export?partner_id={b}&action=mapping.*", headers=admin))
    assert only_b and all(r["partner_id"] == str(b) and r["action"].startswith("mapping.") for r in only_b)
    old = _csv(client.get(f"/api/v1/psa_audit/export?partner_id={a}&until=2024-02-01", headers=admin))
    assert [r["action"] for r in old] == ["mapping.delete"]
    recent = _csv(
        client.get(
            f"/api/v1/psa_audit/export?partner_id={a}&since=2025-01-01&username=pilot.admin"
            "&object_type=customer&object_id=7&outcome=ok",
            headers=admin,
        )
    )
    assert [r["action"] for r in recent] == ["mapping.create"]
    page = client.get(f"/api/v1/psa_audit/?partner_id={a}&page_size=1", headers=admin).get_json()
    assert page["count"] >= 2 and len(page["result"]) == 1 and page["result"][0]["partner_id"] == a


@pytest.mark.parametrize(
    "query",
    [
        "since=yesterday",
        "since=1850-01-01",
        "since=2026-02-30",
        "since=2026-05-01&until=2026-04-01",
        "outcome=maybe",
        "partner_id=x",
        "action=" + "a" * 61,
        "page=0",
    ],
)
def test_bad_filters_are_400(app, query):
    client = app.test_client()
    response = client.get(f"/api/v1/psa_audit/?{query}", headers=_bearer(client, "pilot.admin"))
    assert response.status_code == 400 and response.get_json()["message"]
    response = client.get(f"/api/v1/psa_audit/export?{query}", headers=_bearer(client, "pilot.admin"))
    assert response.status_code == 400


def test_viewer_reads_distributor_refused(app, events):
    client = app.test_client()
    assert _csv(client.get("/api/v1/psa_audit/export", headers=_bearer(client, "pilot.viewer")))
    assert client.get("/api/v1/psa_audit/export", headers=_bearer(client, "distributor")).status_code == 403
    assert client.get("/api/v1/psa_audit/export").status_code == 401


def test_console_page_has_filters_and_export(app, events):
    client = app.test_client()
    login(client, "pilot.viewer")
    html = client.get("/auditeventview/list/").get_data(as_text=True)
    assert "Export CSV" in html and 'action="/api/v1/psa_audit/export"' in html
    assert "fabrikam.admin" not in html
    rows = _csv(client.get("/api/v1/psa_audit/export?action=mapping.create"))  # the form's GET, cookie session
    assert rows and all(r["action"] == "mapping.create" for r in rows)


def test_cli_export(app, events, tmp_path):
    a, b = events
    out = tmp_path / "audit.csv"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "psa",
            "audit",
            "export",
            "--partner",
            str(a),
            "--since",
            "2025-01-01",
            "--output",
            str(out),
            "--as",
            "pilot.viewer",
        ]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["partner_id"] for r in rows} == {str(a)} and "mapping.delete" not in {r["action"] for r in rows}
    result = runner.invoke(args=["psa", "audit", "export", "--partner", str(b), "--as", "pilot.admin"])
    assert result.exit_code == 2 and "404" in result.output and "B-ONLY" not in result.output
    result = runner.invoke(args=["psa", "audit", "export", "--since", "nope", "--as", "admin"])
    assert result.exit_code == 2 and "400" in result.output


def test_detail_never_carries_a_secret(app):
    detail = {
        "private_key": "K1",
        "pending": {"credentials": {"private_key": "K2"}},
        "Password": "K3",
        "items": [{"api_key": "K4", "ok": 1}],
        "public_key": "fine",
        "client_secret": "K5",
    }
    cleaned = scrub(detail)
    text = json.dumps(cleaned)
    assert not any(f"K{i}" in text for i in range(1, 6)) and "fine" in text
    with app.app_context():
        _event(tenants.pilot().id, "test.secret", private_key="SUPER-SECRET-1", token="SUPER-SECRET-2")
        client = app.test_client()
        body = client.get(
            "/api/v1/psa_audit/export?action=test.secret", headers=_bearer(client, "pilot.admin")
        ).get_data(as_text=True)
    assert "test.secret" in body and "SUPER-SECRET" not in body and "[redacted]" in body
