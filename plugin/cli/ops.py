"""Running and looking after the plugin: roles, health, demo data, worker, scheduler, demo, sandbox, keys."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import make_server

from msphub_psa.cli.common import AS_OPTION, as_actor
from msphub_psa.commands.billing.recovery import ResumeStalePushesCommand
from msphub_psa.commands.billing.schedule import ScheduleTickCommand
from msphub_psa.commands.demo import (
    SeedDemoDataCommand,
    ensure_roles,
    pilot_customer_names,
)
from msphub_psa.commands.health import CheckHealthCommand, SchemaStatusCommand
from msphub_psa.commands.keys import RotateKeysCommand
from msphub_psa.connectwise.sandbox import create_app
from msphub_psa.connectwise.sandbox.seed import (
    DEMO_CLIENT_ID,
    DEMO_COMPANY_ID,
    DEMO_PRIVATE_KEY,
    DEMO_PUBLIC_KEY,
)
from msphub_psa.demo.generate import DemoSize
from msphub_psa.demo.runner import run_demo
from msphub_psa.demo.sandbox_seed import demo_seed
from msphub_psa.settings import settings
from msphub_psa.worker import make_scheduler, make_worker


@click.command("init")
@with_appcontext
def init_cmd() -> None:
    """Create the plugin's roles (idempotent)."""
    created = ensure_roles()
    click.echo(f"Roles created: {', '.join(created)}" if created else "Roles already present.")


@click.command("health")
@with_appcontext
def health_cmd() -> None:
    """Database, Redis, queue depths and live workers (exit status 1 when unhealthy)."""
    health = CheckHealthCommand().run()
    click.echo(
        f"database {'ok' if health.database else 'DOWN'}, schema {'ok' if health.schema_ok else 'NOT OK'}, "
        f"redis {'ok' if health.redis else 'DOWN'}, "
        f"workers {health.workers}, queues {health.queues}"
    )
    for error in health.errors:
        click.echo(f"  {error}", err=True)
    sys.exit(0 if health.ok else 1)


@click.command("demo-data")
@click.option("--seed", default=42, show_default=True)
@click.option("--customers", default=60, show_default=True, help="Customers of the pilot partner.")
@click.option("--subscriptions-per-customer", default=3, show_default=True)
@click.option("--months", default=12, show_default=True, help="Months of billing transactions.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Pretend today is this date.")
@with_appcontext
def demo_data(seed: int, customers: int, subscriptions_per_customer: int, months: int, today) -> None:
    """Seed deterministic demo data and print the demo logins."""
    started = time.perf_counter()
    size = DemoSize(
        seed=seed, customers=customers, subscriptions_per_customer=subscriptions_per_customer, months=months
    )
    summary = SeedDemoDataCommand(size, today.date() if today else None).run()
    seconds = time.perf_counter() - started
    click.echo(f"Demo data: {summary.counts} in {seconds:.1f} s")
    for username, role, password in summary.users:
        click.echo(f"  {role:<18} {username:<16} {password}")


@click.command("worker")
@click.option("--queues", default="fast,sync", show_default=True, help="Queue kinds to serve.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler/--without-scheduler", default=True, show_default=True)
@click.option("--name", default=None, help="Worker name (unique per host).")
@with_appcontext
def worker_cmd(queues: str, burst: bool, with_scheduler: bool, name: str | None) -> None:
    """Run an RQ worker inside this application (refused while the plugin's tables are not at head or the
    marketplace contract is not satisfied: its jobs would fail)."""
    problems = SchemaStatusCommand().problems()
    if problems:
        raise click.ClickException("The worker cannot start: " + "; ".join(problems))
    kinds = [q.strip() for q in queues.split(",") if q.strip()]
    worker = make_worker(current_app._get_current_object(), kinds, name)
    if "sync" in kinds:
        ResumeStalePushesCommand().run()  # a killed worker's push is not re-run by RQ: recover its rows now
    worker.work(burst=burst, with_scheduler=with_scheduler)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def demo_cmd(host: str, port: int) -> None:
    """Run the demo: migrate, seed, start Redis if needed, the worker and the web app."""
    if settings().env == "production":
        raise click.ClickException("The demo runs with PSA_ENV=demo (generated secrets, SQLite by default).")
    run_demo(current_app._get_current_object(), host, port)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option("--data", "data_path", default=None, help="SQLite file for the sandbox's state (default: memory).")
@click.option(
    "--seed",
    "seed_path",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Seed JSON (default: companies matching this database's demo customers).",
)
@click.option("--latency-ms", default=0, show_default=True, help="Added latency per request.")
@with_appcontext
def sandbox_cmd(host: str, port: int, data_path: str | None, seed_path: str | None, latency_ms: int) -> None:
    """Serve the ConnectWise sandbox on loopback (plain HTTP)."""

    if host not in ("127.0.0.1", "::1", "localhost"):
        raise click.ClickException("The sandbox serves loopback only.")
    seed = seed_path or demo_seed(pilot_customer_names())
    faults = [{"kind": "latency", "ms": latency_ms}] if latency_ms else []
    server = make_server(host, port, create_app(data_path, seed=seed, faults=faults), threaded=True)
    click.echo(
        f"ConnectWise sandbox: API URL http://{host}:{server.port}  company {DEMO_COMPANY_ID}  "
        f"public key {DEMO_PUBLIC_KEY}  private key {DEMO_PRIVATE_KEY}  client id {DEMO_CLIENT_ID}"
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()


@click.command("rotate-keys")
@AS_OPTION
@with_appcontext
def rotate_keys(username: str) -> None:
    """Re-encrypt every stored secret under the newest PSA_ENCRYPTION_KEYS key (Admin)."""
    result = RotateKeysCommand(as_actor(username)).run()
    click.echo(
        f"Re-encrypted {result.secrets} secret(s) of {result.integrations} integration(s) under the newest "
        "key. Old keys may now be removed from PSA_ENCRYPTION_KEYS."
    )


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run one tick here (e.g. from cron) instead of the scheduler loop.")
@click.option("--name", default=None, help="Scheduler name (unique per host).")
@with_appcontext
def scheduler_cmd(once: bool, name: str | None) -> None:
    """Enqueue the sync schedule's tick every minute (RQ's cron scheduler); several may run, a slot runs once."""
    if once:
        for partner_id, slot in ScheduleTickCommand().run():
            click.echo(f"partner {partner_id}: scheduled run for {slot.isoformat()} enqueued")
        return
    make_scheduler(current_app._get_current_object(), name).start()
