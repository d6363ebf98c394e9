"""Alembic migrations build the schema on this backend and agree with the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model
from flask_migrate import upgrade
from sqlalchemy import inspect

from tests.conftest import dispose, make_app


def test_upgrade_heads_matches_models(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        upgrade(revision="heads")
        with app.appbuilder.session.get_bind().connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Model.metadata)
    dispose(app)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_plugin_branch_creates_only_its_own_tables(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        upgrade(revision="host@head")
        engine = app.appbuilder.session.get_bind()
        before = set(inspect(engine).get_table_names())
        upgrade(revision="psa@head")
        after = set(inspect(engine).get_table_names())
    dispose(app)
    assert not any(name.startswith("psa_") for name in before)
    added = after - before - {"alembic_version"}
    assert added and all(name.startswith("psa_") for name in added), added


def test_outbox_state_check_takes_the_move_states_and_keeps_the_others(db_factory):
    """compare_metadata ignores CHECK constraints: read the migrated one (SQLite rebuilds the table for it)."""
    app = make_app(db_factory.empty())
    with app.app_context():
        upgrade(revision="heads")
        checks = {c["name"]: c["sqltext"] for c in inspect(app.appbuilder.session.get_bind())
                  .get_check_constraints("psa_sync_item")}
    dispose(app)
    assert {"ck_sync_item_state", "ck_sync_item_kind"} <= set(checks)
    assert all(f"'{state}'" in checks["ck_sync_item_state"]
               for state in ("pending", "sending", "pushed", "failed", "skipped", "moving", "removing"))
