"""Typed errors raised by the ConnectWise client.

Exception tree::

    CWError                        base; .code .message .errors .status .request_id
    |-- CWURLRefused               the API URL policy refused the URL (no connection opened)
    |-- CWCompanyNotFound          /login/companyinfo answered ``null``: unknown company id
    |-- CWTransportError           no HTTP response was received
    |   |-- CWUnreachable          could not connect (DNS, refused, connect timeout)
    |   |-- CWTimeout              the request was sent, no answer in time (outcome unknown)
    |   |-- CWConnectionLost       the connection closed before a response (outcome unknown)
    |   `-- CWTLSError             TLS handshake or certificate failure
    `-- CWHTTPError                ConnectWise answered with an error status
        |-- CWAuthError            401: company/public/private key or clientId refused
        |-- CWForbidden            403: the API member's security role lacks the right
        |-- CWNotFound             404
        |-- CWValidationError      400: ``errors[]`` lists the refused fields
        |-- CWRateLimited          429: ``retry_after`` seconds (or None)
        `-- CWServerError          5xx; ``is_cw_timeout`` for ConnectWise's retryable timeout-500

``error_from_response`` is the one status -> error mapping. ``outcome_unknown`` tells the
caller (the billing push) that a write may have been applied although it raised.
No error ever carries request headers, so the private key cannot leak through one.
"""

from __future__ import annotations

from typing import Any


class CWError(Exception):
    """Base of every ConnectWise client error."""

    outcome_unknown = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        status: int | None = None,
        request_id: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = list(errors or [])
        self.status = status
        self.request_id = request_id
        self.method = method
        self.path = path

    def __str__(self) -> str:
        """Render code, message, status, request and request id (never headers)."""
        parts = [f"{self.code}: {self.message}" if self.code else self.message]
        if self.method and self.path:
            parts.append(f"({self.method} {self.path})")
        if self.status is not None:
            parts.append(f"[HTTP {self.status}]")
        if self.request_id:
            parts.append(f"[x-cw-request-id {self.request_id}]")
        return " ".join(parts)


class CWURLRefused(CWError, ValueError):
    """The API URL is not https, not an allowed host, or resolves to a private address."""


class CWCompanyNotFound(CWError):
    """ConnectWise does not know the company id (companyinfo returned ``null``)."""


class CWTransportError(CWError):
    """No HTTP response was received."""


class CWUnreachable(CWTransportError):
    """The server could not be reached; the request was not sent."""


class CWTimeout(CWTransportError):
    """The request timed out after it was sent; a write may have been applied."""

    outcome_unknown = True


class CWConnectionLost(CWTransportError):
    """The connection was closed before a response; a write may have been applied."""

    outcome_unknown = True


class CWTLSError(CWTransportError):
    """TLS negotiation or certificate verification failed."""


class CWHTTPError(CWError):
    """ConnectWise answered with an HTTP error status."""


class CWAuthError(CWHTTPError):
    """401: the credentials or the clientId were refused."""


class CWForbidden(CWHTTPError):
    """403: the API member may not do this."""


class CWNotFound(CWHTTPError):
    """404: no such record (or, on cloud, sometimes bad authentication)."""


class CWValidationError(CWHTTPError):
    """400: ConnectWise refused the object; see ``errors``."""


class CWRateLimited(CWHTTPError):
    """429: too many requests; ``retry_after`` is in seconds when ConnectWise said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class CWServerError(CWHTTPError):
    """5xx from ConnectWise (or the proxy in front of it)."""

    @property
    def is_cw_timeout(self) -> bool:
        """True for ConnectWise's retryable ``A timeout has occured`` 500."""
        return self.status == 500 and "timeout" in (self.message or "").lower()

    @property
    def outcome_unknown(self) -> bool:  # type: ignore[override]
        """A gateway error or a timeout-500 may hide an applied write."""
        return self.status in (502, 504) or self.is_cw_timeout


_BY_STATUS: dict[int, type[CWHTTPError]] = {
    400: CWValidationError,
    401: CWAuthError,
    403: CWForbidden,
    404: CWNotFound,
    429: CWRateLimited,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header in its delta-seconds form, else None."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_from_response(
    status: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: str | None = None,
    method: str | None = None,
    path: str | None = None,
) -> CWHTTPError:
    """Map an HTTP error status and ConnectWise's JSON body to one typed error."""
    body = body if isinstance(body, dict) else {}
    code = body.get("code") or body.get("error")
    message = body.get("message") or f"HTTP {status}"
    errors = body.get("errors") if isinstance(body.get("errors"), list) else None
    kw: dict[str, Any] = dict(code=code, errors=errors, status=status, request_id=request_id, method=method, path=path)
    cls = _BY_STATUS.get(status) or (CWServerError if status >= 500 else CWHTTPError)
    if cls is CWRateLimited:
        return CWRateLimited(message, retry_after=parse_retry_after(retry_after), **kw)
    return cls(message, **kw)
