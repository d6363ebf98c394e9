"""Helpers of the ConnectWise card tests: save through the REST API, run the job's body in-process."""

from __future__ import annotations

from msphub_psa.commands.integration import ValidateIntegrationCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO
from tests.support.web import csrf_token, login


def form_values(cw, **overrides) -> dict:
    """The card's form filled with the sandbox's demo credentials."""
    values = {
        "client_id": cw.client_id,
        "company_name": cw.company_id,
        "public_key": cw.public_key,
        "private_key": cw.private_key,
        "api_url": cw.base_url,
    }
    values.update(overrides)
    return values


def session_client(app, username: str = "pilot.admin"):
    """A logged-in test client and its CSRF header."""
    client = app.test_client()
    login(client, username)
    return client, {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}


def activate(client, headers, values, query: str = ""):
    """POST the activation form."""
    return client.post(f"/api/v1/psa_integration/activate{query}", json=values, headers=headers)


def edit(client, headers, values, query: str = ""):
    """PUT the edit form."""
    return client.put(f"/api/v1/psa_integration/{query}", json=values, headers=headers)


def status(client, query: str = "") -> dict:
    """GET the card's state."""
    response = client.get(f"/api/v1/psa_integration/{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def run_validation(app, integration_id: int, job_id: str) -> str:
    """Run the validation job's body in this process (what the worker does)."""
    with app.app_context():
        outcome = ValidateIntegrationCommand(integration_id, job_id).run()
        session().remove()
    return outcome


def integration_of(app, partner_id: int):
    """The partner's integration, detached (for assertions)."""
    with app.app_context():
        row = IntegrationDAO.for_partner_fresh(partner_id)
        session().expunge_all()
        return row
