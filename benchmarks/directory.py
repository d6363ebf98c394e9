"""The directory refresh: ConnectWise companies and agreements into the cache, then the exact-name mappings and
the subscriptions' auto-association — where the time goes, ConnectWise's own time apart.

    python benchmarks/directory.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--customers 5000] [--latency-ms 50] [--profile]

On a fresh database: demo data with ``--customers`` customers of the pilot (2 subscriptions each, one month),
a sandbox in its own process over HTTP with one company per customer (its exact name) and their agreements
(monthly for each, annual for every other one), ``--latency-ms`` on every ConnectWise request. A full refresh,
then an incremental one with nothing changed. Each phase's wall time is printed; "local" is the refresh's
time less the ConnectWise requests' own time (the sandbox's log: latency included); "cpu" is this process's
CPU time (the database server's is not in it); "statements" and "sql_s" count and time the SQL statements
sent; the load average is the machine's before the run (the machine is shared). ``--profile`` prints the
functions that took the most time (cProfile, which slows the run down about twofold).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port
os.environ.setdefault("SECRET_KEY", "benchmark-secret")
os.environ["PSA_QUEUE_PREFIX"] = f"psa-bench-{uuid.uuid4().hex[:8]}"
os.environ["PSA_LOG_LEVEL"] = "WARNING"
if not os.environ.get("PSA_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["PSA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

from benchmarks.cw_client import cpu_model  # noqa: E402
from benchmarks.demo_data import fresh_database  # noqa: E402
from benchmarks.sync import SandboxProcess, customer_names, sandbox_seed  # noqa: E402


class Phases:
    """Wall time per phase of a refresh, from the command's progress callback."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float]] = []

    def __call__(self, progress: dict) -> None:
        phase = progress.get("phase", "?")
        if not self.marks or self.marks[-1][0] != phase:
            self.marks.append((phase, time.perf_counter()))

    def report(self, ended: float) -> dict[str, float]:
        """Seconds per phase (in order), up to ``ended``."""
        bounds = [*self.marks, ("end", ended)]
        first = [("start", self.started), *bounds] if bounds[0][1] > self.started else bounds
        return {name: round(b - a, 3) for (name, a), (_n, b) in zip(first, first[1:], strict=False)}


def seed(customers: int) -> int:
    """Demo data for ``customers`` customers of the pilot; its partner id."""
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.demo.generate import DemoSize
    from tests.support import tenants

    ensure_roles()
    SeedDemoDataCommand(
        DemoSize(customers=customers, subscriptions_per_customer=2, months=1), today=dt.date.today()
    ).run()
    return tenants.pilot().id


def activate(partner_id: int, sandbox: SandboxProcess) -> None:
    """An active integration on the sandbox (nothing read yet)."""
    from types import SimpleNamespace

    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from tests.support.integration import make_active_integration

    make_active_integration(
        partner_id,
        SimpleNamespace(
            client_id=cw_seed.DEMO_CLIENT_ID,
            company_id=cw_seed.DEMO_COMPANY_ID,
            public_key=cw_seed.DEMO_PUBLIC_KEY,
            private_key=cw_seed.DEMO_PRIVATE_KEY,
            base_url=sandbox.base_url,
        ),
    )


class Statements:
    """Count and time the SQL statements sent while it is active."""

    def __init__(self) -> None:
        self.count, self.seconds, self.started = 0, 0.0, 0.0

    def __enter__(self) -> Statements:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)

    def _before(self, *args) -> None:
        self.started = time.perf_counter()

    def _after(self, *args) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self.started


def refresh(partner_id: int, sandbox: SandboxProcess, full: bool, profile: bool = False) -> dict:
    """One refresh as the pilot's admin: phases, calls, statements and times."""
    from msphub_psa.commands.access import actor_for_user, find_user
    from msphub_psa.commands.directory import RefreshDirectoryCommand

    actor = actor_for_user(find_user("pilot.admin"))
    since = sandbox.log_seq()
    load = os.getloadavg()[0]
    profiler = cProfile.Profile()
    with Statements() as statements:
        phases = Phases()
        cpu = time.process_time()
        if profile:
            profiler.enable()
        result = RefreshDirectoryCommand(actor, partner_id, full, phases).run()
        profiler.disable()
        ended = time.perf_counter()
    if profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    requests = sandbox.requests(since)
    remote = sum(float(entry.get("durationMs") or 0) for entry in requests) / 1000
    wall = ended - phases.started
    return {
        "full": full,
        "companies": result["companies"],
        "agreements": result["agreements"],
        "exact_mapped": result["exact_mapped"],
        "automapped": result["subscriptions_automapped"],
        "calls": len(requests),
        "wall_s": round(wall, 2),
        "connectwise_s": round(remote, 2),
        "local_s": round(wall - remote, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "statements": statements.count,
        "sql_s": round(statements.seconds, 2),
        "load_average": round(load, 1),
        "phases_s": phases.report(ended),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    url, drop = fresh_database(args.database_url)
    sandbox = None
    try:
        from app import create_app
        from msphub_psa.daos.base import session
        from msphub_psa.demo.runner import migrate
        from msphub_psa.worker import freeze_heap

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            migrate(app)
            partner_id = seed(args.customers)
            sandbox = SandboxProcess(sandbox_seed(customer_names(partner_id)))
            sandbox.latency(args.latency_ms)
            activate(partner_id, sandbox)
            print(f"machine: {platform.node()} {os.cpu_count()} cores {cpu_model()}; {url.split(':')[0]}")
            print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            print(f"{args.customers} customers, {args.latency_ms} ms per ConnectWise request")
            session().remove()
            freeze_heap()  # as a worker does before it forks its work horses
            for full in (True, False):
                print(refresh(partner_id, sandbox, full, args.profile))
    finally:
        if sandbox is not None:
            sandbox.stop()
        drop()


if __name__ == "__main__":
    main()
