"""The ConnectWise adapter: a charge is an addition bounded to its period, a credit a negative adjustment whose
description ends with our reference; numbers go out exactly or not at all; ConnectWise's errors become the port's."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msphub_psa.commands.billing.delivery import record_of
from msphub_psa.connectwise.adapter import addition_of, adjustment_of, exact_number, psa_error
from msphub_psa.connectwise.client import _json_default
from msphub_psa.connectwise.errors import (
    CWAuthError,
    CWConnectionLost,
    CWForbidden,
    CWNotFound,
    CWRateLimited,
    CWServerError,
    CWValidationError,
)
from msphub_psa.domain.billing import reference
from msphub_psa.psa import errors as psa


class Tx:
    """A billing transaction's facts."""

    def __init__(self, tx_id=12, kind="charge", amount=Decimal("37.50")):
        self.id, self.kind, self.amount = tx_id, kind, amount
        self.period_start, self.period_end = date(2026, 1, 1), date(2026, 1, 31)
        self.quantity, self.unit_price, self.unit_cost = Decimal("3"), Decimal("12.5000"), Decimal("10.1000")


class Product:
    title, product_id = "Microsoft 365 Business Basic", "CFQ7TTC0LH18"


def _json(payload) -> dict:
    """The body as the client sends it."""
    return json.loads(json.dumps(payload.to_json(), default=_json_default))


def test_a_charge_is_an_addition_bounded_to_its_period_with_our_reference():
    body = _json(addition_of(record_of(Tx(), Product(), 77, reference(12))))
    assert body == {
        "product": {"id": 77},
        "billCustomer": "Billable",
        "quantity": 3,
        "unitPrice": 12.5,
        "unitCost": 10.1,
        "effectiveDate": "2026-01-01T00:00:00Z",
        "cancelledDate": "2026-01-31T00:00:00Z",
        "invoiceDescription": "Microsoft 365 Business Basic (2026-01-01 to 2026-01-31)",
        "serialNumber": "MSPHUB-T12",
    }


def test_a_credit_is_a_negative_adjustment_ending_with_our_reference():
    body = _json(adjustment_of(record_of(Tx(13, "credit", Decimal("12.34")), Product(), None, reference(13))))
    assert body == {
        "amount": -12.34,
        "effectiveDate": "2026-01-01T00:00:00Z",
        "description": "Credit: Microsoft 365 Business Basic (2026-01-01 to 2026-01-31) MSPHUB-T13",
    }
    assert (
        _json(adjustment_of(record_of(Tx(13, "credit", Decimal("-5")), Product(), None, reference(13))))["amount"] == -5
    )


def test_a_charge_without_catalog_item_cannot_be_built():
    with pytest.raises(ValueError, match="no catalog item"):
        record_of(Tx(), Product(), None, reference(12))


@pytest.mark.parametrize(
    "value", [Decimal("3.0000"), Decimal("12.3400"), Decimal("-0.0001"), Decimal("9999999999.9999"), 7, "1.5"]
)
def test_exact_numbers_pass(value):
    assert exact_number(value, "x") == Decimal(value)


@pytest.mark.parametrize("bad", [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("0.12345678901234567891")])
def test_what_json_cannot_carry_exactly_is_refused_before_any_call(bad):
    with pytest.raises(psa.Permanent) as caught:
        exact_number(bad, "The unit price")
    assert caught.value.code == "PayloadError"


@given(st.decimals(min_value=Decimal("-9999999999.9999"), max_value=Decimal("9999999999.9999"), places=4))
def test_money_columns_survive_json_exactly(value):
    assert Decimal(repr(_json_default(exact_number(value, "x")))) == value


@pytest.mark.parametrize(
    "error, kind",
    [
        (CWAuthError("no", status=401), psa.RunStopping),
        (CWForbidden("no", status=403), psa.Forbidden),
        (CWRateLimited("slow", status=429), psa.Transient),
        (CWServerError("boom", status=503), psa.Transient),
        (CWConnectionLost("cut"), psa.Transient),
        (CWNotFound("gone", status=404), psa.NotFound),
        (
            CWValidationError(
                "bad",
                status=400,
                code="InvalidObject",
                errors=[{"code": "x", "message": "product is inactive", "field": "product"}],
            ),
            psa.Permanent,
        ),
    ],
)
def test_connectwise_errors_become_the_ports(error, kind):
    mapped = psa_error(error)
    assert type(mapped) is kind
    assert mapped.outcome_unknown == error.outcome_unknown
    if isinstance(error, CWValidationError):
        assert mapped.message == "bad — product is inactive" and mapped.fields == ("product",)
