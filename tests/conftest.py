"""Fixtures shared by the whole suite: env, databases, apps, clients, logins.

The suite runs against SQLite by default and against PostgreSQL when
``TEST_DATABASE_URL`` is set (see README). Redis is the machine's real one.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from cryptography.fernet import Fernet

# One environment for this process and the worker processes tests start.
os.environ["PSA_ENV"] = "test"
os.environ.setdefault("SECRET_KEY", "test-" + uuid.uuid4().hex)
os.environ.setdefault("PSA_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ["PSA_QUEUE_PREFIX"] = f"psa-test-{uuid.uuid4().hex[:8]}"
os.environ.setdefault("PSA_INSTANCE_DIR", tempfile.mkdtemp(prefix="psa-instance-"))
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
# The partner's shared ConnectWise limit is off by default here: every test of the session uses the pilot's
# partner id, so one window would pace the whole suite. Tests of the limit set it (tests/integration/push/).
os.environ.setdefault("PSA_CW_REQUESTS_PER_MINUTE", "0")
# The suite's sandboxes listen on free ports: any loopback port (still http/https only); the port rule is
# tested with its default (tests/integration/card/test_card_ssrf.py).
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")


import pytest  # noqa: E402

from tests.support.databases import DatabaseFactory, backend  # noqa: E402
from tests.support.web import login  # noqa: E402,F401

pytest_plugins = ["tests.support.clock", "tests.support.fixtures", "tests.cw_fixtures"]

DEMO_SIZE = {"customers": 20, "subscriptions_per_customer": 3, "months": 6}


def pytest_report_header(config):
    """Say which database backs this run."""
    return f"database backend: {backend()}"


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory):
    """Creates and finally drops the session's databases."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


def make_app(url: str, **overrides):
    """A host application on the database at ``url``."""
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, **overrides})


def dispose(app) -> None:
    """Close the app's session and pooled connections."""
    with app.app_context():
        app.appbuilder.session.remove()
        app.appbuilder.session.get_bind().dispose()


@pytest.fixture(scope="session")
def template_db(db_factory) -> str:
    """A migrated database with roles and demo data, cloned by each test."""
    from msphub_psa.commands.demo import SeedDemoDataCommand, ensure_roles
    from msphub_psa.demo.generate import DemoSize
    from msphub_psa.demo.runner import migrate

    url = db_factory.empty()
    app = make_app(url)
    with app.app_context():
        migrate(app)
        ensure_roles()
        SeedDemoDataCommand(DemoSize(**DEMO_SIZE)).run()  # the pilot's today at the pinned instant
    dispose(app)
    return url


@pytest.fixture
def db_url(db_factory, template_db) -> str:
    """A fresh copy of the demo database for one test."""
    return db_factory.clone(template_db)


@pytest.fixture
def app(db_url):
    """The host application on a fresh demo database (pytest-flask uses it for ``client``)."""
    application = make_app(db_url)
    yield application
    dispose(application)


@pytest.fixture(autouse=True)
def _push_request_context():
    """Override pytest-flask's: one shared request context per test would share ``flask.g``
    (and the logged-in user) between requests and clients. Each request gets its own here."""
    yield


@pytest.fixture
def client(app):
    """A test client that keeps no request context between requests (pytest-flask's does)."""
    return app.test_client()
