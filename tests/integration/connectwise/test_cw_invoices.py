"""Agreement invoices: the sandbox's invoicing run, read back with ``iter_invoices``, in-process and over HTTP.

The run (docs/sandbox.md) makes one ``Agreement`` invoice per invoiceable agreement for a calendar
month: Billable additions prorated by days where they start or end inside it, plus the month's
adjustments; dated the month's last day, so what it bills can no longer be deleted.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from msphub_psa.connectwise import CWValidationError, Invoice, NewAddition, NewAdjustment
from msphub_psa.connectwise import conditions as c

MARCH = date(2025, 3, 1)


def add(client, start, end=None, quantity=1, price="10.00", bill="Billable", agreement=1):
    """Create an addition on the agreement."""
    return client.create_addition(
        agreement,
        NewAddition(
            product_id=1,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            effective_date=start,
            cancelled_date=end,
            bill_customer=bill,
            serial_number=f"MSPHUB-T{start:%m%d}{quantity}",
        ),
    )


@pytest.fixture
def march(cw_both):
    """Agreement 1 with March 2025 additions and adjustments (besides the seed's 2 x 43.20 since 2024)."""
    with cw_both.client() as client:
        records = {
            "full": add(client, date(2025, 3, 1), date(2025, 3, 31), 3, "7.20"),  # 21.60
            "starts": add(client, date(2025, 3, 11), None, 2, "10.00"),  # 21/31 of 20.00 = 13.55
            "ends": add(client, date(2025, 2, 1), date(2025, 3, 10), 1, "9.99"),  # 10/31 of 9.99 = 3.22
            "free": add(client, date(2025, 3, 1), None, 5, "99", bill="NoCharge"),
            "april": add(client, date(2025, 4, 1), None, 1, "50"),
            "credit": client.create_adjustment(1, NewAdjustment(Decimal("-5"), "Credit MSPHUB-T77", date(2025, 3, 15))),
            "later": client.create_adjustment(1, NewAdjustment(Decimal("2"), "Fee MSPHUB-T78", date(2025, 4, 1))),
        }
    return cw_both, records


def test_the_run_invoices_the_month_and_iter_invoices_reads_it(march):
    cw, _ = march
    run = cw.invoice_run(MARCH, agreement_ids=[1])
    assert run["periodStart"] == "2025-03-01" and run["periodEnd"] == "2025-03-31" and run["skipped"] == []
    with cw.client() as client:
        (invoice,) = client.iter_invoices(c.eq("agreement/id", 1))
        assert client.calls[("GET", "/finance/invoices")] == 1
    assert isinstance(invoice, Invoice) and invoice.id == run["created"][0]["id"]
    assert (invoice.invoice_number, invoice.type, invoice.company_id, invoice.agreement_id) == (
        "202503-1",
        "Agreement",
        1,
        1,
    )
    assert (
        invoice.total
        == Decimal("21.60") + Decimal("13.55") + Decimal("3.22") + Decimal("86.40") - 5
        == Decimal("119.77")
    )
    assert invoice.subtotal == invoice.balance == invoice.total and invoice.sales_tax == 0
    assert invoice.date == date(2025, 3, 31) and invoice.due_date == date(2025, 4, 30)
    assert (
        invoice.company.name == "Acme Corporation" and invoice.apply_to_type == "Agreement" and invoice.apply_to_id == 1
    )


def test_a_second_run_for_the_same_month_creates_nothing(march):
    cw, _ = march
    first = cw.invoice_run(MARCH)
    assert len(first["created"]) > 1
    second = cw.invoice_run(MARCH)
    assert second["created"] == []
    assert {s["agreementId"] for s in second["skipped"] if s["reason"].startswith("already invoiced")} == {
        i["agreement"]["id"] for i in first["created"]
    }
    assert len(cw.state("invoices")) == len(first["created"])
    assert len(cw.invoice_run(date(2025, 4, 1), [1])["created"]) == 1  # the next month is another period


def raw(handle) -> httpx.Client:
    """An authenticated httpx client on the sandbox (the product never writes agreements)."""
    return httpx.Client(transport=handle.transport, base_url=handle.base_url, headers=handle.credentials.headers())


def test_what_is_invoiced_and_what_is_skipped(cw_both):
    with raw(cw_both) as http:
        ended = http.post(
            "/finance/agreements",
            json={
                "name": "Monthly 2025",
                "type": {"id": 2},
                "company": {"id": 2},
                "contact": {"id": 1},
                "billingCycle": {"id": 1},
                "startDate": "2025-01-01T00:00:00Z",
                "endDate": "2025-12-31T00:00:00Z",
            },
        ).json()
    run = cw_both.invoice_run(date(2026, 10, 1))
    reasons = {s["agreementId"]: s["reason"] for s in run["skipped"]}
    agreements = {a["id"]: a for a in cw_both.state("agreements")}
    for agreement_id, reason in reasons.items():
        agreement = agreements[agreement_id]
        expected = (
            "cancelled"
            if agreement["cancelledFlag"]
            else "billing cycle annual is not modelled (monthly only)"
            if agreement["billingCycle"]["name"] == "Annual"
            else "ended"
        )
        assert reason == expected, agreement
    invoiced = {i["agreement"]["id"] for i in run["created"]}
    assert invoiced | set(reasons) == set(agreements) and not invoiced & set(reasons)
    assert all(
        agreements[i]["billingCycle"]["name"] == "Monthly" and not agreements[i]["cancelledFlag"] for i in invoiced
    )
    assert {i["total"] for i in run["created"] if i["agreement"]["id"] != 1} == {0}  # no additions there
    assert reasons[ended["id"]] == "ended"
    assert len(cw_both.invoice_run(date(2025, 12, 1), [ended["id"]])["created"]) == 1  # its last month is invoiced
    assert cw_both.invoice_run(date(2023, 12, 1), [1])["skipped"] == [{"agreementId": 1, "reason": "not started"}]


def test_what_an_invoice_billed_can_no_longer_be_deleted(march):
    cw, records = march
    cw.invoice_run(MARCH, [1])
    with cw.client() as client:
        for delete, record in (
            (client.delete_addition, records["starts"]),
            (client.delete_adjustment, records["credit"]),
        ):
            with pytest.raises(CWValidationError) as caught:
                delete(1, record.id)
            assert (
                caught.value.errors[0]["code"] == "InvoicedRecord" and "202503-1" in caught.value.errors[0]["message"]
            )
        client.delete_addition(1, records["april"].id)  # April is not invoiced yet
        client.delete_adjustment(1, records["later"].id)


def test_the_admin_endpoint_runs_it_over_http(cw_live):
    response = httpx.post(
        f"{cw_live.root_url}/__sandbox__/invoice-run", json={"periodStart": "2025-01-01", "agreementIds": [1, 3]}
    )
    assert response.status_code == 200
    assert [(i["invoiceNumber"], i["total"]) for i in response.json()["created"]] == [
        ("202501-1", 158.4),
        ("202501-3", 0),
    ]
    with cw_live.client() as client:
        numbers = [i.invoice_number for i in client.iter_invoices(c.eq("type", "agreement"), order_by="id desc")]
    assert numbers == ["202501-3", "202501-1"]
