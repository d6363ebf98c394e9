"""The API URL policy normalises pasted URLs and refuses unsafe ones before any connection."""

from __future__ import annotations

import socket

import httpx
import pytest

from msphub_psa.connectwise import ApiUrlPolicy, ConnectWiseClient, Credentials, CWURLRefused

PUBLIC = {
    "api-na.myconnectwise.net": ["52.1.2.3"],
    "api-eu.myconnectwise.net": ["2a05:d018::1"],
    "api-au.myconnectwise.net": ["10.1.2.3"],
    "api-za.myconnectwise.net": ["169.254.169.254"],
    "api-aus.myconnectwise.net": ["127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
}
CREDS = Credentials("co", "pub", "sekret-private", "cid")


def fake_resolver(host: str) -> list[str]:
    """No DNS here: a fixed table."""
    return PUBLIC.get(host, ["93.184.216.34"])


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything opens a connection or resolves a name."""
    opened = []

    def refuse(*args, **kwargs):
        opened.append(args)
        raise AssertionError(f"network used: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return opened


@pytest.mark.parametrize(
    "pasted",
    [
        "api-na.myconnectwise.net",
        "https://api-na.myconnectwise.net",
        "https://api-na.myconnectwise.net/",
        "HTTPS://API-NA.myconnectwise.net/v4_6_release/apis/3.0/",
        " https://api-na.myconnectwise.net/v4_6_release ",
        "https://api-na.myconnectwise.net:443/v4_6_release/apis/3.0",
    ],
)
def test_accepted_forms_normalise_to_the_base_url(pasted, no_network):
    api = ApiUrlPolicy(resolver=fake_resolver).check(pasted)
    assert api.base_url == "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
    assert api.company_info_url("my co") == "https://api-na.myconnectwise.net/login/companyinfo/my%20co"


def test_codebase_is_kept_and_ipv6_public_allowed(no_network):
    api = ApiUrlPolicy(resolver=fake_resolver).check("https://api-eu.myconnectwise.net/v2025_1/apis/3.0")
    assert api.base_url == "https://api-eu.myconnectwise.net/v2025_1/apis/3.0"


@pytest.mark.parametrize(
    "url",
    [
        "http://x",
        "https://10.0.0.1",
        "https://169.254.169.254/latest/meta-data",
        "https://example.com",
        "http://api-na.myconnectwise.net",
        "https://api-au.myconnectwise.net",
        "https://api-za.myconnectwise.net",
        "https://api-aus.myconnectwise.net",
        "https://api-na.myconnectwise.net:8443",
        "https://user:pw@api-na.myconnectwise.net",
        "https://api-na.myconnectwise.net/?x=1",
        "https://api-na.myconnectwise.net/etc/passwd",
        "",
        "https://[::1]/",
        "https://127.0.0.1",
        "http://127.0.0.1:8765",
        "ftp://api-na.myconnectwise.net",
    ],
)
def test_refused_before_any_connection(url, no_network):
    with pytest.raises(CWURLRefused):
        ConnectWiseClient(CREDS, url, url_policy=ApiUrlPolicy(resolver=fake_resolver))
    assert no_network == []


def test_refused_even_with_a_transport_that_would_answer(no_network):
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200, json={}))
    with pytest.raises(CWURLRefused):
        ConnectWiseClient(
            CREDS, "https://10.0.0.1", transport=transport, url_policy=ApiUrlPolicy(resolver=fake_resolver)
        )
    assert calls == []


def test_allowed_host_list_is_configurable(no_network):
    policy = ApiUrlPolicy(["cw.partner.example"], resolver=fake_resolver)
    assert policy.check("cw.partner.example").site == "https://cw.partner.example"
    with pytest.raises(CWURLRefused):
        policy.check("https://api-na.myconnectwise.net")


def test_loopback_http_only_when_allowed(no_network):
    demo = ApiUrlPolicy(allow_loopback_http=True, resolver=fake_resolver)
    assert (
        demo.check("http://127.0.0.1:8765/v4_6_release/apis/3.0").base_url
        == "http://127.0.0.1:8765/v4_6_release/apis/3.0"
    )
    assert demo.check("http://localhost:8765").site == "http://localhost:8765"
    for url in ("http://10.0.0.1", "http://api-aus.myconnectwise.net", "http://example.com"):
        with pytest.raises(CWURLRefused):
            demo.check(url)


def test_loopback_only_http_or_https_and_only_the_sandbox_ports(no_network):
    demo = ApiUrlPolicy(allow_loopback_http=True, loopback_ports=[8765, 8104], resolver=fake_resolver)
    assert demo.check("http://[::1]:8104/").site == "http://[::1]:8104"
    assert demo.check("https://localhost:8765").site == "https://localhost:8765"
    for url in ("gopher://127.0.0.1:8765/", "ftp://localhost:8765", "http://localhost:6379/", "http://127.0.0.1"):
        with pytest.raises(CWURLRefused):
            demo.check(url)
    assert ApiUrlPolicy(allow_loopback_http=True, resolver=fake_resolver).check("http://[::1]:9/").site == (
        "http://[::1]:9"
    )


def test_unresolvable_host_is_refused():
    def failing(host):
        raise CWURLRefused("nope")

    with pytest.raises(CWURLRefused):
        ApiUrlPolicy(resolver=failing).check("https://api-na.myconnectwise.net")
