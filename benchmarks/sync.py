"""The billing push at scale: ConnectWise calls per record, first-push time, the shared limit, peak memory.

    python benchmarks/sync.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--subscriptions 10000] [--latency-ms 50] [--compare 1,4,16,8] [--limit-per-minute 2500]
        [--limit-window 60] [--memory-transactions 200000] [--only abcd]

Set-up (fresh database, see ``demo_data.py``): the demo data with ``--subscriptions`` subscriptions for the
pilot partner (20 per customer, one month of billing: about one transaction each), a ConnectWise sandbox
in its own process over real HTTP on 127.0.0.1 whose account holds one company with the exact name of
each customer and a monthly agreement, the directory refreshed, then every customer and subscription
mapped in bulk (From Date 2000-01-01: every transaction eligible). Each push runs in a child process
(the worker's place), so its wall time and peak RSS are its own.

- (b) first push with ``--latency-ms`` injected on every request and no limit, at each ``--compare``
  concurrency (the outbox, the catalog cache and the sandbox are reset before each);
- (c) the same first push under a limit of ``--limit-per-minute`` (window ``--limit-window`` s),
  against the floor: calls ÷ limit (and the moving window's own floor, window × ⌊(calls − 1) ÷ calls
  per window⌋: call k can only go one window after call k − calls per window);
- (a) steady state: a new month of transactions after a full push (calls per record written, from the
  sandbox's request log, GETs included), then a push with nothing new (goal: zero calls);
- (d) peak RSS of the child doing a ``--memory-transactions`` push (12 months of billing on enough
  subscriptions; latency 0, to keep the run short).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port
os.environ.setdefault("SECRET_KEY", "benchmark-secret")
os.environ["PSA_QUEUE_PREFIX"] = f"psa-bench-{uuid.uuid4().hex[:8]}"  # the limiter's Redis namespace
os.environ["PSA_LOG_LEVEL"] = "WARNING"
if not os.environ.get("PSA_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["PSA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

import httpx  # noqa: E402

from benchmarks.cw_client import cpu_model  # noqa: E402
from benchmarks.demo_data import fresh_database  # noqa: E402

MARK = "PUSH-RESULT "
FROM_DATE = dt.date(2000, 1, 1)


# -- the sandbox, in its own process --------------------------------------------------------------------


class SandboxProcess:
    """``python -m msphub_psa.connectwise.sandbox`` on a free loopback port, seeded from a JSON file."""

    def __init__(self, seed: dict):
        self.seed = seed
        self.seed_file = Path(tempfile.mkdtemp()) / "seed.json"
        self.seed_file.write_text(json.dumps(seed))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "msphub_psa.connectwise.sandbox", "--port", "0", "--seed", str(self.seed_file)],
            cwd=Path(__file__).resolve().parents[1],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()
        self.root = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        self.admin = httpx.Client(base_url=f"{self.root}/__sandbox__", timeout=120)

    @property
    def base_url(self) -> str:
        """The REST base URL."""
        return f"{self.root}/v4_6_release/apis/3.0"

    def latency(self, ms: int) -> None:
        """Inject ``ms`` on every request (0: none)."""
        self.admin.post("/faults", json={"rules": [{"kind": "latency", "ms": ms}] if ms else []}).raise_for_status()

    def reset(self) -> None:
        """Back to the seed (no records of ours, no catalog items we created); empty log."""
        self.admin.post("/reset", json=self.seed).raise_for_status()

    def log_seq(self) -> int:
        """The last request's sequence number (0 when the log is empty)."""
        entries = self.admin.get("/requests", params={"since": 0}).json()
        return entries[-1]["seq"] if entries else 0

    def requests(self, since: int) -> list[dict]:
        """Logged ConnectWise requests after ``since``."""
        return [e for e in self.admin.get("/requests", params={"since": since}).json() if "/apis/3.0/" in e["path"]]

    def clear_log(self) -> None:
        """Forget the request log (it keeps 100,000 entries)."""
        self.admin.delete("/requests").raise_for_status()

    def stop(self) -> None:
        """End the process."""
        self.admin.close()
        self.proc.terminate()
        self.proc.wait(10)


def sandbox_seed(customer_names: list[str]) -> dict:
    """The demo account with one company per customer (exact name) and its agreements; no records yet."""
    from msphub_psa.connectwise.sandbox import seed as cw_seed

    demo, other = cw_seed.default_seed()["accounts"]
    companies = [cw_seed.company(i, name) for i, name in enumerate(customer_names, start=1)]
    demo = {
        **demo,
        "companies": companies,
        "agreements": cw_seed.default_agreements([c["id"] for c in companies]),
        "additions": [],
        "adjustments": [],
    }
    return {"accounts": [demo, other]}


# -- the database ---------------------------------------------------------------------------------------


def seed_hub(subscriptions: int, months: int) -> int:
    """Demo data sized for ``subscriptions`` (20 per customer); the pilot's partner id."""
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.demo.generate import DemoSize
    from tests.support import tenants

    ensure_roles()
    SeedDemoDataCommand(
        DemoSize(customers=max(1, subscriptions // 20), subscriptions_per_customer=20, months=months),
        today=dt.date.today(),
    ).run()
    return tenants.pilot().id


def customer_names(partner_id: int) -> list[str]:
    """The partner's customer names, by id."""
    from sqlalchemy import select

    from msphub_psa.daos.base import session
    from msphub_psa.models.hub import Customer

    return list(session().scalars(select(Customer.name).where(Customer.partner_id == partner_id).order_by(Customer.id)))


def connect(partner_id: int, sandbox: SandboxProcess) -> None:
    """An active integration on the sandbox, the directory read, every customer and subscription mapped."""
    from types import SimpleNamespace

    from msphub_psa.commands.access import actor_for_user, find_user
    from msphub_psa.commands.directory import RefreshDirectoryCommand
    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from tests.support.integration import make_active_integration

    make_active_integration(
        partner_id,
        SimpleNamespace(  # what it reads from a sandbox handle
            client_id=cw_seed.DEMO_CLIENT_ID,
            company_id=cw_seed.DEMO_COMPANY_ID,
            public_key=cw_seed.DEMO_PUBLIC_KEY,
            private_key=cw_seed.DEMO_PRIVATE_KEY,
            base_url=sandbox.base_url,
        ),
    )
    RefreshDirectoryCommand(actor_for_user(find_user("pilot.admin")), partner_id, automap=False).run()
    map_everything(partner_id)
    analyze()


def analyze() -> None:
    """Refresh the planner's statistics after the bulk load (autovacuum would, a little later)."""
    from sqlalchemy import text

    from msphub_psa.daos.base import session

    session().execute(text("ANALYZE"))
    session().commit()


def map_everything(partner_id: int) -> None:
    """Bulk: each customer to the company of its name, each subscription to that company's monthly agreement."""
    from sqlalchemy import select

    from msphub_psa.clock import now as utcnow
    from msphub_psa.daos.base import session
    from msphub_psa.daos.bulk import insert_rows
    from msphub_psa.models.directory import PsaAgreement, PsaCompany
    from msphub_psa.models.hub import Customer, Subscription
    from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping

    now = utcnow()
    companies = dict(
        session().execute(select(PsaCompany.name, PsaCompany.id).where(PsaCompany.partner_id == partner_id)).all()
    )
    customers = session().execute(select(Customer.id, Customer.name).where(Customer.partner_id == partner_id)).all()
    company_of = {cid: companies[name] for cid, name in customers}
    insert_rows(
        CustomerMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": cid,
                "company_id": company,
                "method": "manual",
                "created_by": "benchmark",
                "created_at": now,
            }
            for cid, company in company_of.items()
        ),
    )
    monthly = dict(
        session()
        .execute(
            select(PsaAgreement.company_id, PsaAgreement.id).where(
                PsaAgreement.partner_id == partner_id, PsaAgreement.name == "Microsoft CSP - Monthly"
            )
        )
        .all()
    )
    subs = (
        session()
        .execute(select(Subscription.id, Subscription.customer_id).where(Subscription.partner_id == partner_id))
        .all()
    )
    insert_rows(
        SubscriptionMapping,
        (
            {
                "partner_id": partner_id,
                "customer_id": cust,
                "subscription_id": sid,
                "agreement_id": monthly[company_of[cust]],
                "from_date_mode": "custom",
                "from_date": FROM_DATE,
                "mismatch_accepted": True,  # annual subscriptions on the monthly agreement, the warning accepted
                "active": True,
                "method": "manual",
                "created_by": "benchmark",
                "created_at": now,
            }
            for sid, cust in subs
        ),
    )
    session().commit()


def eligible_count(partner_id: int) -> int:
    """Transactions a first push sends."""
    from msphub_psa.daos.base import session
    from msphub_psa.daos.outbox import SyncFiguresDAO

    count, _net = SyncFiguresDAO.pending_push(partner_id)
    session().rollback()
    return count


def forget_pushes(partner_id: int) -> None:
    """Empty the outbox, the runs, the lease and the catalog cache (the sandbox is reset alongside)."""
    from sqlalchemy import delete

    from msphub_psa.daos.base import session
    from msphub_psa.models.sync import CatalogSync, SyncItem, SyncLease, SyncRun, SyncTransition

    for model in (SyncTransition, SyncItem, SyncRun, SyncLease, CatalogSync):
        session().execute(delete(model).where(model.partner_id == partner_id))
    session().commit()


def add_month(partner_id: int) -> int:
    """A new month: one more monthly charge for each active subscription billed monthly; how many."""
    from sqlalchemy import func, select

    from msphub_psa.daos.base import session
    from msphub_psa.daos.bulk import insert_rows
    from msphub_psa.demo.generate import add_months
    from msphub_psa.models.hub import BillingTransaction as Tx
    from msphub_psa.models.hub import Product, Subscription

    last = (
        select(Tx.subscription_id, func.max(Tx.period_end).label("end"))
        .where(Tx.partner_id == partner_id)
        .group_by(Tx.subscription_id)
        .subquery()
    )
    rows = (
        session()
        .execute(
            select(Subscription, last.c.end)
            .join(last, last.c.subscription_id == Subscription.id)
            .join(Product, Product.id == Subscription.product_id)
            .where(Subscription.status == "active", Product.billing_frequency == "monthly")
        )
        .all()
    )
    new = []
    for sub, end in rows:
        start = end + dt.timedelta(days=1)
        new.append(
            {
                "partner_id": partner_id,
                "customer_id": sub.customer_id,
                "subscription_id": sub.id,
                "kind": "charge",
                "period_start": start,
                "period_end": add_months(start, 1) - dt.timedelta(days=1),
                "quantity": sub.quantity,
                "unit_price": sub.unit_price,
                "unit_cost": sub.unit_cost,
                "amount": sub.quantity * sub.unit_price,
                "currency": "USD",
            }
        )
    insert_rows(Tx, new)
    session().commit()
    return len(new)


# -- a push in a child process ----------------------------------------------------------------------------


def push_in_child(url: str, partner_id: int, **config) -> dict:
    """Run one push in a fresh Python process; its result, wall seconds and peak RSS (MB)."""
    spec = json.dumps({"url": url, "partner_id": partner_id, "config": config})
    done = subprocess.run(
        [sys.executable, __file__, "--child", spec],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"the push child failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(line[len(MARK) :])


def child(spec: str) -> None:
    """The child's body: build the app (as a worker does), push, report."""
    values = json.loads(spec)
    from app import create_app
    from msphub_psa.commands.billing.orchestrator import PushBillingCommand

    app = create_app({"SQLALCHEMY_DATABASE_URI": values["url"], **values["config"]})
    with app.app_context():
        before = _rss_mb()
        started = time.perf_counter()
        result = PushBillingCommand(values["partner_id"], "benchmark").run()
        wall = time.perf_counter() - started
    print(
        MARK + json.dumps({"result": result.as_dict(), "wall": wall, "rss_mb": _rss_mb(), "rss_before_mb": before}),
        flush=True,
    )


def _rss_mb() -> float:
    """This process's peak resident set in MB: ``VmHWM`` (Linux's ``ru_maxrss`` keeps the parent's peak
    across fork and exec, so it would report the benchmark's own size), else ``getrusage``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the scenarios ------------------------------------------------------------------------------------------


def calls_of(entries: list[dict]) -> dict[str, int]:
    """Requests by method."""
    found: dict[str, int] = {}
    for entry in entries:
        found[entry["method"]] = found.get(entry["method"], 0) + 1
    return found


def first_pushes(url, partner_id, sandbox, concurrencies, latency, rows) -> list[tuple]:
    """(b): a first push at each concurrency, from scratch."""
    out = []
    for concurrency in concurrencies:
        reset(partner_id, sandbox, latency)
        run = push_in_child(url, partner_id, PSA_PUSH_CONCURRENCY=concurrency, PSA_CW_REQUESTS_PER_MINUTE=0)
        result = run["result"]
        assert result["status"] == "succeeded" and result["counts"].get("pushed") == rows, result
        out.append((concurrency, run["wall"], result["psa_calls"], rows / run["wall"]))
        print(f"  first push, concurrency {concurrency}: {run['wall']:.1f} s, {result['psa_calls']} calls", flush=True)
    return out


def limited_push(url, partner_id, sandbox, latency, per_minute, window) -> dict:
    """(c): a first push under the shared limit."""
    reset(partner_id, sandbox, latency)
    run = push_in_child(
        url,
        partner_id,
        PSA_PUSH_CONCURRENCY=8,
        PSA_CW_REQUESTS_PER_MINUTE=per_minute,
        PSA_CW_RATE_WINDOW_SECONDS=window,
    )
    calls = run["result"]["psa_calls"]
    floor = calls / per_minute * 60
    print(
        f"  limited push: {run['wall']:.1f} s for {calls} calls at {per_minute}/min (floor {floor:.1f} s)", flush=True
    )
    per_window = max(1, round(per_minute * window / 60))
    return {
        "wall": run["wall"],
        "calls": calls,
        "floor": floor,  # call k waits for call k - per_window's window
        "moving_floor": window * ((calls - 1) // per_window),
    }


def steady_state(app, url, partner_id, sandbox) -> dict:
    """(a): a new month after the full push, then nothing new."""
    with app.app_context():
        added = add_month(partner_id)
    sandbox.clear_log()
    month = push_in_child(url, partner_id, PSA_PUSH_CONCURRENCY=8, PSA_CW_REQUESTS_PER_MINUTE=0)
    month_calls = calls_of(sandbox.requests(0))
    sandbox.clear_log()
    idle = push_in_child(url, partner_id, PSA_PUSH_CONCURRENCY=8, PSA_CW_REQUESTS_PER_MINUTE=0)
    idle_calls = calls_of(sandbox.requests(0))
    written = month["result"]["counts"].get("pushed", 0)
    assert written == added, (written, added, month["result"])
    return {
        "added": added,
        "written": written,
        "calls": month_calls,
        "per_record": sum(month_calls.values()) / written,
        "wall": month["wall"],
        "idle_calls": idle_calls,
        "idle_wall": idle["wall"],
        "client_calls": month["result"]["psa_calls"],
        "idle_client_calls": idle["result"]["psa_calls"],
    }


def reset(partner_id: int, sandbox: SandboxProcess, latency: int) -> None:
    """Nothing pushed yet: outbox, runs and catalog cache emptied; the sandbox back to its seed."""
    from msphub_psa.daos.base import session

    forget_pushes(partner_id)
    session().remove()
    sandbox.reset()
    sandbox.latency(latency)


def memory_push(database_url, transactions: int) -> dict:
    """(d): a fresh database with about ``transactions`` transactions (12 months), all pushed at latency 0."""
    subscriptions = max(20, int(transactions / 7.24) // 20 * 20)  # the demo bills ~7.24 periods per subscription
    url, drop = fresh_database(database_url)
    sandbox = None
    try:
        app, partner_id = build(url, subscriptions, months=12)
        with app.app_context():
            sandbox = SandboxProcess(sandbox_seed(customer_names(partner_id)))
            connect(partner_id, sandbox)
            rows = eligible_count(partner_id)
            app.appbuilder.session.remove()
        print(f"  memory: {rows} transactions to push", flush=True)
        run = push_in_child(url, partner_id, PSA_PUSH_CONCURRENCY=8, PSA_CW_REQUESTS_PER_MINUTE=0)
        assert run["result"]["counts"].get("pushed") == rows, run["result"]
        return {"rows": rows, **run}
    finally:
        if sandbox is not None:
            sandbox.stop()
        drop()


def build(url: str, subscriptions: int, months: int):
    """Migrated, seeded database; (app, pilot partner id)."""
    from app import create_app
    from msphub_psa.demo.runner import migrate

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        migrate(app)
        started = time.perf_counter()
        partner_id = seed_hub(subscriptions, months)
        print(
            f"  seeded {subscriptions} subscriptions ({months} month(s)) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    return app, partner_id


def main() -> None:
    """Set up, run the scenarios asked for, print the tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--compare", default="8", help="concurrencies for the first push, e.g. 1,4,16,8")
    parser.add_argument("--limit-per-minute", type=int, default=2500)
    parser.add_argument("--limit-window", type=int, default=60)
    parser.add_argument("--memory-transactions", type=int, default=200_000)
    parser.add_argument("--only", default="abcd", help="scenarios to run (letters)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    print(f"machine: {cpu_model()}, {len(os.sched_getaffinity(0))} CPUs; Python {platform.python_version()}")
    report: dict = {}
    if set(args.only) & set("abc"):
        report.update(ten_thousand(args))
    if "d" in args.only:
        report["d"] = memory_push(args.database_url, args.memory_transactions)
    print_tables(args, report)


def ten_thousand(args) -> dict:
    """Scenarios (b), (c), (a) on one database of ``--subscriptions`` subscriptions."""
    url, drop = fresh_database(args.database_url)
    report, sandbox = {"backend": url.split("://")[0]}, None
    try:
        app, partner_id = build(url, args.subscriptions, months=1)
        with app.app_context():
            sandbox = SandboxProcess(sandbox_seed(customer_names(partner_id)))
            connect(partner_id, sandbox)
            report["rows"] = rows = eligible_count(partner_id)
            print(f"  {rows} transactions eligible for the first push", flush=True)
            if "b" in args.only:
                report["b"] = first_pushes(
                    url, partner_id, sandbox, [int(c) for c in args.compare.split(",")], args.latency_ms, rows
                )
            if "c" in args.only:
                report["c"] = limited_push(
                    url, partner_id, sandbox, args.latency_ms, args.limit_per_minute, args.limit_window
                )
            if "a" in args.only:
                if "b" not in args.only and "c" not in args.only:
                    reset(partner_id, sandbox, args.latency_ms)
                    push_in_child(url, partner_id, PSA_PUSH_CONCURRENCY=8, PSA_CW_REQUESTS_PER_MINUTE=0)
                report["a"] = steady_state(app, url, partner_id, sandbox)
            app.appbuilder.session.remove()
            app.appbuilder.session.get_bind().dispose()
    finally:
        if sandbox is not None:
            sandbox.stop()
        drop()
    return report


def print_tables(args, report: dict) -> None:
    """Markdown tables of what ran."""
    rows = report.get("rows")
    if "b" in report:
        print(
            f"\n(b) first push of {rows} transactions, {args.latency_ms} ms latency, no limit ({report['backend']})\n"
        )
        print("| concurrency | wall s | records/s | ConnectWise calls |")
        print("|---:|---:|---:|---:|")
        for concurrency, wall, calls, rate in report["b"]:
            print(f"| {concurrency} | {wall:.1f} | {rate:.0f} | {calls} |")
    if "c" in report:
        c = report["c"]
        print(
            f"\n(c) first push under {args.limit_per_minute} requests/min (window {args.limit_window} s), "
            f"{args.latency_ms} ms latency\n"
        )
        print("| calls | floor = calls ÷ limit | moving-window floor | wall s | vs floor |")
        print("|---:|---:|---:|---:|---:|")
        print(
            f"| {c['calls']} | {c['floor']:.1f} s | {c['moving_floor']:.1f} s | {c['wall']:.1f} | "
            f"{(c['wall'] / c['floor'] - 1) * 100:+.1f} % |"
        )
    if "a" in report:
        a = report["a"]
        print(f"\n(a) steady state after a full push: a new month of {a['added']} transactions\n")
        print("| run | records written | calls (sandbox log, by method) | calls per record | wall s |")
        print("|---|---:|---|---:|---:|")
        print(f"| new month | {a['written']} | {a['calls']} | {a['per_record']:.3f} | {a['wall']:.1f} |")
        print(f"| nothing new | 0 | {a['idle_calls'] or 'none'} | – | {a['idle_wall']:.1f} |")
    if "d" in report:
        d = report["d"]
        print(f"\n(d) worker peak memory, push of {d['rows']} transactions (latency 0, concurrency 8)\n")
        print("| peak RSS after the app is built | peak RSS after the push | wall s |")
        print("|---:|---:|---:|")
        print(f"| {d['rss_before_mb']:.0f} MB | {d['rss_mb']:.0f} MB | {d['wall']:.0f} |")


if __name__ == "__main__":
    main()
