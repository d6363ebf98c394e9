"""Fixtures that start real things: a live server, Chromium, an RQ worker."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support.clock import command

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "tests" / "browser" / "screenshots"


class LiveServer:
    """The app served by a threaded werkzeug server on 127.0.0.1."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_app(app):
    """The test app served over real HTTP on 127.0.0.1 (cookies not Secure there)."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (skipped only where it is not installed)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test. Waits are for outcomes: their timeouts only end a hang, and
    are long enough for a machine busy with a second copy of the suite."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def screenshot(pg, name: str) -> Path:
    """Save a full-page screenshot under the git-ignored screenshots folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def browser_login(pg, base_url: str, username: str) -> None:
    """Log in through the real login form."""
    from tests.support.web import PASSWORDS

    pg.goto(f"{base_url}/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORDS[username])
    pg.click("input[type=submit], button[type=submit]")
    pg.wait_for_load_state("networkidle")


class WorkerProcess:
    """A real ``flask psa worker`` process on the test database and queues."""

    def __init__(self, db_url: str, queues: str = "fast,sync", scheduler: bool = True):
        env = {**os.environ, "DATABASE_URL": db_url, "FLASK_APP": "app"}
        args = [
            *command("flask", "psa", "worker"),
            "--queues",
            queues,
            "--with-scheduler" if scheduler else "--without-scheduler",
        ]
        self.output = tempfile.TemporaryFile()  # a file, not a pipe: a chatty worker never blocks on a full pipe
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True
        )  # its own group: the work horse goes with it

    def stop(self, timeout: float = 10) -> str:
        """Stop the worker (warm shutdown, then SIGKILL to it and its work horse) and return its output."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._kill_group()
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its work horse."""
        self._kill_group()

    def _kill_group(self) -> None:
        """SIGKILL whatever is left of the worker's process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(5)


@pytest.fixture
def worker(db_url):
    """Start a worker for the test's database; stopped at the end."""
    started = []

    def start(**kwargs) -> WorkerProcess:
        proc = WorkerProcess(db_url, **kwargs)
        started.append(proc)
        time.sleep(0.5)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def empty_sync_queues(app):
    """Empty this process's queues before and after the test: a push another test enqueued and no worker ran
    would show as ``queued`` or run on this test's worker (the tests share one ``PSA_QUEUE_PREFIX``)."""
    from msphub_psa.jobqueue import FAST, SYNC, SYNC_LATER, get_queue

    def empty() -> None:
        with app.app_context():
            for kind in (FAST, SYNC, SYNC_LATER):
                get_queue(kind).empty()

    empty()
    yield
    empty()
