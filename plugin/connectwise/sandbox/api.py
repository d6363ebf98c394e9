"""ConnectWise-shaped HTTP handling: auth, routing, faults, responses, the request log."""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import count
from typing import Any
from urllib.parse import quote

from flask import Response, request

from . import invoicing, listing, records
from .conditions import ConditionError
from .faults import CW_TIMEOUT_BODY, Fault, FaultInjector
from .resources import RESOURCES, InvalidObject, Resource, TypeFailure
from .seed import load_seed
from .store import Store

API_VERSION = "2025.8"
DROP_FLAG = "cw_sandbox.drop"
MAX_URL_LENGTH = 2000  # ConnectWise's documented limit; a longer URL gets IIS's 414 (❓ inferred status)
URL_TOO_LONG_PAGE = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">\r\n'
    "<HTML><HEAD><TITLE>Request URL Too Long</TITLE>\r\n"
    '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    "<BODY><h2>Request URL Too Long</h2>\r\n<hr><p>HTTP Error 414. The request URL is too long.</p>\r\n"
    "</BODY></HTML>\r\n"
)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_API_PATH = re.compile(r"^/(?P<codebase>[^/]+)/apis/3\.0(?P<rest>/.*)?$", re.IGNORECASE)
_COMPANYINFO = re.compile(r"^/login/companyinfo/(?P<company>[^/]+)/?$", re.IGNORECASE)


class ApiError(Exception):
    """An error answer: status, ConnectWise body, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, errors: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}
        self.body = {"code": code, "message": message, "errors": errors}


@dataclass(frozen=True)
class Route:
    """A URL pattern of the API and what it serves."""

    pattern: re.Pattern[str]
    kind: str  # collection | item | count | info | subcategories
    resource: Resource | None = None


def _routes() -> list[Route]:
    """Every API route; specific patterns before general ones."""
    routes = [
        Route(re.compile(r"^/system/info$"), "info"),
        Route(
            re.compile(r"^/procurement/categories/(?P<parent>\d+)/subcategories$"),
            "collection",
            RESOURCES["subcategories"],
        ),
    ]
    for res in RESOURCES.values():
        prefix = r"/finance/agreements/(?P<agreement>\d+)" if res.parent else ""
        base = prefix + re.escape(res.path.lower())
        routes += [
            Route(re.compile(f"^{base}/count$"), "count", res),
            Route(re.compile(f"^{base}/(?P<id>\\d+)$"), "item", res),
            Route(re.compile(f"^{base}$"), "collection", res),
        ]
    return routes


ROUTES = _routes()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response as ConnectWise sends it."""
    text = "" if status == 204 else json.dumps(body, ensure_ascii=False)
    response = Response(text, status=status, content_type="application/json; charset=utf-8")
    response.headers.update(headers or {})
    return response


class Sandbox:
    """State of one sandbox app: store, seed, faults, request log."""

    def __init__(self, store: Store, seed: dict[str, Any], faults: FaultInjector) -> None:
        self.store, self.seed, self.faults = store, seed, faults
        self.requests: deque[dict[str, Any]] = deque(maxlen=100_000)
        self._seq = count(1)
        self._log_lock = threading.Lock()

    def reset(self, seed: dict[str, Any] | None = None) -> None:
        """Reload the seed, clear faults and the request log."""
        self.seed = seed or self.seed
        with self.store.lock:
            self.store.clear()
            load_seed(self.store, self.seed)
        self.faults.configure([])
        self.clear_log()

    def clear_log(self) -> None:
        """Empty the request log."""
        with self._log_lock:
            self.requests.clear()

    def log(self, entry: dict[str, Any]) -> None:
        """Append to the request log with a sequence number."""
        with self._log_lock:
            entry["seq"] = next(self._seq)
            self.requests.append(entry)

    def log_since(self, since: int) -> list[dict[str, Any]]:
        """Log entries with ``seq > since``."""
        with self._log_lock:
            return [e for e in self.requests if e["seq"] > since]

    def invoice_run(
        self, account: str, period_start: date, agreement_ids: Iterable[int] | None = None
    ) -> dict[str, Any]:
        """ConnectWise's agreement invoicing for one calendar month (see ``invoicing``).

        Returns ``{"periodStart", "periodEnd", "created": [invoice, ...], "skipped": [{"agreementId",
        "reason"}, ...]}``; a second run for the same month creates nothing.

        :raises KeyError: for an unknown account.
        :raises ValueError: when ``period_start`` is not the first day of a month.
        :raises records.NotFound: for an agreement id the account does not have.
        """
        found = self.store.account(account)
        if found is None:
            raise KeyError(f"Unknown sandbox account {account!r}")
        return invoicing.run(self.store, found["companyId"], period_start, agreement_ids)

    # -- request handling ---------------------------------------------------------------------

    def handle(self, path: str) -> Response:
        """Serve one ConnectWise request with faults applied, and log it."""
        started, method = time.perf_counter(), request.method
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": method,
            "path": request.path,
            "query": request.query_string.decode("utf-8", "replace"),
            "account": _claimed_company(),
            "fault": None,
            "status": None,
        }
        try:
            response = self._faulted(path, entry)
        except ApiError as exc:
            response = json_response(exc.body, exc.status, exc.headers)
        response.headers["x-cw-request-id"] = str(uuid.uuid4())
        response.headers["api-current-version"] = API_VERSION
        entry["status"] = None if request.environ.get(DROP_FLAG) else response.status_code
        entry["durationMs"] = round((time.perf_counter() - started) * 1000, 1)
        self.log(entry)
        return response

    def _faulted(self, path: str, entry: dict[str, Any]) -> Response:
        """Refuse an over-long URL as the front end would; else apply faults around the real handling."""
        if len(request_url()) > MAX_URL_LENGTH:
            return Response(URL_TOO_LONG_PAGE, status=414, content_type="text/html; charset=us-ascii")
        api = _API_PATH.match(path)
        rest = (api.group("rest") or "/") if api else path
        latency, hold, fault = self.faults.draw(request.method, rest, entry["account"])
        if hold is not None:
            self.faults.hold(hold.ms)
        if latency:
            time.sleep(latency / 1000)
        if fault is not None:
            entry["fault"] = fault.kind
            early = _early_fault(fault)
            if early is not None:
                return early
        response = self._dispatch(path)
        if fault is not None and fault.kind == "drop":
            request.environ[DROP_FLAG] = True
        return response

    def _dispatch(self, path: str) -> Response:
        """Route to companyinfo or the REST API."""
        info = _COMPANYINFO.match(path)
        if info:
            return self.company_info(info.group("company"))
        api = _API_PATH.match(path)
        if not api:
            raise ApiError(404, "NotFound", "The requested URL was not found.")
        account = self.authenticate()
        return self.api(account, (api.group("rest") or "/").rstrip("/").lower() or "/")

    def company_info(self, company_id: str) -> Response:
        """``/login/companyinfo/{id}``: codebase, or ``null`` for an unknown company."""
        account = self.store.account(company_id)
        if account is None:
            return json_response(None)
        return json_response(
            {
                "CompanyName": account.get("companyName", account["companyId"]),
                "Codebase": account.get("codebase", "v4_6_release/"),
                "VersionCode": "v2025.1",
                "VersionNumber": "v4.6.2025",
                "CompanyID": account["companyId"],
                "IsCloud": "False",
            }
        )

    def authenticate(self) -> dict[str, Any]:
        """The account of the Basic credentials, with the member's ``readOnly`` flag.

        :raises ApiError: 401 for bad credentials or a missing/unknown clientId.
        """
        company, public, private = _basic_credentials()
        account = self.store.account(company) if company else None
        member = _member(account, public, private) if account else None
        if member is None:
            raise ApiError(401, "ConnectWiseApi", "UserNotAuthenticated")
        client_id = request.headers.get("clientId", "")
        allowed = account.get("credentials", {}).get("clientIds") or []
        if not client_id:
            raise ApiError(401, "Unauthorized", "A clientId header is required.")
        if allowed and client_id not in allowed:
            raise ApiError(401, "Unauthorized", "The clientId is not valid.")
        return {**account, "readOnly": bool(member.get("readOnly"))}

    def api(self, account: dict[str, Any], rest: str) -> Response:
        """Serve an authenticated REST call."""
        for route in ROUTES:
            match = route.pattern.match(rest)
            if match:
                if request.method in WRITES and account["readOnly"]:
                    raise ApiError(403, "Forbidden", "You do not have access to this resource.")
                return _guard(functools.partial(self._serve, route, match.groupdict(), account["companyId"]))
        raise ApiError(404, "NotFound", f"No endpoint matches {rest}.")

    def _serve(self, route: Route, ids: dict[str, str], account: str) -> Response:
        """Dispatch on route kind and method."""
        if route.kind == "info":
            return json_response(_system_info())
        handler = _HANDLERS.get((route.kind, request.method))
        if handler is None or route.resource is None:
            raise ApiError(405, "MethodNotAllowed", f"{request.method} is not allowed here.")
        parent = None
        if ids.get("agreement"):
            parent = records.load(self.store, account, RESOURCES["agreements"], int(ids["agreement"]))
        return handler(self.store, account, route.resource, ids, parent)


def _guard(call: Callable[[], Response]) -> Response:
    """Turn sandbox exceptions into ConnectWise error answers."""
    try:
        return call()
    except records.NotFound as exc:
        raise ApiError(404, "NotFound", str(exc)) from None
    except InvalidObject as exc:
        raise ApiError(400, "InvalidObject", str(exc), exc.errors) from None
    except TypeFailure as exc:
        raise ApiError(500, "ConnectWiseApi", str(exc)) from None
    except records.PatchFailure as exc:
        raise ApiError(400, "InvalidObject", str(exc)) from None
    except listing.BadQuery as exc:
        raise ApiError(400, exc.body["code"], exc.body["message"], exc.body.get("errors")) from None
    except ConditionError as exc:
        raise ApiError(400, "ApiFindCondition", str(exc)) from None


def _early_fault(fault: Fault) -> Response | None:
    """The answer of a fault that pre-empts the request (429/500/status); sleeps for timeouts."""
    if fault.kind == "429":
        seconds = f"{fault.retry_after:g}"
        return json_response(
            {"error": "ConnectWiseAPI", "message": f"Too many requests. Please try again in {seconds} seconds."},
            429,
            {"Retry-After": seconds},
        )
    if fault.kind == "500":
        return json_response(CW_TIMEOUT_BODY, 500)
    if fault.kind == "status":
        return json_response(
            fault.body or {"code": "ServiceUnavailable", "message": "Injected fault.", "errors": None}, fault.status
        )
    if fault.kind == "timeout":
        time.sleep(fault.ms / 1000)
    return None


def request_url() -> str:
    """The URL as the client sent it: scheme, host, path and the still-encoded query."""
    environ = request.environ
    target = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if not target:  # in-process (WSGITransport): rebuild it from the decoded path and the raw query
        path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/!$&'()*+,;=:@-._~")
        query = environ.get("QUERY_STRING", "")
        target = path + (f"?{query}" if query else "")
    return f"{environ.get('wsgi.url_scheme', 'http')}://{request.host}{target}"


def _claimed_company() -> str | None:
    """The company id named in the Basic header (unverified; for logs and faults)."""
    return _basic_credentials()[0] or None


def _basic_credentials() -> tuple[str, str, str]:
    """(company, public key, private key) from the Authorization header, or empties."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        return "", "", ""
    try:
        user, _, private = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", "", ""
    company, _, public = user.partition("+")
    return company, public, private


def _member(account: dict[str, Any], public: str, private: str) -> dict[str, Any] | None:
    """The API member whose keys match (constant-time compare), or None."""
    members = [account.get("credentials", {}), *account.get("members", [])]
    for member in members:
        if hmac.compare_digest(str(member.get("publicKey", "")).encode(), public.encode()) and hmac.compare_digest(
            str(member.get("privateKey", "")).encode(), private.encode()
        ):
            return member
    return None


def _system_info() -> dict[str, Any]:
    """``/system/info``."""
    return {
        "version": "v2025.1.0.0",
        "isCloud": False,
        "serverTimeZone": "UTC",
        "licenseBits": [],
        "cloudRegion": "NA",
        "maxWorkFlowRecordsAllowed": 10000,
    }


def _body() -> Any:
    """The request's JSON body.

    :raises TypeFailure: when it is not JSON (ConnectWise's deserialiser answers 500).
    """
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise TypeFailure(f"Unexpected character encountered while parsing value: {exc}") from None


def _parent_id(ids: dict[str, str]) -> int | None:
    """The index parent of a collection URL (agreement or category)."""
    value = ids.get("agreement") or ids.get("parent")
    return int(value) if value else None


def _list(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """GET collection."""
    args = {k.lower(): v for k, v in request.args.items()}
    raw = dict(request.args.items())
    forward = request.headers.get("pagination-type", "").lower() == "forward-only"
    pager = listing.forward_page if forward else listing.navigable_page
    page = pager(store, account, resource, _parent_id(ids), args, request.base_url, raw)
    items = [listing.project(r, args.get("fields")) for r in page.items]
    return json_response(items, headers={"Link": page.link} if page.link is not None else None)


def _create(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """POST collection."""
    return json_response(records.create(store, account, resource, _body(), parent=parent), 201)


def _count(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """GET /count."""
    args = {k.lower(): v for k, v in request.args.items()}
    return json_response({"count": listing.count(store, account, resource, _parent_id(ids), args)})


def _get(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """GET item."""
    record = records.load(store, account, resource, int(ids["id"]), parent and parent["id"])
    return json_response(listing.project(record, request.args.get("fields")))


def _put(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """PUT item."""
    existing = records.load(store, account, resource, int(ids["id"]), parent and parent["id"])
    return json_response(records.replace(store, account, resource, existing, _body(), parent=parent))


def _patch(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """PATCH item."""
    existing = records.load(store, account, resource, int(ids["id"]), parent and parent["id"])
    return json_response(records.patch(store, account, resource, existing, _body(), parent=parent))


def _delete(store: Store, account: str, resource: Resource, ids: dict[str, str], parent: Any) -> Response:
    """DELETE item."""
    existing = records.load(store, account, resource, int(ids["id"]), parent and parent["id"])
    records.remove(store, account, resource, existing)
    return json_response(None, 204)


_HANDLERS = {
    ("collection", "GET"): _list,
    ("collection", "POST"): _create,
    ("count", "GET"): _count,
    ("item", "GET"): _get,
    ("item", "PUT"): _put,
    ("item", "PATCH"): _patch,
    ("item", "DELETE"): _delete,
}


def drop_middleware(wsgi_app: Callable) -> Callable:
    """WSGI wrapper that, for a request marked ``drop``, cuts the TCP connection unanswered.

    The write has been applied by then. On werkzeug's server the socket is shut down and
    ``ConnectionAbortedError`` raised, which werkzeug treats as a dropped connection, so the
    client sees the connection close with no response. In-process (no socket) the error
    propagates to the caller instead.
    """

    def app(environ: dict[str, Any], start_response: Callable) -> Any:
        result = wsgi_app(environ, start_response)
        if not environ.get(DROP_FLAG):
            return result
        if hasattr(result, "close"):
            result.close()
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("cw sandbox: commit-then-drop fault")

    return app
