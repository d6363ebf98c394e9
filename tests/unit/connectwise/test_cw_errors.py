"""The one status -> error mapping."""

from __future__ import annotations

import pytest

from msphub_psa.connectwise import errors as e


@pytest.mark.parametrize(
    "status, cls",
    [
        (400, e.CWValidationError),
        (401, e.CWAuthError),
        (403, e.CWForbidden),
        (404, e.CWNotFound),
        (429, e.CWRateLimited),
        (500, e.CWServerError),
        (502, e.CWServerError),
        (503, e.CWServerError),
        (409, e.CWHTTPError),
        (405, e.CWHTTPError),
    ],
)
def test_status_mapping(status, cls):
    error = e.error_from_response(status, {"code": "X", "message": "m", "errors": None}, request_id="rid")
    assert type(error) is cls and error.status == status and error.request_id == "rid" and error.errors == []


def test_validation_error_keeps_errors_list():
    body = {
        "code": "InvalidObject",
        "message": "agreementAddition object is invalid",
        "errors": [{"code": "MissingRequiredField", "message": "product is required.", "field": "product"}],
    }
    error = e.error_from_response(400, body, method="POST", path="/finance/agreements/1/additions")
    assert error.code == "InvalidObject" and error.errors[0]["field"] == "product"
    assert str(error) == (
        "InvalidObject: agreementAddition object is invalid (POST /finance/agreements/1/additions) [HTTP 400]"
    )


def test_rate_limited_retry_after_and_429_body_shape():
    body = {"error": "ConnectWiseAPI", "message": "Too many requests. Please try again in 30 seconds."}
    error = e.error_from_response(429, body, retry_after="30")
    assert error.retry_after == 30 and error.code == "ConnectWiseAPI"
    assert e.error_from_response(429, None, retry_after="Wed, 21 Oct 2015 07:28:00 GMT").retry_after is None


def test_cw_timeout_500_is_recognised():
    timeout = e.error_from_response(
        500, {"code": "ConnectWiseApi", "message": "A timeout has occured. Please try again."}
    )
    other = e.error_from_response(500, {"code": "ConnectWiseApi", "message": "Error converting value"})
    assert timeout.is_cw_timeout and timeout.outcome_unknown
    assert not other.is_cw_timeout and not other.outcome_unknown


def test_non_json_body():
    error = e.error_from_response(502, "<html>bad gateway</html>")
    assert isinstance(error, e.CWServerError) and error.message == "HTTP 502" and error.outcome_unknown
