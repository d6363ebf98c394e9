"""Benchmark: list 10,000 companies through the client over real HTTP on 127.0.0.1.

Run ``python benchmarks/cw_client.py``. Starts the sandbox itself (threaded werkzeug server
in this process), and reports calls and wall time with and without 50 ms injected latency,
for navigable and forward-only paging.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from msphub_psa.connectwise import ApiUrlPolicy, ConnectWiseClient, Credentials  # noqa: E402
from msphub_psa.connectwise import conditions as c  # noqa: E402
from msphub_psa.connectwise.sandbox import create_app, default_seed, get_sandbox  # noqa: E402
from msphub_psa.connectwise.sandbox.seed import COMPANY_NAMES  # noqa: E402

TOTAL = 10_000


class QuietHandler(WSGIRequestHandler):
    """No access log."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        """Skip."""


def cpu_model() -> str:
    """The CPU model name (``lscpu``'s), best effort."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run(client: ConnectWiseClient, page_size: int, forward_only: bool, filtered: bool) -> tuple[int, int, float]:
    """List every (non-deleted, if ``filtered``) company; (companies, calls, seconds)."""
    client.calls.clear()
    started = time.perf_counter()
    where = c.eq("deletedFlag", False) if filtered else None
    count = sum(1 for _ in client.iter_companies(where, page_size=page_size, forward_only=forward_only))
    return count, client.call_count, time.perf_counter() - started


def main() -> None:
    """Start the sandbox, run the scenarios, print a table."""
    started = time.perf_counter()
    app = create_app(seed=default_seed(extra_companies=TOTAL - len(COMPANY_NAMES)))
    seeded = time.perf_counter() - started
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sandbox = get_sandbox(app)
    creds = sandbox.seed["accounts"][0]["credentials"]
    client = ConnectWiseClient(
        Credentials("demo_msp", creds["publicKey"], creds["privateKey"], creds["clientIds"][0]),
        f"http://127.0.0.1:{server.port}",
        url_policy=ApiUrlPolicy(allow_loopback_http=True),
    )
    print(f"machine: {cpu_model()}, {len(os.sched_getaffinity(0))} CPUs; Python {platform.python_version()}")
    print(f"sandbox seeded with {TOTAL} companies in {seeded:.2f} s")
    print(
        f"{'latency':>8} {'paging':>13} {'pageSize':>8} {'conditions':>18} {'companies':>9} {'calls':>5} {'seconds':>8}"
    )
    for latency in (0, 50):
        sandbox.faults.configure([{"kind": "latency", "ms": latency}] if latency else [])
        for page_size, forward, filtered in (
            (1000, False, False),
            (1000, True, False),
            (1000, False, True),
            (100, False, False),
        ):
            count, calls, seconds = run(client, page_size, forward, filtered)
            paging = "forward-only" if forward else "navigable"
            where = "deletedFlag=False" if filtered else "-"
            print(f"{latency:>6}ms {paging:>13} {page_size:>8} {where:>18} {count:>9} {calls:>5} {seconds:>8.2f}")
    client.close()
    server.shutdown()


if __name__ == "__main__":
    main()
