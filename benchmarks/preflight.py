"""The pre-flight checks at scale: ConnectWise calls they add, and their local time.

    python benchmarks/preflight.py [--database-url postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--agreements 2000] [--transactions-per-agreement 5] [--latency-ms 0]

Set-up (fresh database, see ``demo_data.py``): ``--agreements`` customers of the pilot with
``--transactions-per-agreement`` subscriptions each (one month of billing: about one transaction each), a
ConnectWise sandbox in its own process over real HTTP with one company per customer and its agreements, the
directory refreshed, every subscription mapped to its company's monthly agreement (one agreement per customer;
the billing cycle mismatch of the annual ones accepted).
Then, timed: the outbox refresh, and the pre-flight step of a push (the agreements and their companies re-read in
batches, the cache updated, every row checked). Goals: at most one call per 25 agreements, under 2 s of local time
(wall time less the sandbox's own request time, from its log). Last, a full push, and a push with nothing new:
zero calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
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
from benchmarks.sync import SandboxProcess, connect, customer_names, sandbox_seed  # noqa: E402


def seed(agreements: int, per_agreement: int) -> int:
    """Demo data: ``agreements`` customers with ``per_agreement`` subscriptions each; the pilot's partner id."""
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.demo.generate import DemoSize
    from tests.support import tenants

    ensure_roles()
    size = DemoSize(customers=agreements, subscriptions_per_customer=per_agreement, months=1)
    SeedDemoDataCommand(size, today=dt.date.today()).run()
    return tenants.pilot().id


def accept_mismatches(partner_id: int) -> None:
    """The bulk mappings put annual subscriptions on monthly agreements too: accepted, as a partner would."""
    from sqlalchemy import update

    from msphub_psa.daos.base import session
    from msphub_psa.models.reconciliation import SubscriptionMapping

    session().execute(
        update(SubscriptionMapping).where(SubscriptionMapping.partner_id == partner_id).values(mismatch_accepted=True)
    )
    session().commit()


def preflight(partner_id: int, sandbox: SandboxProcess) -> dict:
    """The outbox refresh, then the pre-flight step alone, on the partner's PSA client: calls and times."""
    from msphub_psa.commands.billing.orchestrator import PushBillingCommand
    from msphub_psa.commands.billing.outbox import OutboxRefresh
    from msphub_psa.commands.billing.preflight import PreflightPhase
    from msphub_psa.daos.base import session
    from msphub_psa.daos.outbox import OutboxDAO

    command = PushBillingCommand(partner_id)
    run = command.run_state
    run.psa = command._client()
    OutboxRefresh(run)()
    rows = OutboxDAO.state_counts(partner_id).get("pending", 0)
    targets = len(OutboxDAO.agreement_ids(partner_id))
    session().rollback()
    since, calls, cpu = sandbox.log_seq(), run.psa.call_count, time.process_time()
    started = time.perf_counter()
    blocked = PreflightPhase(run)()
    wall = time.perf_counter() - started
    remote = sum(float(e.get("durationMs") or 0) for e in sandbox.requests(since)) / 1000
    made = run.psa.call_count - calls
    run.psa.close()
    return {
        "rows": rows,
        "agreements": targets,
        "calls": made,
        "agreements_per_call": round(targets / made, 1) if made else None,
        "wall_s": round(wall, 2),
        "connectwise_s": round(remote, 2),
        "local_s": round(wall - remote, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "blocked": dict(blocked),
    }


def steady(partner_id: int, sandbox: SandboxProcess) -> dict:
    """A full push, then a push with nothing new: its calls (goal: zero)."""
    from msphub_psa.commands.billing.orchestrator import PushBillingCommand

    first = PushBillingCommand(partner_id, concurrency=8).run()
    since = sandbox.log_seq()
    again = PushBillingCommand(partner_id).run()
    return {
        "first_status": first.status,
        "first_pushed": first.counts.get("pushed", 0),
        "first_check_calls": first.check_calls,
        "again_calls": again.psa_calls,
        "again_logged": len(sandbox.requests(since)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--transactions-per-agreement", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--skip-push", action="store_true", help="Leave out the full push and the steady state.")
    args = parser.parse_args()
    url, drop = fresh_database(args.database_url)
    sandbox = None
    try:
        from app import create_app
        from msphub_psa.demo.runner import migrate

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            migrate(app)
            partner_id = seed(args.agreements, args.transactions_per_agreement)
            sandbox = SandboxProcess(sandbox_seed(customer_names(partner_id)))
            connect(partner_id, sandbox)
            accept_mismatches(partner_id)
            sandbox.latency(args.latency_ms)
            print(f"machine: {platform.node()} {os.cpu_count()} cores {cpu_model()}; {url.split(':')[0]}")
            print(f"{args.agreements} agreements, {args.latency_ms} ms per ConnectWise request")
            print("preflight", preflight(partner_id, sandbox))
            if not args.skip_push:
                print("steady", steady(partner_id, sandbox))
    finally:
        if sandbox is not None:
            sandbox.stop()
        drop()


if __name__ == "__main__":
    main()
