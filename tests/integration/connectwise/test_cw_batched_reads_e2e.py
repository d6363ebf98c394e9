"""Batched reads over real HTTP (and in-process): right records, fewest calls, no URL over 2,000 characters.

The sandbox answers 414 to a longer URL, so a batch the client got wrong fails here as it would
in ConnectWise. URL lengths are read back from the sandbox's request log.
"""

from __future__ import annotations

from math import ceil

import httpx
import pytest

from msphub_psa.connectwise import CWHTTPError
from msphub_psa.connectwise import conditions as c

TOTAL = 20 + 2500


def sent_urls(handle, since=0) -> list[str]:
    """The URLs of the API requests logged since ``since``."""
    return [f"{handle.root_url}{e['path']}?{e['query']}" for e in handle.requests(since) if "/apis/3.0/" in e["path"]]


def fewest_calls(handle, path, ids) -> int:
    """The fewest requests of at most 2,000 characters that can carry ``id in (...)`` of ``ids`` (a lower bound)."""
    empty = httpx.Request("GET", f"{handle.base_url}{path}", params={"conditions": "id in ()", "pageSize": "1000"})
    room = 2000 - len(str(empty.url)) + len("%2C")
    return max(ceil(sum(len(str(i)) + len("%2C") for i in ids) / room), ceil(len(ids) / 1000))


@pytest.fixture
def big(cw_big_live):
    """The sandbox with 2,520 companies, faults and log cleared."""
    cw_big_live.clear_faults()
    return cw_big_live


def test_every_company_by_id_in_the_fewest_calls(big):
    ids = list(range(1, 1021)) + list(range(1001, 3521))  # duplicates and 1,000 ids that do not exist
    since = big.requests()[-1]["seq"] if big.requests() else 0
    with big.client() as client:
        found = client.get_companies(ids)
        calls = client.calls[("GET", "/company/companies")]
    assert len(found) == TOTAL and list(found) == sorted(found)
    assert found[18].deleted and found[3500 - 1000].name == "Generated Customer 002500"
    urls = sent_urls(big, since)
    assert len(urls) == calls == fewest_calls(big, "/company/companies", sorted(set(ids))) == 13
    assert max(len(url) for url in urls) <= 2000


def test_agreements_by_id(cw_both):
    with cw_both.client() as client:
        found = client.get_agreements(range(1, 2001))
        assert client.calls[("GET", "/finance/agreements")] == fewest_calls(
            cw_both, "/finance/agreements", range(1, 2001)
        )
    stored = cw_both.state("agreements")
    assert list(found) == [a["id"] for a in stored]
    assert found[1].name == "Microsoft CSP - Monthly" and found[1].company.id == 1
    assert max(len(u) for u in sent_urls(cw_both)) <= 2000


def test_catalog_items_by_identifier(cw_both):
    with cw_both.client() as client:
        client.update_catalog_item(4, {"inactiveFlag": True})
        found = client.find_catalog_items(["cfq7ttc0lh18-p1m-m", "AZURE-plan", "CFQ7TTC0LH18-P1M-M ", "nope"])
        assert client.calls[("GET", "/procurement/catalog")] == 1
    assert [(i.id, i.identifier, i.inactive) for i in found["cfq7ttc0lh18-p1m-m"]] == [(1, "CFQ7TTC0LH18-P1M-M", False)]
    assert found["CFQ7TTC0LH18-P1M-M "] == found["cfq7ttc0lh18-p1m-m"]
    assert [(i.id, i.inactive) for i in found["AZURE-plan"]] == [(4, True)] and found["nope"] == []


def test_an_unbatched_url_over_2000_characters_is_a_414(cw_both):
    with cw_both.client() as client, pytest.raises(CWHTTPError) as caught:
        list(client.iter_companies(c.in_("id", range(1, 1000))))
    assert caught.value.status == 414 and cw_both.requests()[-1]["status"] == 414
