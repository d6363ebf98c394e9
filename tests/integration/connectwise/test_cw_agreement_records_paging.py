"""Reading all of one agreement's additions and adjustments in pages of 1,000: one call per 1,000 records."""

from __future__ import annotations

from math import ceil

import pytest

from msphub_psa.connectwise import conditions as c
from msphub_psa.connectwise.sandbox import records
from msphub_psa.connectwise.sandbox.resources import RESOURCES

AGREEMENT = 1
ADDITIONS, ADJUSTMENTS = 2500, 1200  # besides the seed's 2 additions and 1 adjustment on agreement 1
LIST_ADDITIONS = ("GET", "/finance/agreements/{id}/additions")
LIST_ADJUSTMENTS = ("GET", "/finance/agreements/{id}/adjustments")


@pytest.fixture
def crowded(cw_both):
    """Agreement 1 with thousands of additions and adjustments, and agreement 3 with a few."""
    store, account = cw_both.sandbox.store, cw_both.company_id
    for agreement_id, additions, adjustments in ((AGREEMENT, ADDITIONS, ADJUSTMENTS), (3, 5, 5)):
        parent = store.get(account, "agreements", agreement_id)
        for n in range(additions):
            records.create(
                store,
                account,
                RESOURCES["additions"],
                {
                    "product": {"id": 1 + n % 3},
                    "billCustomer": "Billable",
                    "quantity": 1 + n % 7,
                    "unitPrice": 7.2,
                    "effectiveDate": "2025-01-01T00:00:00Z",
                    "serialNumber": f"MSPHUB-T{agreement_id}{n:05d}",
                },
                parent=parent,
                check=False,
            )
        for n in range(adjustments):
            records.create(
                store,
                account,
                RESOURCES["adjustments"],
                {
                    "amount": -1,
                    "description": f"Credit MSPHUB-T{agreement_id}{n:05d}",
                    "effectiveDate": "2025-02-01T00:00:00Z",
                },
                parent=parent,
                check=False,
            )
    return cw_both


def test_all_additions_in_pages_of_1000(crowded):
    with crowded.client() as client:
        additions = list(client.iter_additions(AGREEMENT))
        assert client.calls[LIST_ADDITIONS] == ceil((ADDITIONS + 2) / 1000) == 3
    assert len({a.id for a in additions}) == ADDITIONS + 2 and {a.agreement_id for a in additions} == {AGREEMENT}
    assert all("pageSize=1000" in e["query"] for e in crowded.requests() if e["path"].endswith("/additions"))


def test_additions_with_conditions_in_pages_of_1000(crowded):
    wanted = c.like("serialNumber", f"MSPHUB-T{AGREEMENT}0%") & c.ge("quantity", 2)  # 6 in 7: 2,142 of 2,500
    with crowded.client() as client:
        additions = list(client.iter_additions(AGREEMENT, wanted))
        assert len(additions) == sum(1 for n in range(ADDITIONS) if n % 7 >= 1) == 2142
        assert client.calls[LIST_ADDITIONS] == 3
        assert [a.serial_number for a in additions] == sorted(a.serial_number for a in additions)


def test_all_adjustments_in_pages_of_1000_also_with_conditions_and_forward_only(crowded):
    with crowded.client() as client:
        assert len(list(client.iter_adjustments(AGREEMENT))) == ADJUSTMENTS + 1
        assert client.calls[LIST_ADJUSTMENTS] == 2
        credits = list(client.iter_adjustments(AGREEMENT, c.contains("description", "MSPHUB-T1"), forward_only=True))
        assert len(credits) == ADJUSTMENTS and client.calls[LIST_ADJUSTMENTS] == 4  # the seed's is MSPHUB-T2
        assert len(list(client.iter_additions(3))) == 5  # the other agreement's stay apart


def test_a_smaller_page_size_costs_proportionally_more_calls(crowded):
    with crowded.client() as client:
        assert len(list(client.iter_additions(AGREEMENT, page_size=250))) == ADDITIONS + 2
        assert client.calls[LIST_ADDITIONS] == ceil((ADDITIONS + 2) / 250) == 11
