"""Client behaviour in-process (WSGITransport): parsing, counting, throttle, retries, PATCH."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from msphub_psa.connectwise import CWRateLimited, CWServerError, NewAdjustment, NewCatalogItem, RetryPolicy, patch_ops
from msphub_psa.connectwise import conditions as c


def test_types_parse_money_as_decimal(cw_client):
    (addition,) = cw_client.find_additions_by_reference(1, "MSPHUB-T1")
    assert addition.unit_price == Decimal("7.2") and isinstance(addition.quantity, Decimal)
    assert addition.effective_date == date(2025, 1, 1) and addition.cancelled_date == date(2025, 1, 31)
    assert addition.product.identifier == "CFQ7TTC0LH18-P1M-M"
    assert addition.raw["serialNumber"] == "MSPHUB-T1"
    agreement = cw_client.get_agreement(1)
    assert agreement.billing_cycle == "Monthly" and agreement.company.id == 1
    assert agreement.is_active_on(date(2025, 6, 1)) and not agreement.cancelled


def test_agreement_statuses(cw_client):
    statuses = {a.agreement_status for a in cw_client.iter_agreements()}
    assert statuses == {"Active", "Cancelled", "Expired"}
    cancelled = next(cw_client.iter_agreements(c.eq("cancelledFlag", True)))
    assert not cancelled.is_active_on(date(2025, 1, 1))


def test_calls_are_counted_by_template(cw_client):
    cw_client.get_company(1)
    cw_client.get_company(2)
    list(cw_client.iter_additions(1))
    assert cw_client.calls == {("GET", "/company/companies/{id}"): 2, ("GET", "/finance/agreements/{id}/additions"): 1}
    assert cw_client.call_count == 3


def test_throttle_runs_before_every_attempt(cw_sandbox):
    ticks = []
    cw_sandbox.set_faults([{"kind": "429", "count": 2, "retry_after": 0}])
    with cw_sandbox.client(throttle=lambda: ticks.append(1)) as client:
        client.get_company(1)
        assert len(ticks) == 3 == client.call_count


def test_backoff_uses_the_injected_sleep(cw_sandbox):
    sleeps = []
    cw_sandbox.set_faults([{"kind": "500"}])
    policy = RetryPolicy(max_attempts=4, max_elapsed=100, backoff_base=1, backoff_max=3)
    with cw_sandbox.client(retry=policy, sleep=sleeps.append) as client, pytest.raises(CWServerError):
        client.get_company(1)
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 1.5 <= sleeps[2] <= 3  # exponential, jittered, capped


def test_retry_after_is_honoured_exactly(cw_sandbox):
    sleeps = []
    cw_sandbox.set_faults([{"kind": "429", "count": 1, "retry_after": 7}])
    with cw_sandbox.client(retry=RetryPolicy(max_elapsed=100), sleep=sleeps.append) as client:
        client.get_company(1)
    assert sleeps == [7.0]


def test_retry_after_beyond_the_budget_raises_at_once(cw_sandbox):
    sleeps = []
    cw_sandbox.set_faults([{"kind": "429", "retry_after": 30}])
    with cw_sandbox.client(retry=RetryPolicy(max_elapsed=5), sleep=sleeps.append) as client:
        with pytest.raises(CWRateLimited):
            client.get_company(1)
    assert sleeps == [] and client.call_count == 1


def test_patch_sends_json_patch_and_cancel_sets_cancelled_date(cw_client, cw_sandbox):
    assert patch_ops({"quantity": 5}) == [{"op": "replace", "path": "quantity", "value": 5}]
    updated = cw_client.update_addition(1, 1, {"quantity": Decimal("12"), "unitPrice": Decimal("7.5")})
    assert updated.quantity == 12 and updated.unit_price == Decimal("7.5")
    assert updated.raw["extPrice"] == 90
    cancelled = cw_client.cancel_addition(1, 1, date(2025, 1, 15))
    assert cancelled.cancelled_date == date(2025, 1, 15)
    assert cancelled.serial_number == "MSPHUB-T1"  # untouched fields stay


def test_catalog_and_classification_calls(cw_client):
    assert cw_client.find_catalog_item("nope") is None
    category = cw_client.create_category("Licenses")
    sub = cw_client.create_subcategory("NCE", category.id)
    kind = cw_client.create_product_type("License", "NonInventoryPart")
    item = cw_client.create_catalog_item(
        NewCatalogItem(
            identifier="CFQ7TTC0LH18:P1Y:A",
            description="Microsoft 365 Business Basic (Annual)",
            customer_description="Microsoft 365 Business Basic, annual term",
            subcategory_id=sub.id,
            type_id=kind.id,
            price=Decimal("86.40"),
            cost=Decimal("72"),
        )
    )
    assert item.category.id == category.id and item.price == Decimal("86.4")
    assert cw_client.find_catalog_item("CFQ7TTC0LH18:P1Y:A").id == item.id
    patched = cw_client.update_catalog_item(item.id, {"subcategory": {"id": 1}, "category": {"id": 2}})
    assert patched.subcategory.id == 1 and patched.category.name == "Cloud Services"
    assert [t.name for t in cw_client.iter_agreement_types()] == ["Managed Services", "Microsoft CSP"]


def test_adjustments(cw_client):
    created = cw_client.create_adjustment(
        1, NewAdjustment(Decimal("-14.40"), "Credit M365 MSPHUB-T42", date(2025, 2, 1))
    )
    assert created.amount == Decimal("-14.4")
    assert [a.id for a in cw_client.find_adjustments_by_reference(1, "MSPHUB-T42")] == [created.id]
    cw_client.delete_adjustment(1, created.id)
    assert cw_client.find_adjustments_by_reference(1, "MSPHUB-T42") == []
