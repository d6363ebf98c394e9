"""Many partners at once: a distributor's morning of scheduled pushes on 2, 4 and 8 RQ worker processes.

    python benchmarks/fleet.py --database-url postgresql+psycopg://postgres@127.0.0.1/postgres
        [--partners 1000] [--large 3] [--large-rows 50000] [--workers 2,4,8] [--latency-ms 50]
        [--hour-seconds 20] [--slice-seconds S] [--baseline-workers 2,8] [--timeout 3600] [--until-small] [--seed 7]
        [--worker-logs DIR]

Set-up (a fresh database, see ``demo_data.py``): the demo's distributor and products, then ``--partners`` partners:
``--large`` of them with ``--large-rows`` transactions and more (+10 % each), the others drawn from a log-normal
(median about 70 transactions, most under 500, at most 2,000). Each partner has its own ConnectWise company (its
own account, keys and companies in one sandbox process serving them all over HTTP, ``--latency-ms`` on every
request), its own request limit in Sync Settings (drawn from 300, 600, 900 and 1,200 a minute; the large ones
1,200, the cap ``PSA_CW_REQUESTS_PER_MINUTE``), approval ``never``, its schedule at 06:00 in one of eight
timezones, its directory read and every customer and subscription mapped (one transaction per subscription).

A configuration: ``N`` ``flask psa worker --queues sync`` processes; the benchmark plays the scheduler's tick at
each timezone's 06:00 of tomorrow, one hour of the day compressed into ``--hour-seconds`` real seconds (the tick is
``ScheduleTickCommand(now=<that 06:00>)``: each partner's slot is claimed once and its ``scheduled_sync`` job
queued, as the real tick does; a partner's *slot* below is when that tick ran). Measured: the fleet time (first
tick to the end of the last partner's push: the last run of its chain of slices), each partner's delay from its
slot to its push's start (its first run) and end (its last run), p50 / p95 / max, for all partners and for the
small ones; PSA calls (the runs' ``psa_calls``; the sandbox's own log counts the read-backs too); Redis memory
(``used_memory``, sampled every second: peak less the start); database connections (``pg_stat_activity`` of the
benchmark's database, sampled every second, the benchmark's own connections excluded). Fairness: the same morning
without the large partners, on ``--baseline-workers`` workers; the small partners' p95 delays are compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")
os.environ.setdefault("SECRET_KEY", "benchmark-secret")
os.environ["PSA_LOG_LEVEL"] = "WARNING"
os.environ["PSA_CW_REQUESTS_PER_MINUTE"] = "1200"  # the cap of the partners' own limits
if not os.environ.get("PSA_ENCRYPTION_KEYS"):
    from cryptography.fernet import Fernet

    os.environ["PSA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()

from benchmarks.cw_client import cpu_model  # noqa: E402
from benchmarks.demo_data import fresh_database  # noqa: E402
from benchmarks.sync import SandboxProcess  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ZONES = [
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
]
LIMITS = [300, 600, 900, 1200]
LARGE = 5000
"""A partner with this many transactions or more is a large one; the others are the small ones."""
FROM_DATE = dt.date(2000, 1, 1)


# -- the fleet's data ---------------------------------------------------------------------------------------


def sizes(partners: int, large: int, large_rows: int, rng: random.Random) -> list[int]:
    """Transactions per partner: the large ones first."""
    out = [int(large_rows * (1 + 0.1 * i)) for i in range(large)]
    out += [int(min(2000, max(5, rng.lognormvariate(4.25, 1.0)))) for _ in range(partners - large)]
    return out


def seed_fleet(app, partner_sizes: list[int], rng: random.Random, sandbox_seed: dict) -> list[dict]:
    """The partners, their customers, subscriptions and transactions, sync settings and feature (bulk); the
    sandbox accounts appended to ``sandbox_seed``; one dict per partner."""
    from sqlalchemy import select

    from msphub_psa.clock import now as utcnow
    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from msphub_psa.daos.base import session
    from msphub_psa.daos.bulk import insert_rows
    from msphub_psa.models.hub import BillingTransaction, Customer, Distributor, Partner, Product, Subscription
    from msphub_psa.models.sync import SyncSettings
    from msphub_psa.models.tenancy import PartnerFeature

    demo = cw_seed.default_seed()["accounts"][0]
    distributor = session().scalar(select(Distributor.id))
    products = list(
        session().scalars(select(Product).where(Product.billing_frequency == "monthly").order_by(Product.id))
    )
    fleet, now, start = [], utcnow(), dt.date(2026, 11, 1)
    for number, rows in enumerate(partner_sizes):
        partner = Partner(
            distributor_id=distributor,
            name=f"Fleet Partner {number:04d}",
            currency="USD",
            timezone=ZONES[number % len(ZONES)],
        )
        session().add(partner)
        session().flush()
        pid = partner.id
        customers = max(1, math.ceil(rows / 20))
        insert_rows(
            Customer,
            (
                {"partner_id": pid, "external_id": f"f{pid}-{k}", "name": f"Customer {pid}-{k}"}
                for k in range(customers)
            ),
        )
        cust_ids = list(session().scalars(select(Customer.id).where(Customer.partner_id == pid).order_by(Customer.id)))
        insert_rows(
            Subscription,
            (
                {
                    "partner_id": pid,
                    "customer_id": cust_ids[k // 20],
                    "product_id": products[k % len(products)].id,
                    "external_id": f"f{pid}-s{k}",
                    "name": products[k % len(products)].title,
                    "quantity": 1 + k % 9,
                    "unit_price": 10,
                    "unit_cost": 8,
                    "status": "active",
                    "start_date": dt.date(2025, 1, 1),
                }
                for k in range(rows)
            ),
        )
        subs = session().execute(
            select(Subscription.id, Subscription.customer_id, Subscription.quantity).where(
                Subscription.partner_id == pid
            )
        )
        insert_rows(
            BillingTransaction,
            (
                {
                    "partner_id": pid,
                    "customer_id": cust,
                    "subscription_id": sid,
                    "kind": "charge",
                    "period_start": start,
                    "period_end": dt.date(2026, 11, 30),
                    "quantity": qty,
                    "unit_price": 10,
                    "unit_cost": 8,
                    "amount": qty * 10,
                    "currency": "USD",
                }
                for sid, cust, qty in subs
            ),
        )
        limit = 1200 if number < sum(1 for s in partner_sizes if s >= LARGE) else rng.choice(LIMITS)
        session().add(PartnerFeature(partner_id=pid, enabled=True))
        session().add(
            SyncSettings(
                partner_id=pid,
                schedule_time="06:00",
                approval="never",
                requests_per_minute=limit,
                schedule_since=now,
            )
        )
        companies = [cw_seed.company(i, f"Customer {pid}-{k}") for i, k in enumerate(range(customers), start=1)]
        sandbox_seed["accounts"].append(
            {
                **demo,
                "companyId": f"fleet{pid}",
                "companyName": f"Fleet Partner {number:04d}",
                "credentials": {
                    "publicKey": f"FleetPublic{pid}",
                    "privateKey": f"FleetPrivate{pid}",
                    "clientIds": [cw_seed.DEMO_CLIENT_ID],
                },
                "members": [],
                "companies": companies,
                "agreements": [a for a in cw_seed.default_agreements([c["id"] for c in companies])],
                "additions": [],
                "adjustments": [],
            }
        )
        fleet.append({"partner_id": pid, "rows": rows, "limit": limit, "zone": partner.timezone})
        session().commit()
    return fleet


def connect_fleet(fleet: list[dict], sandbox: SandboxProcess) -> None:
    """Each partner's integration on its own sandbox account, its directory read, everything mapped (bulk)."""
    from msphub_psa.commands.directory import RefreshDirectoryCommand, system_actor
    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from tests.support.integration import make_active_integration

    for p in fleet:
        pid = p["partner_id"]
        make_active_integration(
            pid,
            SimpleNamespace(
                client_id=cw_seed.DEMO_CLIENT_ID,
                company_id=f"fleet{pid}",
                public_key=f"FleetPublic{pid}",
                private_key=f"FleetPrivate{pid}",
                base_url=sandbox.base_url,
            ),
        )
        RefreshDirectoryCommand(system_actor(pid), pid, automap=False).run()
    from benchmarks.sync import analyze, map_everything

    for p in fleet:
        map_everything(p["partner_id"])
    analyze()


# -- one morning ----------------------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Every second: the benchmark database's connections (others than ours) and Redis's used memory."""

    def __init__(self, pg_url: str | None, redis_url: str, own_pid: int):
        super().__init__(daemon=True)
        import redis

        self.pg_url, self.redis, self.own_pid = pg_url, redis.Redis.from_url(redis_url), own_pid
        self.stop_event = threading.Event()
        self.connections: list[int] = []
        self.redis_base = int(self.redis.info("memory")["used_memory"])
        self.redis_peak = self.redis_base

    def run(self) -> None:
        conn = None
        if self.pg_url:
            import psycopg
            from sqlalchemy.engine import make_url

            url = make_url(self.pg_url)
            conn = psycopg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
            )
        while not self.stop_event.is_set():
            if conn is not None:
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s "
                    "AND client_port IS NOT NULL AND NOT (pid = ANY(%s))",
                    (conn.info.backend_pid, list(own_backends)),
                ).fetchone()[0]
                self.connections.append(count)
            self.redis_peak = max(self.redis_peak, int(self.redis.info("memory")["used_memory"]))
            self.stop_event.wait(1.0)
        if conn is not None:
            conn.close()


own_backends: set[int] = set()


def _note_own_backend(app) -> None:
    """The benchmark process's own database connection (not counted as a worker's)."""
    from sqlalchemy import text

    from msphub_psa.daos.base import session

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        own_backends.add(int(session().execute(text("SELECT pg_backend_pid()")).scalar()))
        session().commit()


def reset_morning(app, fleet: list[dict], sandbox: SandboxProcess, scheduled: list[int], since: dt.datetime) -> None:
    """No pushes yet (outbox, runs, leases, catalog cache, read-backs), the sandbox at its seed, the scheduled
    partners' slots unclaimed and counted from ``since`` (just before the morning's first 06:00: no earlier slot of
    a later timezone is due at the first tick), the others' schedule off."""
    from sqlalchemy import delete, update

    from msphub_psa.daos.base import session
    from msphub_psa.models.assurance import AssuranceFinding, AssuranceRun
    from msphub_psa.models.sync import CatalogSync, SyncItem, SyncLease, SyncRun, SyncSettings, SyncTransition

    for model in (SyncTransition, SyncItem, SyncRun, SyncLease, CatalogSync, AssuranceFinding, AssuranceRun):
        session().execute(delete(model))
    ids = [p["partner_id"] for p in fleet]
    session().execute(
        update(SyncSettings)
        .where(SyncSettings.partner_id.in_(ids))
        .values(last_slot_at=None, schedule_since=since, schedule_enabled=SyncSettings.partner_id.in_(scheduled))
    )
    session().commit()
    sandbox.reset()
    sandbox.clear_log()


def start_workers(count: int, url: str, prefix: str, logs: str = "") -> list[subprocess.Popen]:
    """``count`` sync workers on the database and the configuration's queues (their logs in ``logs``/, if given)."""
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app", "PSA_QUEUE_PREFIX": prefix}
    if logs:
        env["PSA_LOG_LEVEL"] = "INFO"  # each run's outcome and steps
        Path(logs).mkdir(parents=True, exist_ok=True)
    flask = str(Path(sys.executable).with_name("flask"))
    return [
        subprocess.Popen(
            [flask, "psa", "worker", "--queues", "sync", "--without-scheduler", "--name", f"{prefix}-w{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(logs) / f"{prefix}-w{i}.log", "w") if logs else subprocess.DEVNULL,
            start_new_session=True,
        )
        for i in range(count)
    ]


def stop_workers(procs: list[subprocess.Popen], prefix: str) -> None:
    """Warm stop, then kill what is left, work horses included: RQ puts each in a process group of its own, so a
    horse still pushing for a large partner (``--until-small``) outlives its worker's process group."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
    subprocess.run(["pkill", "-9", "-f", "--", f"--name {prefix}-w"], check=False)


def morning(app, fleet, sandbox, workers: int, scheduled: list[int], args) -> dict:
    """One configuration: the ticks at each timezone's 06:00, until every scheduled partner's push has ended."""
    from sqlalchemy import func, select

    from msphub_psa.commands.billing.schedule import ScheduleTickCommand
    from msphub_psa.daos.base import session
    from msphub_psa.models.sync import SyncItem, SyncRun
    from msphub_psa.settings import settings
    from tests.support.settings import configure

    prefix = f"psa-fleet-{uuid.uuid4().hex[:8]}"
    configure(app, PSA_QUEUE_PREFIX=prefix)
    sizes_of = {p["partner_id"]: p["rows"] for p in fleet}
    day = dt.date.today() + dt.timedelta(days=2)
    slots = sorted(
        {
            z: dt.datetime.combine(day, dt.time(6), ZoneInfo(z)).astimezone(dt.UTC)
            for z in {p["zone"] for p in fleet if p["partner_id"] in scheduled}
        }.items(),
        key=lambda item: item[1],
    )
    reset_morning(app, fleet, sandbox, scheduled, since=slots[0][1] - dt.timedelta(minutes=1))
    procs = start_workers(workers, app.config["SQLALCHEMY_DATABASE_URI"], prefix, args.worker_logs)
    time.sleep(3)  # the workers start (a worker's start-up reads the database once)
    sampler = Sampler(
        app.config["SQLALCHEMY_DATABASE_URI"] if "postgresql" in app.config["SQLALCHEMY_DATABASE_URI"] else None,
        settings().redis_url,
        os.getpid(),
    )
    sampler.start()
    first, slot_at = slots[0][1], {}
    t0 = time.monotonic()
    wall0 = dt.datetime.now(dt.UTC)
    for _zone, slot in slots:
        wait = t0 + (slot - first).total_seconds() / 3600 * args.hour_seconds - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ticked = dt.datetime.now(dt.UTC)
        for pid, _slot in ScheduleTickCommand(now=slot).run():
            slot_at[pid] = ticked
    deadline = time.monotonic() + args.timeout
    ended: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    smalls = {pid for pid in scheduled if sizes_of[pid] < LARGE}
    while time.monotonic() < deadline and len(ended) < len(scheduled):
        if args.until_small and smalls <= set(ended):
            break  # the large partners go on at their limits: their progress is reported below
        time.sleep(2)
        session().expire_all()
        runs = session().execute(
            select(SyncRun.partner_id, SyncRun.status, SyncRun.started_at, SyncRun.finished_at).order_by(SyncRun.id)
        )
        chains: dict[int, list] = {}
        for pid, status, started, finished in runs:
            chains.setdefault(pid, []).append((status, started, finished))
        pending = set(
            session().scalars(select(SyncItem.partner_id).where(SyncItem.state.in_(("pending", "sending"))).distinct())
        )
        session().rollback()
        for pid, chain in chains.items():
            if pid not in ended and chain[-1][0] not in ("running", "yielded") and pid not in pending:
                ended[pid] = (_aware(chain[0][1]), _aware(chain[-1][2]))
    fleet_end = dt.datetime.now(dt.UTC)
    unfinished = {
        pid: session().scalar(
            select(func.count()).select_from(SyncItem).where(SyncItem.partner_id == pid, SyncItem.state == "pushed")
        )
        for pid in scheduled
        if pid not in ended
    }
    session().rollback()
    sampler.stop_event.set()
    sampler.join()
    stop_workers(procs, prefix)
    totals = session().execute(select(SyncRun.psa_calls, SyncRun.status, SyncRun.progress_done)).all()
    if args.dump:
        from msphub_psa.models.assurance import AssuranceRun

        runs = (
            session()
            .execute(
                select(
                    SyncRun.partner_id,
                    SyncRun.id,
                    SyncRun.status,
                    SyncRun.started_at,
                    SyncRun.finished_at,
                    SyncRun.counts,
                    SyncRun.psa_calls,
                    SyncRun.progress_total,
                )
            )
            .all()
        )
        reads = (
            session()
            .execute(
                select(
                    AssuranceRun.partner_id, AssuranceRun.started_at, AssuranceRun.finished_at, AssuranceRun.psa_calls
                )
            )
            .all()
        )
        with open(f"{args.dump}-{workers}-{len(scheduled)}.json", "w") as out:
            json.dump(
                {
                    "slots": {str(k): v.isoformat() for k, v in slot_at.items()},
                    "runs": [[str(v) if isinstance(v, dt.datetime) else v for v in r] for r in runs],
                    "readbacks": [[str(v) if isinstance(v, dt.datetime) else v for v in r] for r in reads],
                    "sizes": {p["partner_id"]: p["rows"] for p in fleet},
                },
                out,
            )
    session().rollback()
    small = {p["partner_id"] for p in fleet if p["rows"] < LARGE}
    delays = {
        pid: ((start - slot_at[pid]).total_seconds(), (end - slot_at[pid]).total_seconds())
        for pid, (start, end) in ended.items()
        if pid in slot_at
    }
    last_end = max((end for _start, end in ended.values()), default=fleet_end)
    return {
        "workers": workers,
        "partners": len(scheduled),
        "ended": len(ended),
        "fleet_seconds": (last_end - wall0).total_seconds(),
        "ticks_seconds": (slots[-1][1] - first).total_seconds() / 3600 * args.hour_seconds,
        "start": _pcts([d[0] for d in delays.values()]),
        "end": _pcts([d[1] for d in delays.values()]),
        "small_start": _pcts([d[0] for pid, d in delays.items() if pid in small]),
        "small_end": _pcts([d[1] for pid, d in delays.items() if pid in small]),
        "runs": len(totals),
        "yielded": sum(1 for _c, s, _d in totals if s == "yielded"),
        "yielded_idle": sum(1 for c, s, d in totals if s == "yielded" and not c and not d),
        "psa_calls": sum(c or 0 for c, _s, _d in totals),
        "sandbox_requests": len(sandbox.requests(0)),
        "redis_peak_mb": (sampler.redis_peak - sampler.redis_base) / 2**20,
        "db_connections_max": max(sampler.connections, default=0),
        "db_connections_median": statistics.median(sampler.connections) if sampler.connections else 0,
        "unfinished": {
            pid: (pushed, sizes_of[pid], (fleet_end - slot_at[pid]).total_seconds())
            for pid, pushed in unfinished.items()
            if pid in slot_at
        },
    }


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _pcts(values: list[float]) -> tuple[float, float, float]:
    """(p50, p95, max) in seconds."""
    if not values:
        return (0.0, 0.0, 0.0)
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return (statistics.median(ordered), p95, ordered[-1])


def main() -> None:
    """Seed the fleet, run each configuration, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--large-rows", type=int, default=50000)
    parser.add_argument("--workers", default="2,4,8")
    parser.add_argument("--baseline-workers", default="2,8", help="workers of the runs without the large partners")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--hour-seconds", type=float, default=20.0)
    parser.add_argument("--slice-seconds", type=float, default=None, help="PSA_PUSH_SLICE_SECONDS (default: its own)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--until-small",
        action="store_true",
        help="end a configuration once every small partner's push has ended (the large ones' progress is printed)",
    )
    parser.add_argument("--worker-logs", default="", help="a directory for the workers' logs (at INFO)")
    parser.add_argument("--dump", default="", help="write each configuration's runs to <dump>-<workers>-<n>.json")
    args = parser.parse_args()
    if args.slice_seconds is not None:
        os.environ["PSA_PUSH_SLICE_SECONDS"] = str(args.slice_seconds)
    url, drop = fresh_database(args.database_url)
    os.environ["PSA_QUEUE_PREFIX"] = f"psa-fleet-{uuid.uuid4().hex[:8]}"
    from app import create_app
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from msphub_psa.demo.generate import DemoSize
    from msphub_psa.demo.runner import migrate

    rng = random.Random(args.seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    sandbox = None
    try:
        with app.app_context():
            began = time.perf_counter()
            migrate(app)
            ensure_roles()
            SeedDemoDataCommand(DemoSize(customers=1, subscriptions_per_customer=1, months=1)).run()
            seed = {"accounts": list(cw_seed.default_seed()["accounts"])}
            partner_sizes = sizes(args.partners, args.large, args.large_rows, rng)
            fleet = seed_fleet(app, partner_sizes, rng, seed)
            sandbox = SandboxProcess(seed)
            connect_fleet(fleet, sandbox)
            sandbox.latency(args.latency_ms)
            _note_own_backend(app)
            rows = [p["rows"] for p in fleet]
            print(
                f"{platform_line()}\nfleet: {len(fleet)} partners, {sum(rows)} transactions (large: "
                f"{[r for r in rows if r >= LARGE]}; the others median {statistics.median(rows[args.large :]):.0f}, "
                f"max {max(rows[args.large :])}, {sum(r < 500 for r in rows)} under 500), latency {args.latency_ms} ms,"
                f" one hour = {args.hour_seconds} s, set-up {time.perf_counter() - began:.0f} s",
                flush=True,
            )
            everyone = [p["partner_id"] for p in fleet]
            for workers in [int(w) for w in args.workers.split(",") if w]:
                report(morning(app, fleet, sandbox, workers, everyone, args), "all partners")
            smalls = [p["partner_id"] for p in fleet if p["rows"] < LARGE]
            for workers in [int(w) for w in args.baseline_workers.split(",") if w]:
                report(morning(app, fleet, sandbox, workers, smalls, args), "without the large ones")
    finally:
        if sandbox is not None:
            sandbox.stop()
        with app.app_context():
            from msphub_psa.daos.base import session

            session().remove()
            session().get_bind().dispose()
        drop()


def platform_line() -> str:
    """The machine and load."""
    now = dt.datetime.now(dt.UTC)
    return f"{cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, {now:%Y-%m-%d %H:%M} UTC"


def report(r: dict, label: str) -> None:
    """One configuration's line."""

    def fmt(p):
        return "/".join(f"{v:.1f}" for v in p)

    print(
        f"{r['workers']} workers, {label} ({r['ended']}/{r['partners']} ended): fleet {r['fleet_seconds']:.1f} s "
        f"(ticks over {r['ticks_seconds']:.0f} s); delay slot->start p50/p95/max {fmt(r['start'])} s, "
        f"slot->end {fmt(r['end'])} s; small partners start {fmt(r['small_start'])} s, end {fmt(r['small_end'])} s; "
        f"runs {r['runs']} ({r['yielded']} yielded, {r['yielded_idle']} of them before any call); "
        f"calls {r['psa_calls']} (sandbox requests {r['sandbox_requests']});"
        f" Redis +{r['redis_peak_mb']:.1f} MB peak; DB connections max {r['db_connections_max']}"
        f" (median {r['db_connections_median']}); load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for pid, (pushed, rows, seconds) in r["unfinished"].items():
        print(
            f"  partner {pid} not ended when measured: {pushed} of {rows} rows pushed, {seconds:.0f} s after its slot",
            flush=True,
        )


if __name__ == "__main__":
    main()
