"""API URL policy at Save time and in the job: refused before anything is stored, enqueued or connected."""

from __future__ import annotations

import socket

import pytest

from msphub_psa.jobqueue import get_queue
from tests.support import tenants
from tests.support.card import activate, form_values, integration_of, run_validation, session_client, status
from tests.support.settings import configure

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _target(args) -> str:
    """The host a connect/getaddrinfo call is about."""
    first = args[1] if args and isinstance(args[0], socket.socket) else args[0]
    return str(first[0] if isinstance(first, tuple) else first)


@pytest.fixture
def no_sockets(monkeypatch):
    """Refuse (and record) every connection or DNS lookup to anything but loopback (Redis, the sandbox)."""
    refused = []
    originals = {"connect": socket.socket.connect, "getaddrinfo": socket.getaddrinfo}

    def guard(name):
        def call(*args, **kwargs):
            if _target(args) not in LOOPBACK:
                refused.append((name, _target(args)))
                raise AssertionError(f"non-loopback {name}: {_target(args)}")
            return originals[name](*args, **kwargs)

        return call

    monkeypatch.setattr(socket.socket, "connect", guard("connect"))
    monkeypatch.setattr(socket, "getaddrinfo", guard("getaddrinfo"))
    return refused


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://api-na.myconnectwise.net", "must use https"),
        ("https://10.0.0.1", "not an allowed ConnectWise API host"),
        ("https://169.254.169.254/latest/meta-data", "not"),
        ("https://evil.example.com", "not an allowed ConnectWise API host"),
        ("https://api-na.myconnectwise.net:8443", "Port 8443 is not allowed"),
        ("https://user:pw@api-na.myconnectwise.net", "plain host and path"),
    ],
)
def test_unsafe_api_urls_are_refused_at_save(app, cw_live, no_sockets, url, reason):
    client, headers = session_client(app)
    queued = len(_queue(app))
    configure(app, PSA_CW_RESOLVER=lambda host: ["203.0.113.10"])
    response = activate(client, headers, form_values(cw_live, api_url=url))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert reason in response.get_json()["errors"]["api_url"][0]
    assert no_sockets == []
    assert len(_queue(app)) == queued
    with app.app_context():
        assert integration_of(app, tenants.pilot().id) is None


def test_allowed_host_resolving_to_private_or_metadata_address_is_refused(app, cw_live, no_sockets):
    client, headers = session_client(app)
    for address in ("10.0.0.1", "169.254.169.254", "127.0.0.1", "fd00::1"):
        configure(app, PSA_CW_RESOLVER=lambda host, a=address: [a])
        response = activate(client, headers, form_values(cw_live, api_url="https://api-na.myconnectwise.net"))
        assert response.status_code == 400
        assert "non-public address" in response.get_json()["errors"]["api_url"][0]
    assert no_sockets == []


def _queue(app):
    with app.app_context():
        return get_queue("fast").job_ids


def test_job_refuses_a_url_the_policy_no_longer_allows(app, cw_live, no_sockets):
    """A URL stored while allowed, refused by the job after the policy changed: no connection."""
    client, headers = session_client(app)
    body = activate(client, headers, form_values(cw_live)).get_json()  # loopback http allowed in test
    configure(app, PSA_CW_ALLOW_LOOPBACK_HTTP=False)
    assert run_validation(app, body["integration_id"], body["job_id"]) == "failed"
    state = status(client)
    assert state["status"] == "invalid" and "API URL is not allowed" in state["hint"]
    assert no_sockets == []


def test_public_address_on_an_allowed_host_passes_the_save_check(app, cw_live, no_sockets):
    client, headers = session_client(app)
    configure(app, PSA_CW_RESOLVER=lambda host: ["52.1.2.3"])  # never contacted: no job runs here
    response = activate(client, headers, form_values(cw_live, api_url="api-eu.myconnectwise.net/v2025_1/apis/3.0/"))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["status"]["api_url"] == "https://api-eu.myconnectwise.net/v2025_1/apis/3.0"
    assert no_sockets == []
    with app.app_context():
        get_queue("fast").remove(response.get_json()["job_id"])


@pytest.mark.parametrize(
    "url, reason",
    [
        ("gopher://127.0.0.1:8765/", "must use http or https, not gopher"),
        ("ftp://localhost:8765/", "must use http or https, not ftp"),
        ("http://localhost:6379/", "Port 6379 is not a sandbox port"),
        ("http://127.0.0.1/", "Port 80 is not a sandbox port"),
        ("http://[::1]:5432/", "Port 5432 is not a sandbox port"),
    ],
)
def test_loopback_urls_only_http_on_the_sandbox_ports(app, cw_live, no_sockets, url, reason):
    """Demo and test mode allow loopback http for the sandbox: only http(s), only its port(s) (the default)."""
    client, headers = session_client(app)
    queued = len(_queue(app))
    configure(app, PSA_CW_LOOPBACK_PORTS="8765")
    response = activate(client, headers, form_values(cw_live, api_url=url))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert reason in response.get_json()["errors"]["api_url"][0]
    assert len(_queue(app)) == queued
    with app.app_context():
        assert integration_of(app, tenants.pilot().id) is None


def test_an_ipv6_loopback_url_keeps_its_brackets(app, cw_live, no_sockets):
    client, headers = session_client(app)
    configure(app, PSA_CW_LOOPBACK_PORTS="8104")
    response = activate(client, headers, form_values(cw_live, api_url="http://[::1]:8104/"))
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["status"]["api_url"] == "http://[::1]:8104/v4_6_release/apis/3.0"
    with app.app_context():
        get_queue("fast").remove(response.get_json()["job_id"])
