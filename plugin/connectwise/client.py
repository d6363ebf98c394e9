"""ConnectWise Manage REST client: one ``httpx.Client``, typed errors, bounded retries.

Every endpoint method is one ``_request``/``_list`` call, except the batched reads by id or
identifier (``get_agreements``, ``get_companies``, ``find_catalog_items``), which pack their
values into as few ``in (...)`` requests as ConnectWise's 2,000-character URL limit allows
(``batching``). Retries: GET, PUT, PATCH and DELETE on 429 (honouring ``Retry-After``),
502/503/504, ConnectWise's timeout-500 and transport failures, with exponential backoff and
jitter, bounded by ``RetryPolicy``. A POST is never retried: it raises, and
``error.outcome_unknown`` tells the caller to look its record up
(``find_additions_by_reference``) before creating it again.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

from . import conditions as cond
from .auth import Credentials, redact_headers
from .batching import pack
from .errors import (
    CWCompanyNotFound,
    CWConnectionLost,
    CWError,
    CWRateLimited,
    CWServerError,
    CWTimeout,
    CWTLSError,
    CWTransportError,
    CWUnreachable,
    error_from_response,
)
from .types import (
    Addition,
    Adjustment,
    Agreement,
    AgreementType,
    CatalogItem,
    Category,
    Company,
    CompanyInfo,
    Invoice,
    NewAddition,
    NewAdjustment,
    NewCatalogItem,
    ProductType,
    Subcategory,
    SystemInfo,
)
from .urls import ApiUrlPolicy

DEFAULT_API_VERSION = "2025.8"
MAX_PAGE_SIZE = 1000
MAX_URL_LENGTH = 2000  # ConnectWise's guidance: keep every request URL within 2,000 characters
PAGE_ROOM = len("&page=99")  # left free in a batched read's URL, so a follow-up page would still fit
RETRYABLE_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
T = TypeVar("T")
Throttle = Callable[[], None]


@dataclass(frozen=True)
class Timeouts:
    """Explicit httpx timeouts, in seconds."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        """The httpx form."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retries: attempts in all, total seconds, and the backoff curve."""

    max_attempts: int = 4
    max_elapsed: float = 60.0
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential delay after ``attempt`` (1-based), with equal jitter."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def is_retryable(error: CWError) -> bool:
    """True for errors worth retrying an idempotent request on."""
    if isinstance(error, CWTransportError):
        return not isinstance(error, CWTLSError)
    if isinstance(error, CWServerError) and error.is_cw_timeout:
        return True
    return error.status in RETRYABLE_STATUSES


def _json_default(value: Any) -> Any:
    """JSON for Decimal (exact ints stay ints) and dates."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return cond.format_datetime(value)
    raise TypeError(f"Cannot encode {type(value).__name__}")


def patch_ops(changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """JSON Patch ``replace`` operations for top-level ``changes``."""
    return [{"op": "replace", "path": path, "value": value} for path, value in changes.items()]


def _ssl_cause(exc: BaseException) -> bool:
    """True when an ``ssl.SSLError`` is in the exception's cause chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def transport_error(exc: httpx.TransportError, method: str, path: str) -> CWTransportError:
    """Map an httpx transport failure to the client's typed error."""
    kind, message = _transport_kind(exc)
    return kind(message, method=method, path=path, code=type(exc).__name__)


def _transport_kind(exc: httpx.TransportError) -> tuple[type[CWTransportError], str]:
    """The typed error and its message for an httpx transport failure."""
    if isinstance(exc, httpx.ConnectTimeout):
        return CWUnreachable, "Connection to ConnectWise timed out."
    if isinstance(exc, httpx.TimeoutException):
        return CWTimeout, "ConnectWise did not answer in time."
    if isinstance(exc, httpx.ConnectError):
        if _ssl_cause(exc) or "ssl" in str(exc).lower():
            return CWTLSError, "TLS connection to ConnectWise failed."
        return CWUnreachable, "ConnectWise is unreachable."
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return CWConnectionLost, "The connection closed before ConnectWise answered."
    return CWUnreachable, "ConnectWise could not be reached."


def _next_params(response: httpx.Response) -> dict[str, str] | None:
    """Query parameters of the Link header's ``rel="next"`` URL, if any."""
    for rel, url in _links(response.headers.get("link", "")):
        if rel == "next":
            return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    return None


def _links(header: str) -> Iterator[tuple[str, str]]:
    """``(rel, url)`` pairs of a Link header."""
    for part in header.split(","):
        url, _, params = part.partition(";")
        rel = params.split("=", 1)[-1].strip().strip('"') if "rel=" in params else ""
        if url.strip().startswith("<"):
            yield rel, url.strip()[1:-1]


class ConnectWiseClient:
    """Typed ConnectWise Manage client for one company's API member."""

    def __init__(
        self,
        credentials: Credentials,
        api_url: str,
        *,
        url_policy: ApiUrlPolicy | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        api_version: str | None = DEFAULT_API_VERSION,
        throttle: Throttle | None = None,
        transport: httpx.BaseTransport | None = None,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Check ``api_url`` against the policy (no connection), then build the httpx client.

        :raises CWURLRefused: when the policy refuses ``api_url``.
        """
        self.api = (url_policy or ApiUrlPolicy()).check(api_url)
        self.credentials = credentials
        self.retry = retry
        self.calls: Counter[tuple[str, str]] = Counter()
        self._calls_lock = threading.Lock()  # one client serves the push's threads (httpx.Client is thread-safe)
        self._throttle = throttle
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._log = logger or logging.getLogger(__name__)
        accept = "application/json"
        if api_version:
            accept = f"application/vnd.connectwise.com+json; version={api_version}"
        self._http = httpx.Client(
            timeout=timeouts.to_httpx(),
            transport=transport,
            headers={"Accept": accept},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        c = self.credentials
        return (
            f"ConnectWiseClient(company={c.company_id!r}, public_key={c.public_key!r}, base_url={self.api.base_url!r})"
        )

    def __enter__(self) -> ConnectWiseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    @property
    def call_count(self) -> int:
        """HTTP requests sent so far (every attempt counts)."""
        with self._calls_lock:
            return sum(self.calls.values())

    # -- transport -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        template: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        url: str | None = None,
        auth: bool = True,
        **ids: Any,
    ) -> httpx.Response:
        """Send one logical request, retrying idempotent ones; return the success response.

        :raises CWError: the typed error of the last attempt.
        """
        path = template.format(**ids)
        request = self._http.build_request(
            method,
            url or self.api.base_url + path,
            params=params,
            content=None if body is None else json.dumps(body, default=_json_default),
            headers={
                **(self.credentials.headers() if auth else {}),
                **({"Content-Type": "application/json"} if body is not None else {}),
                **(headers or {}),
            },
        )
        deadline = time.monotonic() + self.retry.max_elapsed
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(request, template, path, attempt)
            if isinstance(outcome, httpx.Response):
                return outcome
            delay = self._retry_delay(method, outcome, attempt, deadline)
            if delay is None:
                raise outcome
            self._sleep(delay)

    def _attempt(self, request: httpx.Request, template: str, path: str, attempt: int) -> httpx.Response | CWError:
        """One HTTP attempt: throttle, send, count, log; the response or its typed error."""
        if self._throttle is not None:
            self._throttle()
        with self._calls_lock:
            self.calls[(request.method, template)] += 1
        started = time.perf_counter()
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            error = transport_error(exc, request.method, path)
            self._log_attempt(request, path, type(exc).__name__, started, attempt, None)
            return error
        response.read()
        request_id = response.headers.get("x-cw-request-id")
        self._log_attempt(request, path, response.status_code, started, attempt, request_id)
        if response.is_success:
            return response
        return error_from_response(
            response.status_code,
            _body(response),
            request_id=request_id,
            retry_after=response.headers.get("retry-after"),
            method=request.method,
            path=path,
        )

    def _log_attempt(
        self, request: httpx.Request, path: str, outcome: Any, started: float, attempt: int, request_id: str | None
    ) -> None:
        """DEBUG line per attempt; secret headers redacted."""
        if self._log.isEnabledFor(logging.DEBUG):
            duration = round((time.perf_counter() - started) * 1000, 1)
            self._log.debug(
                "ConnectWise %s %s -> %s in %.1f ms (attempt %d, x-cw-request-id=%s) headers=%s",
                request.method,
                path,
                outcome,
                duration,
                attempt,
                request_id,
                redact_headers(request.headers),
                extra={
                    "cw_method": request.method,
                    "cw_path": path,
                    "cw_status": outcome,
                    "duration_ms": duration,
                    "attempt": attempt,
                    "cw_request_id": request_id,
                },
            )

    def _retry_delay(self, method: str, error: CWError, attempt: int, deadline: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if method not in RETRYABLE_METHODS or attempt >= self.retry.max_attempts:
            return None
        if not is_retryable(error):
            return None
        delay = error.retry_after if isinstance(error, CWRateLimited) else None
        if delay is None:
            delay = self.retry.backoff(attempt, self._rng)
        return delay if time.monotonic() + delay <= deadline else None

    def _json(self, method: str, template: str, **kw: Any) -> Any:
        """``_request`` and decode the JSON body (floats as Decimal)."""
        return _body(self._request(method, template, **kw))

    # -- paging ----------------------------------------------------------------------------

    def iter_pages(
        self,
        template: str,
        conditions: cond.Condition | str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        forward_only: bool = False,
        updated_since: datetime | None = None,
        order_by: str | None = None,
        fields: str | None = None,
        child_conditions: cond.Condition | str | None = None,
        **ids: Any,
    ) -> Iterator[list[dict[str, Any]]]:
        """Lazily yield the pages of a list endpoint, one request per page."""
        if updated_since is not None:
            conditions = cond.and_(*(c for c in (conditions, cond.updated_since(updated_since)) if c))
        params = {
            k: str(v)
            for k, v in {
                "conditions": conditions,
                "childConditions": child_conditions,
                "orderBy": order_by,
                "fields": fields,
            }.items()
            if v
        }
        params["pageSize"] = str(min(page_size, MAX_PAGE_SIZE))
        headers = {"pagination-type": "forward-only"} if forward_only else None
        while True:
            response = self._request("GET", template, params=params, headers=headers, **ids)
            items = _body(response) or []
            if items:
                yield items
            following = _next_params(response)
            if not following or len(items) < int(params["pageSize"]):
                return
            params = {**params, **following}

    def _list(self, parse: Callable[[dict[str, Any]], T], template: str, *args: Any, **kw: Any) -> Iterator[T]:
        """Lazily yield parsed records across pages."""
        for page in self.iter_pages(template, *args, **kw):
            yield from map(parse, page)

    def _url_length(self, template: str, params: Mapping[str, str]) -> int:
        """Length of the URL httpx sends for a GET of ``template`` with ``params``."""
        request = self._http.build_request("GET", self.api.base_url + template, params=params)
        return len(str(request.url))

    def _in_conditions(self, template: str, name: str, values: Sequence[cond.Value]) -> Iterator[cond.Condition]:
        """``name in (...)`` conditions covering ``values`` in as few URLs of ``MAX_URL_LENGTH`` as possible.

        :raises ValueError: when one value alone cannot fit in a URL.
        """
        params = {"conditions": f"{cond.field(name)} in ()", "pageSize": str(MAX_PAGE_SIZE)}
        capacity = MAX_URL_LENGTH - PAGE_ROOM - self._url_length(template, params)
        costs = [(_encoded_length(cond.literal(v)), v) for v in values]
        for batch in pack(costs, capacity, _encoded_length(","), MAX_PAGE_SIZE):
            yield from self._fitting(template, name, batch)

    def _fitting(self, template: str, name: str, batch: list[cond.Value]) -> Iterator[cond.Condition]:
        """``name in (batch)``, checked against the URL httpx builds (halved if ever longer than reckoned)."""
        condition = cond.in_(name, batch, compact=True)
        params = {"conditions": str(condition), "pageSize": str(MAX_PAGE_SIZE)}
        if self._url_length(template, params) + PAGE_ROOM <= MAX_URL_LENGTH or len(batch) == 1:
            yield condition
            return
        yield from self._fitting(template, name, batch[: len(batch) // 2])
        yield from self._fitting(template, name, batch[len(batch) // 2 :])

    def _read_in(
        self, parse: Callable[[dict[str, Any]], T], template: str, name: str, values: Sequence[cond.Value]
    ) -> Iterator[T]:
        """Records whose ``name`` is one of ``values``: batched ``in`` conditions, pages of 1,000."""
        for condition in self._in_conditions(template, name, values):
            yield from self._list(parse, template, condition, page_size=MAX_PAGE_SIZE)

    def _count(self, template: str, conditions: cond.Condition | str | None = None, **ids: Any) -> int:
        """``/count`` of a list endpoint."""
        params = {"conditions": str(conditions)} if conditions else None
        return int(self._json("GET", template + "/count", params=params, **ids)["count"])

    # -- credential check ----------------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        """``GET /login/companyinfo/{companyId}`` (unauthenticated).

        :raises CWCompanyNotFound: ConnectWise answered ``null``.
        """
        company_id = self.credentials.company_id
        data = self._json(
            "GET",
            "/login/companyinfo/{companyId}",
            auth=False,
            url=self.api.company_info_url(company_id),
            companyId=company_id,
        )
        if not data:
            raise CWCompanyNotFound(f"ConnectWise knows no company {company_id!r}.", code="CompanyNotFound", status=200)
        return CompanyInfo.from_json(data)

    def system_info(self) -> SystemInfo:
        """``GET /system/info`` with the credentials."""
        return SystemInfo.from_json(self._json("GET", "/system/info"))

    def check_credentials(self) -> SystemInfo:
        """Activation's check: the company exists, then the keys and clientId are accepted.

        :raises CWCompanyNotFound: unknown company id.
        :raises CWAuthError: public/private key or clientId refused.
        """
        self.company_info()
        return self.system_info()

    # -- companies ---------------------------------------------------------------------------------

    def iter_companies(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[Company]:
        """Companies matching ``conditions``, lazily (see ``iter_pages`` for options)."""
        return self._list(Company.from_json, "/company/companies", conditions, **kw)

    def get_company(self, company_id: int) -> Company:
        """One company by id."""
        return Company.from_json(self._json("GET", "/company/companies/{id}", id=company_id))

    def count_companies(self, conditions: cond.Condition | str | None = None) -> int:
        """Number of companies matching ``conditions``."""
        return self._count("/company/companies", conditions)

    def get_companies(self, ids: Iterable[int]) -> dict[int, Company]:
        """Companies by id (soft-deleted ones included), in as few calls as the URL limit allows.

        Ids ConnectWise does not have are simply absent from the answer.
        """
        wanted = sorted({_record_id(i) for i in ids})
        found = {c.id: c for c in self._read_in(Company.from_json, "/company/companies", "id", wanted)}
        return dict(sorted(found.items()))

    # -- agreements ----------------------------------------------------------------------------------

    def iter_agreements(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[Agreement]:
        """Agreements matching ``conditions``, lazily."""
        return self._list(Agreement.from_json, "/finance/agreements", conditions, **kw)

    def get_agreement(self, agreement_id: int) -> Agreement:
        """One agreement by id."""
        return Agreement.from_json(self._json("GET", "/finance/agreements/{id}", id=agreement_id))

    def get_agreements(self, ids: Iterable[int]) -> dict[int, Agreement]:
        """Agreements by id, in as few calls as the URL limit allows; unknown ids are simply absent."""
        wanted = sorted({_record_id(i) for i in ids})
        found = {a.id: a for a in self._read_in(Agreement.from_json, "/finance/agreements", "id", wanted)}
        return dict(sorted(found.items()))

    def iter_agreement_types(
        self, conditions: cond.Condition | str | None = None, **kw: Any
    ) -> Iterator[AgreementType]:
        """Agreement types, lazily."""
        return self._list(AgreementType.from_json, "/finance/agreements/types", conditions, **kw)

    # -- additions -----------------------------------------------------------------------------------

    def iter_additions(
        self, agreement_id: int, conditions: cond.Condition | str | None = None, **kw: Any
    ) -> Iterator[Addition]:
        """Additions of one agreement, lazily."""
        return self._list(Addition.from_json, "/finance/agreements/{id}/additions", conditions, id=agreement_id, **kw)

    def get_addition(self, agreement_id: int, addition_id: int) -> Addition:
        """One addition."""
        return Addition.from_json(
            self._json("GET", "/finance/agreements/{id}/additions/{itemId}", id=agreement_id, itemId=addition_id)
        )

    def find_additions_by_reference(self, agreement_id: int, reference: str) -> list[Addition]:
        """Additions of an agreement whose ``serialNumber`` is our reference (one call)."""
        return list(self.iter_additions(agreement_id, cond.eq("serialNumber", reference)))

    def create_addition(self, agreement_id: int, addition: NewAddition) -> Addition:
        """POST an addition; never retried.

        :raises CWError: with ``outcome_unknown`` when it may have been created anyway.
        """
        return Addition.from_json(
            self._json("POST", "/finance/agreements/{id}/additions", body=addition.to_json(), id=agreement_id)
        )

    def update_addition(self, agreement_id: int, addition_id: int, changes: Mapping[str, Any]) -> Addition:
        """PATCH top-level fields of an addition (``{"quantity": 5}``)."""
        return Addition.from_json(
            self._json(
                "PATCH",
                "/finance/agreements/{id}/additions/{itemId}",
                body=patch_ops(changes),
                id=agreement_id,
                itemId=addition_id,
            )
        )

    def cancel_addition(self, agreement_id: int, addition_id: int, cancelled_date: date) -> Addition:
        """End an addition by setting its ``cancelledDate``."""
        return self.update_addition(agreement_id, addition_id, {"cancelledDate": cancelled_date})

    def delete_addition(self, agreement_id: int, addition_id: int) -> None:
        """DELETE an addition (retried like every idempotent call: a repeat of one that landed is a 404).

        :raises CWNotFound: it (or the agreement) does not exist.
        :raises CWValidationError: ConnectWise refuses it (e.g. an addition it has invoiced).
        """
        self._request("DELETE", "/finance/agreements/{id}/additions/{itemId}", id=agreement_id, itemId=addition_id)

    # -- adjustments ---------------------------------------------------------------------------------

    def iter_adjustments(
        self, agreement_id: int, conditions: cond.Condition | str | None = None, **kw: Any
    ) -> Iterator[Adjustment]:
        """Adjustments of one agreement, lazily."""
        return self._list(
            Adjustment.from_json, "/finance/agreements/{id}/adjustments", conditions, id=agreement_id, **kw
        )

    def find_adjustments_by_reference(self, agreement_id: int, reference: str) -> list[Adjustment]:
        """Adjustments whose ``description`` contains our reference (one call)."""
        return list(self.iter_adjustments(agreement_id, cond.contains("description", reference)))

    def create_adjustment(self, agreement_id: int, adjustment: NewAdjustment) -> Adjustment:
        """POST an adjustment; never retried."""
        return Adjustment.from_json(
            self._json("POST", "/finance/agreements/{id}/adjustments", body=adjustment.to_json(), id=agreement_id)
        )

    def get_adjustment(self, agreement_id: int, adjustment_id: int) -> Adjustment:
        """One adjustment."""
        return Adjustment.from_json(
            self._json("GET", "/finance/agreements/{id}/adjustments/{itemId}", id=agreement_id, itemId=adjustment_id)
        )

    def delete_adjustment(self, agreement_id: int, adjustment_id: int) -> None:
        """DELETE an adjustment (as ``delete_addition``).

        :raises CWNotFound: it (or the agreement) does not exist.
        :raises CWValidationError: ConnectWise refuses it (e.g. an adjustment it has invoiced).
        """
        self._request("DELETE", "/finance/agreements/{id}/adjustments/{itemId}", id=agreement_id, itemId=adjustment_id)

    # -- invoices --------------------------------------------------------------------------------------

    def iter_invoices(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[Invoice]:
        """Invoices matching ``conditions`` (e.g. ``agreement/id = 12``), lazily; read-only for the product."""
        return self._list(Invoice.from_json, "/finance/invoices", conditions, **kw)

    def get_agreement_invoices(self, agreement_ids: Iterable[int]) -> Iterator[Invoice]:
        """The ``Agreement`` invoices of these agreements, by batched ``agreement/id in (...)`` reads (pages of
        1,000) under the URL limit; invoices of other types are left out."""
        wanted = sorted({_record_id(i) for i in agreement_ids})
        for invoice in self._read_in(Invoice.from_json, "/finance/invoices", "agreement/id", wanted):
            if invoice.type == "Agreement":
                yield invoice

    # -- catalog ---------------------------------------------------------------------------------------

    def iter_catalog_items(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[CatalogItem]:
        """Catalog items, lazily."""
        return self._list(CatalogItem.from_json, "/procurement/catalog", conditions, **kw)

    def find_catalog_item(self, identifier: str) -> CatalogItem | None:
        """The catalog item with this identifier, or None."""
        return next(self.iter_catalog_items(cond.eq("identifier", identifier), page_size=1), None)

    def find_catalog_items(self, identifiers: Iterable[str]) -> dict[str, list[CatalogItem]]:
        """Each wanted identifier -> every catalog item ConnectWise finds equal to it, in the fewest calls.

        Equal as ConnectWise compares (letter case and trailing spaces ignored, ``conditions.fold``),
        active or not: each item keeps its exact ``identifier``, ``id`` and ``inactive``. An identifier
        nothing matches maps to ``[]``.

        :raises TypeError: for an identifier that is not a string.
        :raises ValueError: for an identifier too long to fit in a request URL.
        """
        wanted = list(dict.fromkeys(_identifier(i) for i in identifiers))
        keys = {cond.fold(text): text for text in reversed(wanted)}  # one literal per way ConnectWise compares
        found: dict[str, dict[int, CatalogItem]] = {}
        for item in self._read_in(CatalogItem.from_json, "/procurement/catalog", "identifier", list(keys.values())):
            found.setdefault(cond.fold(item.identifier), {})[item.id] = item
        return {text: list(found.get(cond.fold(text), {}).values()) for text in wanted}

    def create_catalog_item(self, item: NewCatalogItem) -> CatalogItem:
        """POST a catalog item; never retried."""
        return CatalogItem.from_json(self._json("POST", "/procurement/catalog", body=item.to_json()))

    def update_catalog_item(self, item_id: int, changes: Mapping[str, Any]) -> CatalogItem:
        """PATCH top-level fields of a catalog item (refs as ``{"id": n}``)."""
        return CatalogItem.from_json(
            self._json("PATCH", "/procurement/catalog/{id}", body=patch_ops(changes), id=item_id)
        )

    def iter_categories(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[Category]:
        """Product categories, lazily."""
        return self._list(Category.from_json, "/procurement/categories", conditions, **kw)

    def create_category(self, name: str) -> Category:
        """POST a category."""
        return Category.from_json(self._json("POST", "/procurement/categories", body={"name": name}))

    def iter_subcategories(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[Subcategory]:
        """Product subcategories, lazily."""
        return self._list(Subcategory.from_json, "/procurement/subcategories", conditions, **kw)

    def create_subcategory(self, name: str, category_id: int) -> Subcategory:
        """POST a subcategory of a category."""
        body = {"name": name, "category": {"id": category_id}}
        return Subcategory.from_json(self._json("POST", "/procurement/subcategories", body=body))

    def iter_product_types(self, conditions: cond.Condition | str | None = None, **kw: Any) -> Iterator[ProductType]:
        """Product types, lazily."""
        return self._list(ProductType.from_json, "/procurement/types", conditions, **kw)

    def create_product_type(self, name: str, type_xref: str | None = None) -> ProductType:
        """POST a product type."""
        body = {"name": name, **({"typeXref": type_xref} if type_xref else {})}
        return ProductType.from_json(self._json("POST", "/procurement/types", body=body))


def _encoded_length(text: str) -> int:
    """Characters ``text`` takes in a query string as httpx encodes it."""
    return len(str(httpx.QueryParams({"c": text}))) - len("c=")


def _record_id(value: Any) -> int:
    """A record id.

    :raises TypeError: for a value that is not an integer.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"A record id must be an int, not {type(value).__name__}")
    return value


def _identifier(value: Any) -> str:
    """A catalog identifier.

    :raises TypeError: for a value that is not a string.
    """
    if not isinstance(value, str):
        raise TypeError(f"A catalog identifier must be a str, not {type(value).__name__}")
    return value


def _body(response: httpx.Response) -> Any:
    """Decoded JSON body (floats as Decimal), None when empty or not JSON."""
    if not response.content:
        return None
    try:
        return response.json(parse_float=Decimal)
    except ValueError:
        return None
