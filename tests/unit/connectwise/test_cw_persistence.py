"""Sandbox state persists in a SQLite file across restarts."""

from __future__ import annotations

import httpx

from msphub_psa.connectwise import Credentials
from msphub_psa.connectwise.sandbox import create_app, get_sandbox
from msphub_psa.connectwise.sandbox.seed import DEMO_CLIENT_ID, DEMO_COMPANY_ID, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY

HEADERS = Credentials(DEMO_COMPANY_ID, DEMO_PUBLIC_KEY, DEMO_PRIVATE_KEY, DEMO_CLIENT_ID).headers()
ADD = "/v4_6_release/apis/3.0/finance/agreements/1/additions"


def client_for(app):
    """Raw authenticated client on ``app``."""
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1", headers=HEADERS)


def test_state_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox.db"
    first = create_app(path)
    created = (
        client_for(first)
        .post(ADD, json={"product": {"id": 1}, "billCustomer": "Billable", "serialNumber": "MSPHUB-T900"})
        .json()
    )
    client_for(first).delete("/v4_6_release/apis/3.0/company/companies/2")
    get_sandbox(first).store.close()

    second = create_app(path)  # the file holds accounts: the seed is not reloaded
    http = client_for(second)
    again = http.get(f"{ADD}/{created['id']}").json()
    assert again["serialNumber"] == "MSPHUB-T900"
    assert http.get("/v4_6_release/apis/3.0/company/companies/2").json()["deletedFlag"] is True
    next_one = http.post(ADD, json={"product": {"id": 1}, "billCustomer": "Billable"}).json()
    assert next_one["id"] == created["id"] + 1  # ids keep counting
