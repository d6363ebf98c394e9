"""Client error types, bounded retries and fault injection over real HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from datetime import date, datetime
from decimal import Decimal

import pytest

from msphub_psa.connectwise import (
    Credentials,
    CWConnectionLost,
    CWForbidden,
    CWNotFound,
    CWRateLimited,
    CWServerError,
    CWTimeout,
    CWTLSError,
    CWUnreachable,
    CWValidationError,
    NewAddition,
    RetryPolicy,
    Timeouts,
)
from msphub_psa.connectwise.sandbox import seed

ADDITIONS = "/finance/agreements/1/additions"


def addition(reference: str) -> NewAddition:
    """A valid addition for the demo account's agreement 1."""
    return NewAddition(
        product_id=1,
        quantity=Decimal("3"),
        unit_price=Decimal("7.20"),
        unit_cost=Decimal("6"),
        effective_date=date(2025, 3, 1),
        cancelled_date=date(2025, 3, 31),
        serial_number=reference,
    )


def api_requests(live, since=0):
    """Logged ConnectWise API requests (companyinfo excluded)."""
    return [e for e in live.requests(since) if "/apis/3.0/" in e["path"]]


def test_429_is_retried_honouring_retry_after(cw_live, cw_live_client):
    cw_live.set_faults([{"kind": "429", "count": 1, "retry_after": 1}])
    started = time.monotonic()
    assert cw_live_client.get_company(1).id == 1
    log = api_requests(cw_live)
    assert [e["status"] for e in log] == [429, 200]
    assert time.monotonic() - started >= 1.0
    first, second = (datetime.fromisoformat(e["time"]) for e in log)
    assert (second - first).total_seconds() >= 0.99  # the retry waited Retry-After
    assert cw_live_client.calls[("GET", "/company/companies/{id}")] == 2


def test_retries_are_bounded_in_attempts(cw_live):
    cw_live.set_faults([{"kind": "500"}])
    with cw_live.client(
        retry=RetryPolicy(max_attempts=3, max_elapsed=10, backoff_base=0.01, backoff_max=0.02)
    ) as client:
        with pytest.raises(CWServerError) as caught:
            client.get_company(1)
    assert caught.value.is_cw_timeout and caught.value.status == 500
    assert [e["status"] for e in api_requests(cw_live)] == [500, 500, 500]


def test_retries_are_bounded_in_total_time(cw_live):
    cw_live.set_faults([{"kind": "429", "retry_after": 1}])
    policy = RetryPolicy(max_attempts=10, max_elapsed=1.5, backoff_base=0.01)
    with cw_live.client(retry=policy) as client:
        started = time.monotonic()
        with pytest.raises(CWRateLimited) as caught:
            client.get_company(1)
    assert caught.value.retry_after == 1
    assert len(api_requests(cw_live)) == 2
    assert time.monotonic() - started >= 1.0  # it waited Retry-After once, then gave up within max_elapsed


def test_post_is_never_retried(cw_live, cw_live_client):
    cw_live.set_faults([{"kind": "500", "methods": ["POST"]}])
    with pytest.raises(CWServerError) as caught:
        cw_live_client.create_addition(1, addition("MSPHUB-T500"))
    assert caught.value.outcome_unknown
    posts = [e for e in api_requests(cw_live) if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["fault"] == "500"
    cw_live.set_faults([{"kind": "429", "methods": ["POST"]}])
    with pytest.raises(CWRateLimited):
        cw_live_client.create_addition(1, addition("MSPHUB-T429"))
    assert len([e for e in api_requests(cw_live) if e["method"] == "POST"]) == 2


def test_commit_then_drop_is_a_transport_error_with_the_record_present(cw_live, cw_live_client):
    cw_live.set_faults([{"kind": "drop", "methods": ["POST"], "path": "/additions$"}])
    with pytest.raises(CWConnectionLost) as caught:
        cw_live_client.create_addition(1, addition("MSPHUB-T77"))
    assert caught.value.outcome_unknown
    assert [a.get("serialNumber") for a in cw_live.state("additions", parent=1)].count("MSPHUB-T77") == 1
    assert [e["fault"] for e in api_requests(cw_live)] == ["drop"]
    cw_live.clear_faults()
    found = cw_live_client.find_additions_by_reference(1, "MSPHUB-T77")
    assert len(found) == 1 and found[0].quantity == 3


def test_duplicate_posts_create_duplicates(cw_live_client):
    first = cw_live_client.create_addition(1, addition("MSPHUB-T5"))
    second = cw_live_client.create_addition(1, addition("MSPHUB-T5"))
    assert first.id != second.id
    assert len(cw_live_client.find_additions_by_reference(1, "MSPHUB-T5")) == 2


def test_read_timeout_is_cwtimeout_and_get_is_retried(cw_live):
    cw_live.set_faults([{"kind": "timeout", "ms": 800, "count": 1}])
    timeouts = Timeouts(connect=1, read=0.3, write=1, pool=1)
    with cw_live.client(timeouts=timeouts) as client:
        assert client.get_company(2).id == 2
        assert client.calls[("GET", "/company/companies/{id}")] == 2
        cw_live.set_faults([{"kind": "timeout", "ms": 800}])
        with pytest.raises(CWTimeout) as caught:
            client.create_addition(1, addition("MSPHUB-T88"))
    assert caught.value.outcome_unknown
    deadline = time.monotonic() + 3  # the sandbox finishes the slow POST after the client gave up
    while not [e for e in api_requests(cw_live) if e["method"] == "POST"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [a.get("serialNumber") for a in cw_live.state("additions", parent=1)].count("MSPHUB-T88") == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(cw_live, cw_live_client, status):
    cw_live.set_faults([{"kind": "status", "status": status, "count": 2}])
    assert cw_live_client.get_company(1).id == 1
    assert [e["status"] for e in api_requests(cw_live)] == [status, status, 200]


def test_not_found_validation_and_forbidden(cw_live, cw_live_client):
    with pytest.raises(CWNotFound) as missing:
        cw_live_client.get_agreement(99999)
    assert missing.value.code == "NotFound" and missing.value.request_id
    with pytest.raises(CWValidationError) as invalid:
        cw_live_client.create_addition(1, NewAddition(product_id=9999, quantity=Decimal(-2)))
    fields = {e["field"] for e in invalid.value.errors}
    assert invalid.value.code == "InvalidObject" and {"product", "quantity"} <= fields
    readonly = Credentials(cw_live.company_id, seed.READONLY_PUBLIC_KEY, seed.READONLY_PRIVATE_KEY, cw_live.client_id)
    with cw_live.client(readonly) as client:
        assert client.get_company(1).id == 1
        with pytest.raises(CWForbidden):
            client.create_addition(1, addition("MSPHUB-T3"))


def _closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable(cw_live):
    with cw_live.client(api_url=f"http://127.0.0.1:{_closed_port()}") as client:
        with pytest.raises(CWUnreachable):
            client.get_company(1)
        assert client.call_count == 3  # connect errors are retried, boundedly


def test_tls_error(cw_live):
    with cw_live.client(api_url=cw_live.root_url.replace("http://", "https://")) as client:
        with pytest.raises(CWTLSError):
            client.system_info()
        assert client.call_count == 1
