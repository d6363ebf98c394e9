"""The distributor's feature toggle: page, REST and CLI; refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.models.tenancy import AuditEvent
from tests.support import tenants
from tests.support.web import api_token, csrf_token, login


def state(app, partner_id):
    """(feature enabled, number of audit events) for a partner."""
    with app.app_context():
        return PartnerFeatureDAO.is_enabled(partner_id), session().scalar(select(func.count(AuditEvent.id)))


def test_distributor_enables_through_the_page_and_partner_sees_card(app, client):
    with app.app_context():
        other = tenants.other().id
    login(client, "distributor")
    token = csrf_token(client, "/psa/partner-features/")
    response = client.post(f"/psa/partner-features/{other}", data={"enabled": "1", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert PartnerFeatureDAO.is_enabled(other)
        event = session().scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert (event.action, event.username, event.partner_id) == ("feature.enable", "distributor", other)
    partner_client = app.test_client()
    login(partner_client, "fabrikam.admin")
    assert 'id="connectwise-card"' in partner_client.get("/psa/my-organization/").get_data(as_text=True)


def test_form_without_csrf_token_is_refused(app, client):
    with app.app_context():
        other = tenants.other().id
    login(client, "distributor")
    before = state(app, other)
    response = client.post(f"/psa/partner-features/{other}", data={"enabled": "1"})
    assert response.status_code == 400
    assert state(app, other) == before


def test_rest_toggle_with_jwt(app, client):
    with app.app_context():
        other = tenants.other().id
    token = api_token(client, "distributor")
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/psa_features/", headers=headers).get_json()["result"]
    assert {row["partner_id"] for row in listed} >= {other}
    response = client.put(f"/api/v1/psa_features/{other}", json={"enabled": True}, headers=headers)
    assert response.status_code == 200 and response.get_json()["enabled"] is True
    response = client.put(f"/api/v1/psa_features/{other}", json={"enabled": False}, headers=headers)
    assert response.get_json()["enabled"] is False


def test_cookie_session_xhr_needs_csrf_header(app, client):
    with app.app_context():
        other = tenants.other().id
    login(client, "distributor")
    before = state(app, other)
    assert client.put(f"/api/v1/psa_features/{other}", json={"enabled": True}).status_code == 400
    assert state(app, other) == before
    token = csrf_token(client, "/psa/partner-features/")
    response = client.put(f"/api/v1/psa_features/{other}", json={"enabled": True}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


@pytest.mark.parametrize("case", ["unknown", "foreign", "viewer", "partner_admin", "bad_json", "missing_field"])
def test_bad_input_gets_clear_4xx_and_changes_nothing(app, client, case):
    with app.app_context():
        other = tenants.other().id
        foreign = tenants.foreign_partner().id
    user = {"viewer": "pilot.viewer", "partner_admin": "pilot.admin"}.get(case, "distributor")
    headers = {"Authorization": f"Bearer {api_token(client, user)}"}
    target = {"unknown": 999999, "foreign": foreign}.get(case, other)
    before = state(app, target)
    kwargs = {"json": {"enabled": True}}
    if case == "bad_json":
        kwargs = {"data": "{not json", "content_type": "application/json"}
    elif case == "missing_field":
        kwargs = {"json": {"enable": "yes"}}
    response = client.put(f"/api/v1/psa_features/{target}", headers=headers, **kwargs)
    expected = {
        "unknown": 404,
        "foreign": 404,
        "viewer": 403,
        "partner_admin": 403,
        "bad_json": 400,
        "missing_field": 400,
    }[case]
    assert response.status_code == expected
    assert response.get_json()["message"]
    assert state(app, target) == before


def test_cli_toggle_acts_as_named_user(app):
    with app.app_context():
        other = tenants.other().id
    runner = app.test_cli_runner()
    result = runner.invoke(args=["psa", "feature", "enable", "--partner", str(other), "--as", "distributor"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert PartnerFeatureDAO.is_enabled(other)
        event = session().scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert event.username == "distributor"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--partner", "999999", "--as", "distributor"], "Partner 999999 not found"),
        (["--partner", "{other}", "--as", "pilot.admin"], "Only your distributor"),
        (["--partner", "{other}", "--as", "nobody"], "No active user"),
    ],
)
def test_cli_refusals(app, args, message):
    with app.app_context():
        other = tenants.other().id
    before = state(app, other)
    args = [a.format(other=other) for a in args]
    result = app.test_cli_runner().invoke(args=["psa", "feature", "enable", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert state(app, other) == before
