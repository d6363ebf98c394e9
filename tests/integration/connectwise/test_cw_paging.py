"""Paging across 2,520 companies over real HTTP: call counts, laziness, forward-only, incremental."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from msphub_psa import clock
from msphub_psa.connectwise import conditions as c

TOTAL = 20 + 2500
LIST = ("GET", "/company/companies")


@pytest.fixture
def big(cw_big_live):
    """The big sandbox with faults and the log cleared."""
    cw_big_live.clear_faults()
    return cw_big_live


@pytest.mark.parametrize("page_size", [1000, 250])
def test_navigable_paging_makes_one_call_per_page(big, page_size):
    with big.client() as client:
        ids = [company.id for company in client.iter_companies(page_size=page_size)]
        assert len(ids) == len(set(ids)) == TOTAL
        assert client.calls[LIST] == math.ceil(TOTAL / page_size)


def test_paging_is_lazy(big):
    with big.client() as client:
        companies = client.iter_companies(page_size=100)
        assert client.calls[LIST] == 0
        first = [next(companies) for _ in range(100)]
        assert client.calls[LIST] == 1
        next(companies)
        assert client.calls[LIST] == 2 and len(first) == 100


def test_generated_companies_filtered_across_pages(big):
    with big.client() as client:
        wanted = c.like("name", "Generated Customer 0010%")
        names = [x.name for x in client.iter_companies(wanted, page_size=30)]
        assert len(names) == 99 and client.calls[LIST] == 4  # 001001..001099: 30+30+30+9


def test_forward_only_paging(big):
    with big.client() as client:
        ids = [x.id for x in client.iter_companies(page_size=1000, forward_only=True)]
        assert ids == sorted(ids) and len(ids) == TOTAL
        assert client.calls[LIST] == math.ceil(TOTAL / 1000)
    pages = [e for e in big.requests() if e["path"].endswith("/company/companies")][-3:]
    assert "pageId" not in pages[0]["query"]
    assert pages[1]["query"].endswith(f"pageId={ids[999]}") and pages[2]["query"].endswith(f"pageId={ids[1999]}")


def test_incremental_read_with_last_updated(big):
    with big.client() as client:
        future = clock.now() + timedelta(days=1)
        assert list(client.iter_companies(updated_since=future)) == []
        past = clock.now() - timedelta(days=1)
        assert client.count_companies(c.updated_since(past)) == TOTAL
