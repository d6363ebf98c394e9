"""The sandbox's HTTP contract, in-process: validation, refusals, 404s, paging headers, URL limit, writes, admin."""

from __future__ import annotations

import time

import httpx
import pytest

from msphub_psa.connectwise.sandbox import create_app, default_seed
from msphub_psa.connectwise.sandbox.records import index_value
from msphub_psa.connectwise.sandbox.resources import RESOURCES

BASE = "/v4_6_release/apis/3.0"
ADD = f"{BASE}/finance/agreements/1/additions"
GOOD = {"product": {"id": 1}, "billCustomer": "Billable", "quantity": 2, "serialNumber": "MSPHUB-T10"}


@pytest.fixture
def http(cw_sandbox):
    """A raw authenticated httpx client on the in-process sandbox."""
    with httpx.Client(
        transport=cw_sandbox.transport, base_url="http://127.0.0.1", headers={**cw_sandbox.credentials.headers()}
    ) as client:
        yield client


def refused(response, status=400, code="InvalidObject"):
    """The ConnectWise error body of a refused call."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and "message" in body and "errors" in body
    return body


def error_fields(response):
    """``field`` of each entry of errors[]."""
    return {e["field"] for e in refused(response)["errors"]}


def test_addition_refusals(http):
    assert error_fields(http.post(ADD, json={**GOOD, "product": {"id": 999}})) == {"product"}
    assert error_fields(http.post(ADD, json={**GOOD, "quantity": -1})) == {"quantity"}
    assert error_fields(http.post(ADD, json={**GOOD, "serialNumber": "x" * 51})) == {"serialNumber"}
    assert error_fields(http.post(ADD, json={**GOOD, "invoiceDescription": "x" * 6001})) == {"invoiceDescription"}
    body = refused(http.post(ADD, json={"quantity": 1}))
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("MissingRequiredField", "product"),
        ("MissingRequiredField", "billCustomer"),
    }
    assert http.post(ADD, json={**GOOD, "description": "y" * 10000}).status_code == 201  # no max


@pytest.mark.parametrize("status", ["cancelled", "expired"])
def test_no_additions_on_cancelled_or_expired_agreements(http, status):
    found = http.get(f"{BASE}/finance/agreements", params={"conditions": f'agreementStatus="{status}"'}).json()
    agreement_id = found[0]["id"]
    body = refused(http.post(f"{BASE}/finance/agreements/{agreement_id}/additions", json=GOOD))
    assert body["errors"][0]["field"] == "agreementId" and status in body["errors"][0]["message"]


def test_type_errors_are_500_connectwiseapi(http):
    for bad in (
        {**GOOD, "quantity": "lots"},
        {**GOOD, "taxableFlag": "maybe"},
        {**GOOD, "product": 5},
        {**GOOD, "billCustomer": "Sometimes"},
        {**GOOD, "effectiveDate": "tomorrow"},
    ):
        refused(http.post(ADD, json=bad), 500, "ConnectWiseApi")
    refused(http.post(ADD, content=b"{not json", headers={"Content-Type": "application/json"}), 500, "ConnectWiseApi")


def test_other_resources_validate_lengths_and_required(http):
    assert error_fields(http.post(f"{BASE}/company/companies", json={"name": "n" * 51, "identifier": "i" * 31})) == {
        "name",
        "identifier",
    }
    catalog = {
        "identifier": "X",
        "description": "d" * 61,
        "customerDescription": "c",
        "subcategory": {"id": 1},
        "type": {"id": 1},
    }
    assert error_fields(http.post(f"{BASE}/procurement/catalog", json=catalog)) == {"description"}
    assert error_fields(http.post(f"{BASE}/procurement/subcategories", json={"name": "x"})) == {"category"}
    assert error_fields(http.post(f"{BASE}/finance/agreements/1/adjustments", json={"amount": 1})) == {"description"}


@pytest.mark.parametrize(
    "path",
    [
        "/company/companies/9999",
        "/finance/agreements/9999",
        "/finance/agreements/9999/additions",
        "/finance/agreements/1/additions/9999",
        "/finance/agreements/2/additions/1",
        "/procurement/catalog/9999",
        "/no/such/endpoint",
    ],
)
def test_unknown_ids_are_404(http, path):
    refused(http.get(BASE + path), 404, "NotFound")


def test_paging_headers(http):
    one = http.get(f"{BASE}/company/companies", params={"pageSize": 100})
    assert "link" not in one.headers and len(one.json()) == 20
    first = http.get(f"{BASE}/company/companies", params={"conditions": "id < 100", "pageSize": 7})
    link = first.headers["link"]
    assert 'page=2>; rel="next"' in link and 'page=3>; rel="last"' in link and "prev" not in link
    assert "conditions=id%20%3C%20100&pageSize=7&page=2>" in link  # page is the last parameter
    last = http.get(f"{BASE}/company/companies", params={"conditions": "id < 100", "pageSize": 7, "page": 3})
    assert len(last.json()) == 6 and last.headers["link"].endswith('page=1>; rel="first"')
    assert "next" not in last.headers["link"]
    assert len(http.get(f"{BASE}/company/companies").json()) == 20  # default pageSize 25
    refused(http.get(f"{BASE}/company/companies", params={"pageSize": 0}))
    assert len(http.get(f"{BASE}/company/companies", params={"pageSize": 5000}).json()) == 20


def test_forward_only(http):
    headers = {"pagination-type": "forward-only"}
    page = http.get(f"{BASE}/company/companies", params={"pageSize": 8, "pageId": 4}, headers=headers)
    assert [r["id"] for r in page.json()] == list(range(5, 13))
    assert page.headers["link"].endswith('pageId=12>; rel="next"')
    end = http.get(f"{BASE}/company/companies", params={"pageSize": 8, "pageId": 12}, headers=headers)
    assert len(end.json()) == 8 and end.headers["link"] == ""
    refused(http.get(f"{BASE}/company/companies", params={"orderBy": "name"}, headers=headers))


def test_order_by_fields_count_and_unknown_field(http):
    query = {"conditions": 'name like "c%"', "orderBy": "name asc, id desc"}
    names = [r["name"] for r in http.get(f"{BASE}/company/companies", params=query).json()]
    assert names == ["Café Müller GmbH", "Coho Winery", "contoso ltd", "Contoso Ltd"]
    partial = http.get(f"{BASE}/company/companies/1", params={"fields": "id,name,status/id"}).json()
    assert partial == {"id": 1, "name": "Acme Corporation", "status": {"id": 1}}
    assert http.get(f"{BASE}/finance/agreements/1/additions/count").json() == {"count": 2}
    assert http.get(f"{BASE}/company/companies/count", params={"conditions": 'name contains "acme"'}).json() == {
        "count": 2
    }
    body = refused(http.get(f"{BASE}/company/companies", params={"conditions": "typeids=1"}), 400, "ApiFindCondition")
    assert body["message"] == "typeids is not a recognized name."


def test_paths_and_params_are_case_insensitive(http):
    assert http.get("/V4_6_RELEASE/APIS/3.0/Company/Companies/", params={"PAGESIZE": 2}).json()[0]["id"] == 1


def test_post_put_patch_delete(http):
    created = http.post(ADD, json=GOOD)
    assert created.status_code == 201
    record = created.json()
    assert record["product"]["identifier"] == "CFQ7TTC0LH18-P1M-M" and "_info" in record["product"]
    assert record["agreementId"] == 1 and record["_info"]["lastUpdated"]
    time.sleep(1.05)
    patched = http.patch(f"{ADD}/{record['id']}", json=[{"op": "replace", "path": "quantity", "value": 9}])
    assert patched.status_code == 200 and patched.json()["quantity"] == 9
    assert patched.json()["serialNumber"] == "MSPHUB-T10"
    assert patched.json()["_info"]["lastUpdated"] > record["_info"]["lastUpdated"]
    refused(http.patch(f"{ADD}/{record['id']}", json=[{"op": "replace", "path": "Quantity", "value": 1}]))
    refused(http.patch(f"{ADD}/{record['id']}", json={"quantity": 1}))
    refused(http.patch(f"{ADD}/{record['id']}", json=[{"op": "replace", "path": "quantity", "value": -3}]))
    put = http.put(f"{ADD}/{record['id']}", json={"product": {"id": 2}, "billCustomer": "NoCharge"})
    assert put.status_code == 200 and "serialNumber" not in put.json() and put.json()["product"]["id"] == 2
    assert http.delete(f"{ADD}/{record['id']}").status_code == 204
    refused(http.get(f"{ADD}/{record['id']}"), 404, "NotFound")


def test_companies_are_soft_deleted_and_types_only_set_on_post(http):
    created = http.post(
        f"{BASE}/company/companies", json={"identifier": "NewCo", "name": "New Co", "types": [{"id": 2}]}
    ).json()
    assert created["types"][0]["name"] == "Prospect" and created["deletedFlag"] is False
    patched = http.patch(
        f"{BASE}/company/companies/{created['id']}", json=[{"op": "replace", "path": "types", "value": [{"id": 3}]}]
    ).json()
    assert patched["types"][0]["id"] == 2
    assert http.delete(f"{BASE}/company/companies/{created['id']}").status_code == 204
    after = http.get(f"{BASE}/company/companies/{created['id']}").json()
    assert after["deletedFlag"] is True and after["dateDeleted"]


def test_admin_endpoints(cw_sandbox, http):
    admin = httpx.Client(transport=cw_sandbox.transport, base_url="http://127.0.0.1")
    assert (
        admin.post("/__sandbox__/faults", json={"rules": [{"kind": "429", "count": 1}], "seed": 3}).status_code == 200
    )
    assert http.get(f"{BASE}/system/info").status_code == 429
    assert admin.get("/__sandbox__/faults").json() == {"seed": 3, "rules": [{"kind": "429", "count": 0}], "held": 0}
    assert admin.post("/__sandbox__/faults", json={"rules": [{"kind": "nope"}]}).status_code == 400
    assert admin.post("/__sandbox__/release", json={"count": -1}).status_code == 400
    assert admin.post("/__sandbox__/release", json={"count": 2}).json()["held"] == 0
    log = admin.get("/__sandbox__/requests").json()
    assert log[-1]["status"] == 429 and log[-1]["fault"] == "429" and log[-1]["account"] == cw_sandbox.company_id
    http.post(ADD, json=GOOD)
    state = admin.get("/__sandbox__/state", params={"resource": "additions"}).json()
    assert len(state) == 3
    assert admin.post("/__sandbox__/reset").status_code == 200
    assert len(admin.get("/__sandbox__/state", params={"resource": "additions"}).json()) == 2
    assert admin.get("/__sandbox__/requests").json() == []
    refused(http.get(f"{BASE}/__sandbox__/state"), 404, "NotFound")  # not under ConnectWise paths


def test_admin_is_loopback_only():
    app = create_app()
    remote = httpx.Client(transport=httpx.WSGITransport(app=app, remote_addr="10.1.2.3"), base_url="http://sandbox")
    assert remote.get("/__sandbox__/requests").status_code == 403


def test_fault_rules_are_reproducible_with_a_seed(cw_sandbox, http):
    def run():
        cw_sandbox.set_faults([{"kind": "500", "rate": 0.5, "path": "/system/info"}], seed=42)
        return [http.get(f"{BASE}/system/info").status_code for _ in range(20)]

    first = run()
    assert first == run() and {200, 500} == set(first)
    assert http.get(f"{BASE}/company/companies/1").status_code == 200  # path-restricted


def test_seed_with_extra_companies():
    app = create_app(seed=default_seed(extra_companies=30))
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://127.0.0.1")
    assert client.get("/__sandbox__/state", params={"resource": "companies"}).json()[-1]["id"] == 1030


def test_a_hold_fault_holds_requests_until_released(cw_sandbox, http):
    import threading

    cw_sandbox.set_faults([{"kind": "hold", "path": "/system/info"}])
    answers = []
    callers = [
        threading.Thread(target=lambda: answers.append(http.get(f"{BASE}/system/info").status_code)) for _ in range(3)
    ]
    for caller in callers:
        caller.start()
    cw_sandbox.wait_held(3, timeout=10)
    assert answers == [] and cw_sandbox.held() == 3
    cw_sandbox.release(2)
    assert cw_sandbox.held() == 1  # let through at once, whenever their threads wake
    cw_sandbox.clear_faults()  # clearing lets the rest through
    for caller in callers:
        caller.join(10)
    assert answers == [200, 200, 200] and cw_sandbox.held() == 0


def url_of_length(length):
    """A companies URL with a ``conditions`` exactly ``length`` characters long in all."""

    def url(n):
        return str(
            httpx.Request(
                "GET", f"http://127.0.0.1{BASE}/company/companies", params={"conditions": f'name = "{"x" * n}"'}
            ).url
        )

    return url(length - len(url(0)))


def test_a_url_over_2000_characters_is_refused_with_414_before_anything_else(http, cw_sandbox):
    assert len(url_of_length(2000)) == 2000 and len(url_of_length(2001)) == 2001
    assert http.get(url_of_length(2000)).status_code == 200
    cw_sandbox.set_faults([{"kind": "500"}])
    refused = http.get(url_of_length(2001), headers={"Authorization": "Basic bm9wZQ=="})  # bad auth too
    assert refused.status_code == 414 and "HTTP Error 414. The request URL is too long." in refused.text
    assert refused.headers["content-type"].startswith("text/html")
    entry = cw_sandbox.requests()[-1]
    assert entry["status"] == 414 and entry["fault"] is None and len(entry["query"]) > 1900


def edit_stored(cw_sandbox, resource, record_id, **changes):
    """Change a stored record behind the API's back (as a person would in ConnectWise's screens)."""
    store, account = cw_sandbox.sandbox.store, cw_sandbox.company_id
    record = {**store.get(account, resource, record_id), **changes}
    store.update(account, resource, record, index_value(RESOURCES[resource], record))


def test_an_inactive_product_is_refused_on_create_and_when_set(http, cw_sandbox):
    edit_stored(cw_sandbox, "catalog", 2, inactiveFlag=True)
    body = refused(http.post(ADD, json={**GOOD, "product": {"id": 2}}))
    (error,) = body["errors"]
    assert (
        error["field"] == "product" and error["code"] == "InactiveProduct" and "CFQ7TTC0LDPB-P1Y-A" in error["message"]
    )
    created = http.post(ADD, json=GOOD).json()
    assert error_fields(
        http.patch(f"{ADD}/{created['id']}", json=[{"op": "replace", "path": "product", "value": {"id": 2}}])
    ) == {"product"}
    edit_stored(cw_sandbox, "catalog", 1, inactiveFlag=True)  # its product became inactive after it was added
    patched = http.patch(f"{ADD}/{created['id']}", json=[{"op": "replace", "path": "quantity", "value": 4}])
    assert patched.status_code == 200 and patched.json()["quantity"] == 4


@pytest.mark.parametrize(
    "change, code",
    [
        (("companies", 1, {"deletedFlag": True}), "InvalidCompany"),
        (("companies", 1, {"status": {"id": 2, "name": "Inactive"}}), "InvalidCompany"),
        (("agreements", 1, {"endDate": "2020-12-31T00:00:00Z", "noEndingDateFlag": False}), "InvalidAgreement"),
        (("agreements", 1, {"cancelledFlag": True}), "InvalidAgreement"),
    ],
)
def test_additions_and_adjustments_are_refused_on_closed_agreements_and_companies(http, cw_sandbox, change, code):
    edit_stored(cw_sandbox, *change[:2], **change[2])  # an agreement's stored agreementStatus still says Active
    for path, body in ((ADD, GOOD), (f"{BASE}/finance/agreements/1/adjustments", {"amount": 5, "description": "x"})):
        (error,) = refused(http.post(path, json=body))["errors"]
        assert error["code"] == code and error["field"] == "agreementId"
    assert {
        e["code"]
        for e in refused(http.patch(f"{ADD}/1", json=[{"op": "replace", "path": "quantity", "value": 3}]))["errors"]
    } == {code}
    assert http.post(f"{BASE}/finance/agreements/3/additions", json=GOOD).status_code == 201  # company 2's


def test_adjustments_on_expired_agreements_are_refused(http):
    expired = http.get(f"{BASE}/finance/agreements", params={"conditions": 'agreementStatus="Expired"'}).json()[0]
    body = refused(
        http.post(f"{BASE}/finance/agreements/{expired['id']}/adjustments", json={"amount": 5, "description": "x"})
    )
    assert body["errors"][0]["field"] == "agreementId" and "expired" in body["errors"][0]["message"]


def test_invoice_run_endpoint(cw_sandbox):
    admin = httpx.Client(transport=cw_sandbox.transport, base_url="http://127.0.0.1")
    run = admin.post("/__sandbox__/invoice-run", json={"periodStart": "2025-01-01", "agreementIds": [1]})
    assert run.status_code == 200
    (invoice,) = run.json()["created"]
    assert invoice["total"] == 158.4 and invoice["date"] == "2025-01-31T00:00:00Z"
    again = admin.post("/__sandbox__/invoice-run", json={"periodStart": "2025-01-01", "account": "DEMO_MSP"}).json()
    assert all(i["agreement"]["id"] != 1 for i in again["created"])
    assert {"agreementId": 1, "reason": "already invoiced on 202501-1"} in again["skipped"]
    for bad in (
        {"periodStart": "2025-01-02"},
        {"periodStart": "January"},
        {},
        {"periodStart": "2025-01-01", "agreementIds": ["1"]},
    ):
        assert admin.post("/__sandbox__/invoice-run", json=bad).status_code == 400, bad
    assert (
        admin.post("/__sandbox__/invoice-run", json={"periodStart": "2025-01-01", "account": "nope"}).status_code == 404
    )
    missing = admin.post("/__sandbox__/invoice-run", json={"periodStart": "2025-01-01", "agreementIds": [999]})
    assert missing.status_code == 404 and "999" in missing.json()["error"]
