"""Activate, validate (job body in-process against the sandbox over loopback HTTP), status, failures."""

from __future__ import annotations

from sqlalchemy import select

from msphub_psa.commands.integration import GENERIC_FAILURE
from msphub_psa.crypto import decrypt_secret
from msphub_psa.daos.base import session
from msphub_psa.models.tenancy import AuditEvent
from tests.support import tenants
from tests.support.card import activate, form_values, integration_of, run_validation, session_client, status
from tests.support.settings import configure


def pilot_id(app) -> int:
    with app.app_context():
        return tenants.pilot().id


def audits(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(session().scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        session().expunge_all()
        return rows


def test_activation_validates_to_active_with_who_and_when(app, cw_live):
    client, headers = session_client(app)
    response = activate(client, headers, form_values(cw_live))
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["created"] and body["status"]["validating"] and body["status"]["status"] == "validating"
    assert client.get("/psa/").status_code == 403  # nothing active yet
    assert run_validation(app, body["integration_id"], body["job_id"]) == "active"
    state = status(client)
    assert state["status_label"] == "Active" and not state["validating"] and state["menu_visible"]
    assert state["activated_by"] == "Pat Pilot (pilot.admin)"
    assert state["activated_at_display"].endswith(("EST", "EDT"))  # the partner's America/New_York
    assert state["client_id_locked"] and state["has_private_key"] and "private_key" not in state
    assert client.get("/psa/").status_code == 200
    page = client.get("/psa/my-organization/").get_data(as_text=True)
    assert "Reconciliation Center" in page and 'href="/psa/reconciliation/"' in page and "cw-deactivate" in page
    assert [a.outcome for a in audits(app, "integration.validation")] == ["ok"]
    assert audits(app, "integration.activate")[0].username == "pilot.admin"
    stored = integration_of(app, pilot_id(app))
    with app.app_context():
        assert decrypt_secret(stored.private_key_encrypted) == cw_live.private_key
    assert cw_live.private_key.encode() not in stored.private_key_encrypted


def test_wrong_private_key_gives_generic_message_hint_and_audited_cause(app, cw_live):
    client, headers = session_client(app)
    body = activate(client, headers, form_values(cw_live, private_key="wrong-key")).get_json()
    assert run_validation(app, body["integration_id"], body["job_id"]) == "failed"
    state = status(client)
    assert state["status"] == "invalid" and state["status_label"] == "Not activated" and not state["menu_visible"]
    assert state["message"] == GENERIC_FAILURE
    assert "refused the keys or the Client ID" in state["hint"]
    assert client.get("/psa/").status_code == 403
    event = audits(app, "integration.validation")[-1]
    assert event.outcome == "failed" and event.detail["error"] == "CWAuthError" and event.detail["cw_status"] == 401
    assert "wrong-key" not in str(event.detail)
    page = client.get("/psa/my-organization/").get_data(as_text=True)
    assert GENERIC_FAILURE in page and "cw-activate" in page


def test_each_failed_check_has_its_hint(app, cw_live):
    client, headers = session_client(app)
    configure(app, PSA_CW_VALIDATION_TIMEOUT=0.5)
    cases = [
        (form_values(cw_live, company_name="no_such_company"), "did not find this company", "CWCompanyNotFound"),
        (
            form_values(cw_live, client_id="00000000-0000-0000-0000-000000000000"),
            "refused the keys or the Client ID",
            "CWAuthError",
        ),
        (form_values(cw_live, api_url="http://127.0.0.1:9"), "could not be reached", "CWUnreachable"),
    ]
    for values, hint, error in cases:
        body = activate(client, headers, values).get_json()
        assert run_validation(app, body["integration_id"], body["job_id"]) == "failed"
        state = status(client)
        assert hint in state["hint"] and state["message"] == GENERIC_FAILURE, state
        assert audits(app, "integration.validation")[-1].detail["error"] == error
    cw_live.set_faults([{"kind": "timeout", "ms": 1500, "path": "system/info"}])
    body = activate(client, headers, form_values(cw_live)).get_json()
    assert run_validation(app, body["integration_id"], body["job_id"]) == "failed"
    assert "did not answer in time" in status(client)["hint"]


def test_viewer_sees_the_card_but_cannot_activate(app, cw_live):
    client, headers = session_client(app, "pilot.viewer")
    assert activate(client, headers, form_values(cw_live)).status_code == 403
    state = status(client)
    assert not state["can_write"] and state["status"] == "inactive"
    page = client.get("/psa/my-organization/").get_data(as_text=True)
    assert "connectwise-card" in page and "cw-activate" not in page and "cw-form" not in page
    assert integration_of(app, pilot_id(app)) is None


def test_partner_without_feature_gets_403_and_no_card(app, cw_live):
    client, headers = session_client(app, "fabrikam.admin")
    assert activate(client, headers, form_values(cw_live)).status_code == 403
    assert client.get("/api/v1/psa_integration/").status_code == 403
    assert "connectwise-card" not in client.get("/psa/my-organization/").get_data(as_text=True)


def test_other_tenant_id_answers_404_and_audits_nothing_of_theirs(app, cw_live):
    with app.app_context():
        other = tenants.other().id
        before = session().query(AuditEvent).filter(AuditEvent.partner_id == other).count()
    client, headers = session_client(app)
    query = f"?partner_id={other}"
    assert client.get(f"/api/v1/psa_integration/{query}").status_code == 404
    assert activate(client, headers, form_values(cw_live), query).status_code == 404
    assert client.post(f"/api/v1/psa_integration/deactivate{query}", headers=headers).status_code == 404
    with app.app_context():
        assert session().query(AuditEvent).filter(AuditEvent.partner_id == other).count() == before
    assert integration_of(app, other) is None


def test_bad_input_is_400_and_stores_nothing(app, cw_live):
    client, headers = session_client(app)
    response = activate(client, headers, {"company_name": "x"})
    assert response.status_code == 400 and "public_key" in response.get_json()["errors"]
    response = activate(client, headers, form_values(cw_live, private_key=""))
    assert response.status_code == 400 and response.get_json()["errors"]["private_key"] == ["Enter the Private Key."]
    assert activate(client, headers, {**form_values(cw_live), "extra": 1}).status_code == 400
    assert integration_of(app, pilot_id(app)) is None


def test_the_plugin_static_files_are_served(app):
    client, _headers = session_client(app)
    for name in ("psa.js", "card.js", "psa.css", "docs/card-active.png"):
        assert client.get(f"/psa/static/{name}").status_code == 200, name
    assert "/psa/static/card.js" in client.get("/psa/my-organization/").get_data(as_text=True)


def test_queue_down_answers_503_and_stores_nothing(app, cw_live):
    client, headers = session_client(app)
    configure(app, REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens there
    app.extensions.get("psa", {}).pop("redis", None)
    response = activate(client, headers, form_values(cw_live))
    assert response.status_code == 503 and "nothing was saved" in response.get_json()["message"]
    assert integration_of(app, pilot_id(app)) is None
