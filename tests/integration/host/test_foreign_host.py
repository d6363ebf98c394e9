"""The plugin in a Flask-AppBuilder application that is not ours, installed as a released package and set up by
following docs/plugin.md step by step, ends with a first push: each reference exactly once in the sandbox.

The host (``hostproj/``) is written from FAB's documentation: its own users, ``Contact`` model view and REST
API, its own Alembic history, its marketplace in tables of its own names offered to the plugin as views,
FAB's defaults (``FAB_UPDATE_PERMS``, ``create-db``, ``create-admin``, ``create-permissions``), no CSRFProtect,
and a package of its own named ``plugin``. The built wheel goes into a fresh virtualenv. The host's own tables
and rows are the same after the procedure and the push (dump compared), its pages and API still answer, and a
plugin route refuses a write without the CSRF token.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from msphub_psa.connectwise.sandbox import seed as cw_seed
from msphub_psa.domain.billing import parse_reference
from tests.support.clock import command, pinned
from tests.support.fixtures import ROOT

pytestmark = pytest.mark.slow
HOSTPROJ = Path(__file__).with_name("hostproj")
ADMIN_PASSWORD = "host-admin-2026"
PARTNER_ID = 7
COMPANIES = ["Alpine Dental Group", "Birch & Oak Legal", "Cobalt Freight Ltd"]  # in the sandbox and the host


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project built as a wheel, as a release would be."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        cwd=tmp_path_factory.mktemp("build"),
    )
    (found,) = out.glob("msphub_connectwise-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh virtualenv with the wheel (and time-machine, for the suite's pinned clock)."""
    path = tmp_path_factory.mktemp("hostvenv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(path / "bin" / "pip"), "install", "-q", str(wheel), "time-machine"], check=True)
    return path / "bin" / "python"


class Host:
    """The host project in a temporary folder, run with the virtualenv's interpreter at the suite's time."""

    def __init__(self, root: Path, python: Path, database_url: str, sandbox_port: int):
        self.root, self.python = root, str(python)
        self.env = {
            **os.environ,
            "HOST_DATABASE_URL": database_url,
            "HOST_SECRET_KEY": uuid.uuid4().hex,
            "HOST_FERNET_KEY": Fernet.generate_key().decode(),
            "HOST_REDIS_URL": "redis://127.0.0.1:6379/0",
            "HOST_QUEUE_PREFIX": f"host-{uuid.uuid4().hex[:8]}",
            "HOST_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HOST_SANDBOX_PORT": str(sandbox_port),
            "FLASK_APP": "hostapp",
            "PYTHONPATH": str(root),
        }
        for key in [k for k in self.env if k.startswith("PSA_") and k != "PSA_TEST_CLOCK"] + ["DATABASE_URL"]:
            self.env.pop(key, None)  # nothing of our stand-in's environment reaches the host
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self.procs: list[subprocess.Popen] = []

    def run(self, *args: str, stdin: str | None = None) -> str:
        """Run ``python -m <args>`` in the host; the output, or the test fails with it."""
        done = subprocess.run(
            command(*args, python=self.python),
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def flask(self, *args: str, stdin: str | None = None) -> str:
        """``flask <args>`` in the host."""
        return self.run("flask", *args, stdin=stdin)

    def start(self, *args: str) -> subprocess.Popen:
        """A long-running process of the host (worker, sandbox), stopped at the end."""
        log = open(self.root / f"{args[0]}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen(
            command(*args, python=self.python),
            cwd=self.root,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        """SIGTERM, then SIGKILL, every process started (their whole group)."""
        for proc in self.procs:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sandbox_seed(path: Path) -> None:
    """The sandbox's demo account with three companies, each with one monthly agreement."""
    seed = cw_seed.default_seed()
    account = seed["accounts"][0]
    account["companies"] = [
        {"id": i, "identifier": f"C{i}", "name": name, "types": [{"id": 1}], "status": {"id": 1}}
        for i, name in enumerate(COMPANIES, 1)
    ]
    account["agreements"] = [
        {
            "id": 100 + i,
            "name": "Microsoft CSP - Monthly",
            "company": {"id": i},
            "type": {"id": 1},
            "contact": {"id": 1, "name": "Jo"},
            "billingCycle": {"id": 1},
            "startDate": "2024-01-01T00:00:00Z",
            "billStartDate": "2024-01-01T00:00:00Z",
            "noEndingDateFlag": True,
        }
        for i in range(1, len(COMPANIES) + 1)
    ]
    for key in ("additions", "adjustments", "catalogItems"):
        account[key] = []
    seed["accounts"] = [account]
    path.write_text(json.dumps(seed))


def _months(today: dt.date, back: int) -> list[tuple[dt.date, dt.date]]:
    """The calendar months from ``back`` months ago to today's, as (first day, last day)."""
    out = []
    for n in range(back, -1, -1):
        index = today.year * 12 + today.month - 1 - n
        first = dt.date(index // 12, index % 12 + 1, 1)
        nxt = dt.date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        out.append((first, nxt - dt.timedelta(days=1)))
    return out


def _marketplace(engine: sa.Engine, today: dt.date) -> None:
    """The host's own rows: a contact, a distributor, a partner, three customers, their subscriptions and three
    months of billing (in the host's table names)."""
    created = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    months = _months(today, 2)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO contact (id, name) VALUES (1, 'Alice Example')"))
        conn.execute(sa.text("INSERT INTO mkt_distributor VALUES (1, 'Host Distribution')"))
        conn.execute(
            sa.text("INSERT INTO mkt_reseller VALUES (:id, 1, 'Host Partner', 'USD', 'America/New_York')"),
            {"id": PARTNER_ID},
        )
        conn.execute(
            sa.text(
                "INSERT INTO mkt_sku VALUES (1, 1, 'Microsoft', 'OnlineServicesNCE', 'CFQ7TTC0LH18', "
                "'Microsoft 365 Business Basic', 'P1M', 'monthly')"
            )
        )
        line = 1
        for n, name in enumerate(COMPANIES, 1):
            conn.execute(
                sa.text("INSERT INTO mkt_client VALUES (:id, :p, :ext, :name, :at)"),
                {"id": 100 + n, "p": PARTNER_ID, "ext": f"C-{n}", "name": name, "at": created},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO mkt_plan VALUES (:id, :p, :c, 1, :ext, 'Microsoft 365 Business Basic', "
                    ":q, 7.2, 6, 'active', :start, NULL)"
                ),
                {"id": 200 + n, "p": PARTNER_ID, "c": 100 + n, "ext": f"S-{n}", "q": 5 + n, "start": months[0][0]},
            )
            for first, last in months:
                conn.execute(
                    sa.text(
                        "INSERT INTO mkt_invoice_line VALUES (:id, :p, :c, :s, 'charge', :f, :l, :q, "
                        "7.2, 6, :amount, 'USD', :at)"
                    ),
                    {
                        "id": line,
                        "p": PARTNER_ID,
                        "c": 100 + n,
                        "s": 200 + n,
                        "f": first,
                        "l": last,
                        "q": 5 + n,
                        "amount": str(Decimal("7.2") * (5 + n)),
                        "at": created,
                    },
                )
                line += 1


def _dump(engine: sa.Engine) -> dict[str, list]:
    """Every row of the host's own tables."""
    tables = ["contact", "mkt_distributor", "mkt_reseller", "mkt_client", "mkt_sku", "mkt_plan", "mkt_invoice_line"]
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1"))] for t in tables}


def _wait(predicate, timeout: float = 120, step: float = 0.5):
    """Poll until ``predicate()`` is truthy (the timeout only ends a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(step)
    raise AssertionError("timed out")


def test_the_documented_procedure_installs_the_plugin_into_a_foreign_host(tmp_path, venv, db_factory):
    root = tmp_path / "hostproj"
    shutil.copytree(HOSTPROJ, root, ignore=shutil.ignore_patterns("__pycache__"))
    url = db_factory.empty()
    port = _free_port()
    host = Host(root, venv, url, port)
    engine = sa.create_engine(url)
    try:
        _sandbox_seed(root / "cw-seed.json")
        host.start(
            "msphub_psa.connectwise.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            str(root / "cw-seed.json"),
        )
        # the host's own set-up, from FAB's and Flask-Migrate's documentation
        host.flask("db", "init")
        shutil.copy(root / "host_0001.py", root / "migrations" / "versions" / "host_0001.py")
        host.flask("db", "upgrade")
        host.flask("fab", "create-db")
        host.flask(
            "fab",
            "create-admin",
            "--username",
            "admin",
            "--firstname",
            "Ann",
            "--lastname",
            "Admin",
            "--email",
            "admin@host.example",
            "--password",
            ADMIN_PASSWORD,
        )
        _marketplace(engine, pinned().astimezone(ZoneInfo("America/New_York")).date())
        before = _dump(engine)

        # docs/plugin.md, steps 4 to 7
        assert "psa" in host.flask("--help")  # the addon loaded with FAB's defaults (FAB_UPDATE_PERMS on)
        host.flask("fab", "create-permissions")
        host.flask("psa", "db", "upgrade")
        check = host.flask("psa", "db", "check")
        assert "Marketplace contract: satisfied" in check and "(head psa_0007_push_slices)" in check
        host.flask("fab", "create-db")  # again, after the plugin's tables: nothing breaks
        host.flask("psa", "init")
        host.flask(
            "fab",
            "create-user",
            "--role",
            "Partner Admin",
            "--username",
            "pat",
            "--firstname",
            "Pat",
            "--lastname",
            "Partner",
            "--email",
            "pat@host.example",
            "--password",
            "pat-2026",
        )
        host.flask("psa", "tenants", "assign", "--user", "pat", "--partner", str(PARTNER_ID), "--as", "admin")
        host.flask("psa", "feature", "enable", "--partner", str(PARTNER_ID), "--as", "admin")
        host.start("flask", "psa", "worker")
        activated = host.flask(
            "psa",
            "integration",
            "activate",
            "--partner",
            str(PARTNER_ID),
            "--client-id",
            cw_seed.DEMO_CLIENT_ID,
            "--company",
            cw_seed.DEMO_COMPANY_ID,
            "--public-key",
            cw_seed.DEMO_PUBLIC_KEY,
            "--private-key-file",
            "-",
            "--api-url",
            host.sandbox_url,
            "--wait",
            "120",
            "--as",
            "pat",
            stdin=cw_seed.DEMO_PRIVATE_KEY,
        )
        assert "Status: Active" in activated and "Pat Partner (pat)" in activated
        host.flask("psa", "directory", "refresh", "--partner", str(PARTNER_ID), "--as", "pat")
        host.flask("psa", "customers", "automap", "--partner", str(PARTNER_ID), "--as", "pat")
        host.flask("psa", "subscriptions", "automap", "--partner", str(PARTNER_ID), "--as", "pat")
        host.flask("psa", "sync", "settings", "--partner", str(PARTNER_ID), "--approval", "never", "--as", "pat")
        host.flask("psa", "sync", "run", "--partner", str(PARTNER_ID), "--as", "pat")

        def finished():
            status = json.loads(host.flask("psa", "sync", "status", "--partner", str(PARTNER_ID), "--as", "pat"))
            runs = status.get("runs") or []
            return runs and runs[0]["status"] not in ("running",) and status

        status = _wait(finished)
        assert status["runs"][0]["status"] == "succeeded", status

        additions = httpx.get(f"{host.sandbox_url}/__sandbox__/state", params={"resource": "additions"}).json()
        refs = [parse_reference(a.get("serialNumber")) for a in additions]
        assert len(refs) == len(COMPANIES) and len(set(refs)) == len(refs) and None not in refs  # this month's, once
        assert _dump(engine) == before  # the host's own tables and rows are untouched

        web = json.loads(host.run("check_web", str(PARTNER_ID)))
        assert web["contact_list"] == [200, True] and web["contact_api"] == [200, 1]
        assert web["plugin_page_csp"] and not web["host_page_csp"]  # the plugin's headers on its routes only
        assert web["post_without_token"] == 400 and web["post_with_token"] == 302
    finally:
        host.stop()
        engine.dispose()
