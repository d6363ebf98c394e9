"""Batched reads by id and by catalog identifier, in-process, at ConnectWise's real API host.

The sandbox runs behind ``WSGITransport``, so the client can use ``https://api-na.myconnectwise.net``
as its base URL: every URL is then exactly as long as it would be against ConnectWise, and the
sandbox refuses one over 2,000 characters (414) as a front end would. A recording transport
counts the URL of each request.
"""

from __future__ import annotations

from math import ceil

import httpx
import pytest

from msphub_psa.connectwise import ApiUrlPolicy, CWHTTPError
from msphub_psa.connectwise import conditions as c
from msphub_psa.connectwise.sandbox import create_app, default_seed

HOST = "https://api-na.myconnectwise.net"
BASE = f"{HOST}/v4_6_release/apis/3.0"
LIMIT = 2000


class Recorder(httpx.BaseTransport):
    """Delegates to the sandbox and keeps the URL of every request."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.urls = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return self.inner.handle_request(request)


def fewest_calls(path: str, field: str, literals: list[str]) -> int:
    """The fewest requests of at most 2,000-character URLs that can carry ``field in (...)`` of these literals.

    Computed from httpx's own encoding, independently of the client: the URL without values,
    plus each value and a comma (``%2C``) between two; at most 1,000 values a request.
    """
    empty = httpx.Request("GET", BASE + path, params={"conditions": f"{field} in ()", "pageSize": "1000"})
    encoded = [len(str(httpx.QueryParams({"c": lit}))) - 2 for lit in literals]
    room = LIMIT - len(str(empty.url)) + 3
    if len(set(encoded)) == 1:
        return ceil(len(literals) / min(room // (encoded[0] + 3), 1000))
    return max(ceil(sum(e + 3 for e in encoded) / room), ceil(len(literals) / 1000))  # a lower bound


def at_host(cw_sandbox, app=None):
    """A client at ConnectWise's host on the sandbox (``app``, default: the fixture's), and its recorder."""
    recorder = Recorder(httpx.WSGITransport(app=app) if app else cw_sandbox.transport)
    policy = ApiUrlPolicy(resolver=lambda host: ["52.5.6.7"])  # a public address; nothing is resolved
    return cw_sandbox.client(api_url=HOST, url_policy=policy, transport=recorder), recorder


@pytest.mark.parametrize(
    "ids, calls",
    [
        (range(1, 2001), 7),  # 1..2,000: the demo account has 37 agreements among them
        (range(100_000, 102_000), 10),  # 2,000 six-digit ids
        (range(1000, 3000), 8),  # 2,000 four-digit ids
    ],
)
def test_get_agreements_uses_the_fewest_urls_of_at_most_2000_characters(cw_sandbox, ids, calls):
    client, recorder = at_host(cw_sandbox)
    found = client.get_agreements(ids)
    assert sorted(found) == [a["id"] for a in cw_sandbox.state("agreements") if a["id"] in ids]
    assert all(agreement.id == key for key, agreement in found.items())
    assert len(recorder.urls) == client.calls[("GET", "/finance/agreements")] == calls
    assert calls == fewest_calls("/finance/agreements", "id", [str(i) for i in ids])
    assert max(len(url) for url in recorder.urls) <= LIMIT
    assert all("pageSize=1000" in url for url in recorder.urls)
    assert [e["status"] for e in cw_sandbox.requests()] == [200] * calls


def test_one_unbatched_condition_of_2000_ids_is_refused_with_414(cw_sandbox):
    client, recorder = at_host(cw_sandbox)
    with pytest.raises(CWHTTPError) as caught:
        list(client.iter_agreements(c.in_("id", range(1, 2001), compact=True)))
    assert caught.value.status == 414 and len(recorder.urls[0]) > LIMIT
    assert cw_sandbox.requests()[-1]["status"] == 414


def test_get_companies_returns_what_exists_including_soft_deleted(cw_sandbox):
    client, recorder = at_host(cw_sandbox)
    found = client.get_companies([18, 1, 999_999, 1, 20])
    assert list(found) == [1, 18, 20] and found[18].deleted and found[1].name == "Acme Corporation"
    assert len(recorder.urls) == 1
    assert client.get_companies([]) == {} and len(recorder.urls) == 1  # no call for nothing
    with pytest.raises(TypeError):
        client.get_companies(["1"])


HOSTILE = [
    'Q"uote',
    "O'Brien",
    "with space",
    "100%",
    "A&B",
    "a+b",
    "Café-Müller",
    "ÆRØ-1",
    "back\\slash",
    "[br]acket",
    "star*",
    "under_score",
    "x-" + "€" * 40,
    "trail ",
]


def catalog_item(number: int, identifier: str, inactive: bool = False) -> dict:
    """A seed catalog item."""
    return {
        "id": number,
        "identifier": identifier,
        "description": f"Item {number}",
        "customerDescription": "x",
        "subcategory": {"id": 1},
        "type": {"id": 1},
        "price": 1,
        "inactiveFlag": inactive,
    }


@pytest.fixture
def catalog_app():
    """A sandbox whose catalog holds hostile identifiers, case twins and an inactive item."""
    seed = default_seed()
    items = [catalog_item(100 + i, ident) for i, ident in enumerate(HOSTILE)]
    items += [
        catalog_item(200, "M365-Basic"),
        catalog_item(201, "m365-BASIC"),
        catalog_item(202, "OLD-SKU", True),
        catalog_item(203, "1000"),
        catalog_item(204, "underXscore"),
        catalog_item(205, "under_scorE"),
    ]
    seed["accounts"][0]["catalogItems"] += items
    return create_app(seed=seed)


def test_find_catalog_items_matches_ignoring_case_and_keeps_exact_identifiers(cw_sandbox, catalog_app):
    client, recorder = at_host(cw_sandbox, catalog_app)
    wanted = [h.upper() for h in HOSTILE] + ["m365-basic", "M365-BASIC", "old-sku", "NOPE", "trail"]
    found = client.find_catalog_items(wanted)
    assert list(found) == wanted and len(recorder.urls) == 1 and len(recorder.urls[0]) <= LIMIT
    for hostile in HOSTILE:
        if hostile == "under_score":
            assert {i.identifier for i in found["UNDER_SCORE"]} == {"under_score", "under_scorE"}  # _ is no wildcard
        else:
            assert [i.identifier for i in found[hostile.upper()]] == [hostile], hostile
    assert [(i.id, i.identifier) for i in found["m365-basic"]] == [(200, "M365-Basic"), (201, "m365-BASIC")]
    assert found["M365-BASIC"] == found["m365-basic"]
    assert [(i.identifier, i.inactive) for i in found["old-sku"]] == [("OLD-SKU", True)]
    assert found["NOPE"] == [] and [i.identifier for i in found["trail"]] == ["trail "]  # SQL Server pads
    assert client.find_catalog_items([]) == {}


def test_find_catalog_items_in_the_fewest_calls_when_many_are_wanted(cw_sandbox, catalog_app):
    client, recorder = at_host(cw_sandbox, catalog_app)
    wanted = [f"SKU-{n:05d}-{'é' * 10}" for n in range(400)] + ["M365-BASIC"]
    found = client.find_catalog_items(wanted)
    assert len(found["M365-BASIC"]) == 2 and all(found[w] == [] for w in wanted[:-1])
    literals = [c.literal(w) for w in wanted]
    assert len(recorder.urls) == fewest_calls("/procurement/catalog", "identifier", literals[:-1])
    assert max(len(url) for url in recorder.urls) <= LIMIT
    with pytest.raises(ValueError):
        client.find_catalog_items(["x" * 2000])
