"""Time `flask psa demo-data` at benchmark size on a fresh database.

    python benchmarks/demo_data.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--customers 5000] [--subscriptions-per-customer 20] [--months 12]

A fresh database is created (PostgreSQL: a new database next to the URL's; SQLite: a temp
file), migrated, seeded, timed, and dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port


def fresh_database(url: str | None) -> tuple[str, callable]:
    """A new empty database URL and its clean-up."""
    if not url or url.startswith("sqlite"):
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"psa_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return make_url(url).set(drivername="postgresql+psycopg", database=name).render_as_string(False), drop


def main() -> None:
    """Seed and report rows and seconds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--subscriptions-per-customer", type=int, default=20)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    url, drop = fresh_database(args.database_url)
    try:
        from app import create_app
        from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
        from msphub_psa.demo.generate import DemoSize
        from msphub_psa.demo.runner import migrate

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            migrate(app)
            ensure_roles()
            started = time.perf_counter()
            summary = SeedDemoDataCommand(
                DemoSize(
                    customers=args.customers,
                    months=args.months,
                    subscriptions_per_customer=args.subscriptions_per_customer,
                )
            ).run()
            seconds = time.perf_counter() - started
            app.appbuilder.session.remove()
            app.appbuilder.session.get_bind().dispose()
        rows = sum(summary.counts.values())
        print(
            f"{url.split('://')[0]}: {summary.counts} = {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)"
        )
    finally:
        drop()


if __name__ == "__main__":
    main()
