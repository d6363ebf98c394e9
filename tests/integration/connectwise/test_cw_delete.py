"""Contract: reading and deleting agreement additions and adjustments, over real HTTP on 127.0.0.1.

ConnectWise answers a DELETE with 204 and no body (connectwise-api.md §6); a record that does
not exist (or not under that agreement) is a 404 ``NotFound``; the client retries a DELETE
like any idempotent call, so a repeat of one that landed is a 404. The sandbox refuses to
delete a record an agreement invoice has billed (❓ inferred rule: 400 ``InvalidObject`` with
``errors[].code`` ``InvoicedRecord``), which the billing push's move relies on.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from msphub_psa.connectwise import Credentials, CWForbidden, CWNotFound, CWValidationError, NewAddition, NewAdjustment
from msphub_psa.connectwise.sandbox import seed

AGREEMENT = 1


def addition(reference: str, start: date = date(2025, 3, 1)) -> NewAddition:
    """A valid addition for the demo account's agreement 1."""
    return NewAddition(
        product_id=1,
        quantity=Decimal(3),
        unit_price=Decimal("7.20"),
        unit_cost=Decimal(6),
        effective_date=start,
        cancelled_date=start.replace(day=28),
        serial_number=reference,
    )


def api_log(live, since=0):
    """(method, status) of the logged API requests."""
    return [(e["method"], e["status"]) for e in live.requests(since) if "/apis/3.0/" in e["path"]]


def post_invoice(live, **fields) -> httpx.Response:
    """POST /finance/invoices with the demo credentials (the product never writes invoices)."""
    body = {"type": "Agreement", "company": {"id": 1}, "agreement": {"id": AGREEMENT}, **fields}
    return httpx.post(f"{live.base_url}/finance/invoices", json=body, headers=live.credentials.headers())


def test_addition_is_read_by_id_deleted_with_204_and_then_not_found(cw_live, cw_live_client):
    created = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T901"))
    assert cw_live_client.get_addition(AGREEMENT, created.id).serial_number == "MSPHUB-T901"
    since = cw_live.requests()[-1]["seq"]
    assert cw_live_client.delete_addition(AGREEMENT, created.id) is None
    assert api_log(cw_live, since) == [("DELETE", 204)]
    assert [a for a in cw_live.state("additions", parent=AGREEMENT) if a["id"] == created.id] == []
    with pytest.raises(CWNotFound) as caught:
        cw_live_client.get_addition(AGREEMENT, created.id)
    assert caught.value.code == "NotFound" and caught.value.status == 404
    with pytest.raises(CWNotFound):
        cw_live_client.delete_addition(AGREEMENT, created.id)


def test_delete_under_another_agreement_is_404_and_keeps_the_record(cw_live, cw_live_client):
    created = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T902"))
    with pytest.raises(CWNotFound):
        cw_live_client.delete_addition(2, created.id)
    with pytest.raises(CWNotFound):
        cw_live_client.delete_addition(999_999, created.id)  # no such agreement
    assert cw_live_client.get_addition(AGREEMENT, created.id).id == created.id


def test_adjustment_is_read_by_id_and_deleted(cw_live, cw_live_client):
    created = cw_live_client.create_adjustment(
        AGREEMENT,
        NewAdjustment(Decimal("-14.40"), "Credit: M365 (2025-02-01 to 2025-02-28) MSPHUB-T903", date(2025, 2, 1)),
    )
    read = cw_live_client.get_adjustment(AGREEMENT, created.id)
    assert read.amount == Decimal("-14.4") and read.description.endswith("MSPHUB-T903")
    cw_live_client.delete_adjustment(AGREEMENT, created.id)
    with pytest.raises(CWNotFound):
        cw_live_client.get_adjustment(AGREEMENT, created.id)
    with pytest.raises(CWNotFound):
        cw_live_client.delete_adjustment(AGREEMENT, created.id)


def test_an_invoiced_addition_or_adjustment_cannot_be_deleted(cw_live, cw_live_client):
    march = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T904", date(2025, 3, 1)))
    may = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T905", date(2025, 5, 1)))
    credit = cw_live_client.create_adjustment(
        AGREEMENT, NewAdjustment(Decimal(-5), "Credit MSPHUB-T906", date(2025, 3, 1))
    )
    invoice = post_invoice(cw_live, invoiceNumber="INV-2025-04", date="2025-04-01T00:00:00Z", total=21.6)
    assert invoice.status_code == 201 and invoice.json()["agreement"]["id"] == AGREEMENT
    for delete, record_id in (
        (cw_live_client.delete_addition, march.id),
        (cw_live_client.delete_adjustment, credit.id),
    ):
        with pytest.raises(CWValidationError) as caught:
            delete(AGREEMENT, record_id)
        error = caught.value
        assert error.status == 400 and error.code == "InvalidObject"
        assert error.errors[0]["code"] == "InvoicedRecord"
        assert "INV-2025-04" in error.errors[0]["message"] and "2025-04-01" in error.errors[0]["message"]
    assert cw_live_client.get_addition(AGREEMENT, march.id).id == march.id  # nothing was deleted
    assert cw_live_client.get_adjustment(AGREEMENT, credit.id).id == credit.id
    cw_live_client.delete_addition(AGREEMENT, may.id)  # a later period is not invoiced yet


def test_only_agreement_invoices_of_that_agreement_count(cw_live, cw_live_client):
    created = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T907", date(2025, 3, 1)))
    assert post_invoice(cw_live, type="Standard", date="2025-06-01T00:00:00Z").status_code == 201
    assert post_invoice(cw_live, agreement={"id": 2}, date="2025-06-01T00:00:00Z").status_code == 201
    assert post_invoice(cw_live, date="2025-02-01T00:00:00Z").status_code == 201  # an earlier period
    cw_live_client.delete_addition(AGREEMENT, created.id)


def test_invoice_input_is_validated_like_other_resources(cw_live):
    missing = post_invoice(cw_live, type=None, company=None)
    assert missing.status_code == 400 and {e["field"] for e in missing.json()["errors"]} == {"type", "company"}
    unknown = post_invoice(cw_live, agreement={"id": 999_999})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "agreement"
    assert post_invoice(cw_live, invoiceNumber="X" * 16).status_code == 400


def test_a_dropped_delete_is_retried_and_the_repeat_says_not_found(cw_live, cw_live_client):
    created = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T908"))
    cw_live.set_faults([{"kind": "drop", "methods": ["DELETE"], "path": "/additions/\\d+$", "count": 1}])
    since = cw_live.requests()[-1]["seq"]
    with pytest.raises(CWNotFound):  # the first DELETE landed, its answer was lost; the retry finds nothing
        cw_live_client.delete_addition(AGREEMENT, created.id)
    assert api_log(cw_live, since) == [("DELETE", None), ("DELETE", 404)]
    assert [a for a in cw_live.state("additions", parent=AGREEMENT) if a["id"] == created.id] == []


def test_a_read_only_member_cannot_delete(cw_live, cw_live_client):
    created = cw_live_client.create_addition(AGREEMENT, addition("MSPHUB-T909"))
    reader = Credentials(cw_live.company_id, seed.READONLY_PUBLIC_KEY, seed.READONLY_PRIVATE_KEY, cw_live.client_id)
    with cw_live.client(reader) as client:
        assert client.get_addition(AGREEMENT, created.id).id == created.id
        with pytest.raises(CWForbidden):
            client.delete_addition(AGREEMENT, created.id)
    assert cw_live_client.get_addition(AGREEMENT, created.id).id == created.id
