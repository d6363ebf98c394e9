"""A ConnectWise Manage stand-in: a plain Flask WSGI app with fault injection.

``create_app(data_path=None, seed=None, faults=None)`` serves ``/login/companyinfo/{id}`` and
``/{codebase}/apis/3.0/...`` for the resources in ``resources.RESOURCES``, plus loopback-only
admin endpoints under ``/__sandbox__/`` (never under a ConnectWise path):

- ``GET|POST|DELETE /__sandbox__/faults``: read (with ``held``: requests a hold rule holds), replace
  (``{"rules": [...], "seed": 1}``), clear
- ``POST /__sandbox__/release``: let ``{"count": N}`` held requests through (a ``hold`` fault)
- ``GET|DELETE /__sandbox__/requests[?since=SEQ]``: the request log, or clear it
- ``POST /__sandbox__/reset``: reload the seed (or the JSON seed posted), clear faults and log
- ``GET /__sandbox__/state?resource=additions[&account=demo_msp][&parent=12]``: stored records
- ``GET /__sandbox__/accounts``: account ids and their credentials (it is a sandbox)
- ``POST /__sandbox__/invoice-run``: ConnectWise's agreement invoicing for one calendar month
  (``{"periodStart": "2026-10-01", "account": "demo_msp", "agreementIds": [1, 2]}``; account and
  agreementIds optional), answering what ``Sandbox.invoice_run`` returns

docs/sandbox.md describes each of them, the fault kinds, the refusal rules and the invoicing run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, request

from . import records
from .api import Sandbox, drop_middleware, json_response
from .faults import FaultConfigError, FaultInjector
from .resources import RESOURCES
from .seed import default_seed, generate_companies, load_seed, read_seed
from .store import Store

__all__ = ["Sandbox", "create_app", "default_seed", "generate_companies", "get_sandbox"]
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", None})
EXTENSION = "cw_sandbox"


def create_app(
    data_path: str | Path | None = None,
    seed: dict[str, Any] | str | Path | None = None,
    faults: list[dict[str, Any]] | None = None,
    fault_seed: int = 0,
) -> Flask:
    """Build the sandbox app; an empty store is filled from ``seed`` (default: ``default_seed()``).

    A SQLite ``data_path`` that already holds accounts is kept as it is (persistence).
    """
    store = Store(str(data_path) if data_path else None)
    seed_data = read_seed(seed)
    if store.is_empty():
        load_seed(store, seed_data)
    sandbox = Sandbox(store, seed_data, FaultInjector(faults or [], fault_seed))
    app = Flask(__name__)
    app.extensions[EXTENSION] = sandbox
    _admin_routes(app, sandbox)
    app.add_url_rule(
        "/<path:path>",
        "connectwise",
        lambda path: sandbox.handle("/" + path),
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    )
    app.wsgi_app = drop_middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def get_sandbox(app: Flask) -> Sandbox:
    """The ``Sandbox`` state behind an app made by ``create_app``."""
    return app.extensions[EXTENSION]


def _loopback_only() -> None:
    """Refuse admin calls that do not come from loopback."""
    if request.remote_addr not in LOOPBACK:
        abort(403)


def _admin_routes(app: Flask, sandbox: Sandbox) -> None:
    """Register the ``/__sandbox__/`` endpoints."""
    app.before_request(lambda: _loopback_only() if request.path.startswith("/__sandbox__/") else None)

    @app.route("/__sandbox__/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        """Read, replace or clear fault rules."""
        if request.method != "GET":
            body = request.get_json(silent=True) or {} if request.method == "POST" else {}
            rules = body if isinstance(body, list) else body.get("rules", [])
            try:
                sandbox.faults.configure(rules, int(body.get("seed", 0)) if isinstance(body, dict) else 0)
            except FaultConfigError as exc:
                return json_response({"error": str(exc)}, 400)
        return json_response(sandbox.faults.describe())

    @app.route("/__sandbox__/release", methods=["POST"])
    def release() -> Response:
        """Let ``count`` requests held by a hold rule through."""
        body = request.get_json(silent=True)
        count = body.get("count", 1) if isinstance(body, dict) else 1
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10_000:
            return json_response({"error": "count must be an integer from 0 to 10000"}, 400)
        sandbox.faults.release(count)
        return json_response(sandbox.faults.describe())

    @app.route("/__sandbox__/requests", methods=["GET", "DELETE"])
    def requests_log() -> Response:
        """The request log (``since`` = last seq seen), or clear it."""
        if request.method == "DELETE":
            sandbox.clear_log()
        return json_response(sandbox.log_since(int(request.args.get("since", 0))))

    @app.route("/__sandbox__/reset", methods=["POST"])
    def reset() -> Response:
        """Reload the seed (the posted one, if any)."""
        sandbox.reset(request.get_json(silent=True) or None)
        return json_response({"ok": True})

    @app.route("/__sandbox__/state")
    def state() -> Response:
        """Stored records of a resource (optionally of one parent)."""
        name = request.args.get("resource", "")
        if name not in RESOURCES:
            return json_response({"error": f"resource must be one of {sorted(RESOURCES)}"}, 400)
        found = sandbox.store.account(request.args.get("account") or sandbox.seed["accounts"][0]["companyId"])
        if found is None:
            return json_response({"error": "unknown account"}, 404)
        account = found["companyId"]
        parent = int(request.args["parent"]) if request.args.get("parent") else None
        return json_response(list(sandbox.store.scan(account, name, parent)))

    @app.route("/__sandbox__/invoice-run", methods=["POST"])
    def invoice_run() -> Response:
        """Run the agreement invoicing for one calendar month."""
        body = request.get_json(silent=True)
        try:
            run = _invoice_run_args(body, sandbox.seed["accounts"][0]["companyId"])
            return json_response(sandbox.invoice_run(*run))
        except (KeyError, records.NotFound) as exc:
            return json_response({"error": str(exc.args[0] if exc.args else exc)}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    @app.route("/__sandbox__/accounts")
    def accounts() -> Response:
        """Accounts with their credentials."""
        return json_response(list(sandbox.store.accounts().values()))


def _invoice_run_args(body: Any, default_account: str) -> tuple[str, date, list[int] | None]:
    """(account, period start, agreement ids) of an invoice-run request.

    :raises ValueError: for a missing or malformed field.
    """
    if not isinstance(body, dict) or not isinstance(body.get("periodStart"), str):
        raise ValueError('Send {"periodStart": "YYYY-MM-01"} (optional "account", "agreementIds").')
    ids = body.get("agreementIds")
    if ids is not None and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
        raise ValueError("agreementIds must be a list of integers.")
    return str(body.get("account") or default_account), date.fromisoformat(body["periodStart"]), ids
