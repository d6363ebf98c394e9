"""What ConnectWise refuses, through the client, in-process and over real HTTP.

Each refusal is a 400 ``InvalidObject`` whose ``errors[]`` names the field (❓ codes and wording are
the sandbox's; docs/sandbox.md lists the rules): an inactive product, an agreement whose company is
soft-deleted or has an inactive status, a cancelled or expired (or past its end date) agreement, a
negative quantity, dates out of order, and deleting what an invoice billed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from msphub_psa.connectwise import CWValidationError, NewAddition, NewAdjustment

AGREEMENT = 1  # company 1's monthly agreement


def addition(**overrides) -> NewAddition:
    """A valid addition for agreement 1 (changed by ``overrides``)."""
    fields = dict(
        product_id=1,
        quantity=Decimal(2),
        unit_price=Decimal("7.20"),
        effective_date=date(2025, 3, 1),
        cancelled_date=date(2025, 3, 31),
        serial_number="MSPHUB-T500",
    )
    return NewAddition(**{**fields, **overrides})


def refusal(call) -> list[tuple[str, str]]:
    """(code, field) of each ``errors[]`` entry of the refused call."""
    with pytest.raises(CWValidationError) as caught:
        call()
    assert caught.value.status == 400 and caught.value.code == "InvalidObject"
    return [(e["code"], e["field"]) for e in caught.value.errors]


@pytest.fixture
def http(cw_both):
    """Authenticated raw HTTP on the sandbox, for the writes the product never makes (companies)."""
    with httpx.Client(
        transport=cw_both.transport, base_url=cw_both.base_url, headers=cw_both.credentials.headers()
    ) as client:
        yield client


def test_an_inactive_catalog_item_cannot_be_added(cw_both):
    with cw_both.client() as client:
        item = client.update_catalog_item(2, {"inactiveFlag": True})
        assert item.inactive
        assert refusal(lambda: client.create_addition(AGREEMENT, addition(product_id=2))) == [
            ("InactiveProduct", "product")
        ]
        assert client.create_addition(AGREEMENT, addition(product_id=1)).product.id == 1


@pytest.mark.parametrize(
    "change",
    [
        [{"op": "replace", "path": "status", "value": {"id": 2}}],  # the seed's "Inactive" status (inactiveFlag)
        None,  # DELETE: soft-deleted
    ],
)
def test_nothing_is_added_on_an_agreement_of_a_deleted_or_inactive_company(cw_both, http, change):
    response = (
        http.delete("/company/companies/1") if change is None else http.patch("/company/companies/1", json=change)
    )
    assert response.is_success
    with cw_both.client() as client:
        assert refusal(lambda: client.create_addition(AGREEMENT, addition())) == [("InvalidCompany", "agreementId")]
        assert refusal(
            lambda: client.create_adjustment(AGREEMENT, NewAdjustment(Decimal(-1), "Credit MSPHUB-T501"))
        ) == [("InvalidCompany", "agreementId")]
        assert client.create_addition(3, addition()).agreement_id == 3  # company 2 is fine


@pytest.mark.parametrize("status", ["Cancelled", "Expired"])
def test_nothing_is_added_on_a_cancelled_or_expired_agreement(cw_both, status):
    with cw_both.client() as client:
        agreement = next(a for a in client.iter_agreements() if a.agreement_status == status)
        assert refusal(lambda: client.create_addition(agreement.id, addition())) == [
            ("InvalidAgreement", "agreementId")
        ]
        assert refusal(
            lambda: client.create_adjustment(agreement.id, NewAdjustment(Decimal(1), "Fee MSPHUB-T502"))
        ) == [("InvalidAgreement", "agreementId")]


def test_an_agreement_past_its_end_date_is_refused_even_before_its_status_says_so(cw_both):
    store, account = cw_both.sandbox.store, cw_both.company_id
    agreement = {
        **store.get(account, "agreements", AGREEMENT),
        "endDate": "2021-01-31T00:00:00Z",
        "noEndingDateFlag": False,
    }
    store.update(account, "agreements", agreement, agreement["company"]["id"])  # status stays "Active"
    with cw_both.client() as client:
        assert client.get_agreement(AGREEMENT).agreement_status == "Active"
        assert refusal(lambda: client.create_addition(AGREEMENT, addition())) == [("InvalidAgreement", "agreementId")]


def test_the_existing_rules_still_hold(cw_both):
    with cw_both.client() as client:
        assert refusal(lambda: client.create_addition(AGREEMENT, addition(quantity=Decimal(-1)))) == [
            ("OutOfRange", "quantity")
        ]
        assert refusal(lambda: client.create_addition(AGREEMENT, addition(cancelled_date=date(2025, 2, 1)))) == [
            ("InvalidField", "cancelledDate")
        ]
        billed = client.create_addition(AGREEMENT, addition())
        cw_both.invoice_run(date(2025, 3, 1), [AGREEMENT])
        assert refusal(lambda: client.delete_addition(AGREEMENT, billed.id)) == [("InvoicedRecord", "id")]
