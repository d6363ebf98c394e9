"""Pytest plugin: ConnectWise sandbox fixtures (in-process and real HTTP on 127.0.0.1).

Enable with ``pytest_plugins = ["tests.cw_fixtures"]`` in the root conftest.

- ``cw_sandbox``: fresh in-process sandbox (``httpx.WSGITransport``), function scope.
- ``cw_client``: a ``ConnectWiseClient`` on ``cw_sandbox`` with the demo credentials.
- ``cw_server``: one real threaded server per session on a free port (internal).
- ``cw_live``: that server, reset to the default seed (state, faults, log) for each test.
- ``cw_live_client``: a client on ``cw_live`` over real HTTP.
- ``cw_big_live``: a module-scoped real server whose demo account has 2,500 extra companies.
- ``cw_both``: parametrised: ``cw_sandbox``, then ``cw_live`` (a test using it runs once on each).

Every handle is a ``SandboxHandle``: ``base_url``, ``company_id``, ``public_key``,
``private_key``, ``client_id``, ``credentials``, ``client(**overrides)``,
``set_faults(rules, seed=0)``, ``clear_faults()``, ``held()``, ``wait_held(n)``, ``release(n)``, ``requests(since=0)``,
``state(resource, account=None, parent=None)``, ``invoice_run(period_start, agreement_ids=None,
account=None)`` (ConnectWise's agreement invoicing for one calendar month, see docs/sandbox.md),
``reset()``, ``sandbox`` (the state object).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from msphub_psa.connectwise import ApiUrlPolicy, ConnectWiseClient, Credentials, RetryPolicy, Timeouts
from msphub_psa.connectwise.sandbox import Sandbox, create_app, default_seed, get_sandbox
from msphub_psa.connectwise.sandbox import seed as seed_module

FAST_RETRY = RetryPolicy(max_attempts=3, max_elapsed=10.0, backoff_base=0.05, backoff_max=0.2)
TEST_TIMEOUTS = Timeouts(connect=2.0, read=5.0, write=5.0, pool=2.0)


@dataclass
class SandboxHandle:
    """A running sandbox and the demo account's credentials."""

    sandbox: Sandbox
    root_url: str
    transport: httpx.BaseTransport | None = None
    company_id: str = seed_module.DEMO_COMPANY_ID
    public_key: str = seed_module.DEMO_PUBLIC_KEY
    private_key: str = seed_module.DEMO_PRIVATE_KEY
    client_id: str = seed_module.DEMO_CLIENT_ID

    @property
    def base_url(self) -> str:
        """The ConnectWise REST base URL of the sandbox."""
        return f"{self.root_url}/v4_6_release/apis/3.0"

    @property
    def credentials(self) -> Credentials:
        """The demo account's credentials."""
        return Credentials(self.company_id, self.public_key, self.private_key, self.client_id)

    def client(self, credentials: Credentials | None = None, **overrides: Any) -> ConnectWiseClient:
        """A client on this sandbox (loopback http allowed, fast retries)."""
        api_url = overrides.pop("api_url", self.base_url)
        options: dict[str, Any] = dict(
            url_policy=ApiUrlPolicy(allow_loopback_http=True),
            retry=FAST_RETRY,
            timeouts=TEST_TIMEOUTS,
            transport=self.transport,
        )
        options.update(overrides)
        return ConnectWiseClient(credentials or self.credentials, api_url, **options)

    def set_faults(self, rules: list[dict[str, Any]], seed: int = 0) -> None:
        """Replace the fault rules."""
        self.sandbox.faults.configure(rules, seed)

    def held(self) -> int:
        """How many requests a ``hold`` fault is holding now."""
        return self.sandbox.faults.held()

    def wait_held(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` requests are held (an outcome, not a speed: ``timeout`` only ends a hang).

        :raises AssertionError: when they never are.
        """
        import time

        deadline = time.monotonic() + timeout
        while self.held() < count:
            assert time.monotonic() < deadline, f"{self.held()} request(s) held, waited for {count}"
            time.sleep(0.02)

    def release(self, count: int = 1) -> None:
        """Let ``count`` held requests through."""
        self.sandbox.faults.release(count)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.sandbox.faults.configure([])

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log (entries after sequence number ``since``)."""
        return self.sandbox.log_since(since)

    def state(self, resource: str, account: str | None = None, parent: int | None = None) -> list[dict[str, Any]]:
        """Every stored record of ``resource`` (of the demo account by default)."""
        return list(self.sandbox.store.scan(account or self.company_id, resource, parent))

    def invoice_run(
        self, period_start: date, agreement_ids: Iterable[int] | None = None, account: str | None = None
    ) -> dict[str, Any]:
        """Invoice the month starting at ``period_start`` (the demo account's agreements by default)."""
        return self.sandbox.invoice_run(account or self.company_id, period_start, agreement_ids)

    def reset(self) -> None:
        """Back to the seed, no faults, empty log."""
        self.sandbox.reset()


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request to stderr."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Skip the access log."""


class LiveServer:
    """A threaded werkzeug server on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, name="cw-sandbox", daemon=True)
        self.thread.start()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _live(app: Any) -> Iterator[tuple[LiveServer, SandboxHandle]]:
    """Run ``app`` on a live server for the fixture's lifetime."""
    server = LiveServer(app)
    try:
        yield server, SandboxHandle(get_sandbox(app), server.root_url)
    finally:
        server.stop()


@pytest.fixture
def cw_sandbox() -> SandboxHandle:
    """A fresh in-process sandbox reached through ``httpx.WSGITransport``."""
    app = create_app()
    return SandboxHandle(get_sandbox(app), "http://127.0.0.1", httpx.WSGITransport(app=app))


@pytest.fixture
def cw_client(cw_sandbox: SandboxHandle) -> Iterator[ConnectWiseClient]:
    """A client on the in-process sandbox with the demo credentials."""
    with cw_sandbox.client() as client:
        yield client


@pytest.fixture(scope="session")
def cw_server() -> Iterator[SandboxHandle]:
    """One real HTTP sandbox for the session (use ``cw_live`` for a clean state)."""
    yield from (handle for _, handle in _live(create_app()))


@pytest.fixture
def cw_live(cw_server: SandboxHandle) -> SandboxHandle:
    """The real HTTP sandbox, reset to the default seed for this test."""
    cw_server.reset()
    return cw_server


@pytest.fixture
def cw_live_client(cw_live: SandboxHandle) -> Iterator[ConnectWiseClient]:
    """A client on the real HTTP sandbox with the demo credentials."""
    with cw_live.client() as client:
        yield client


@pytest.fixture(params=["in-process", "live"])
def cw_both(request: pytest.FixtureRequest) -> SandboxHandle:
    """The in-process sandbox, then the real HTTP one: the test runs once on each."""
    return request.getfixturevalue("cw_sandbox" if request.param == "in-process" else "cw_live")


@pytest.fixture(scope="module")
def cw_big_live() -> Iterator[SandboxHandle]:
    """A real HTTP sandbox whose demo account holds 20 + 2,500 companies."""
    yield from (handle for _, handle in _live(create_app(seed=default_seed(extra_companies=2500))))
