"""The plugin's migrations (inside the package, their own version table) build its tables on this backend,
agree with the models, touch nothing of the host's, and go down again; the marketplace contract check
names what a host lacks."""

from __future__ import annotations

from flask_migrate import upgrade as host_upgrade
from sqlalchemy import inspect, text

from msphub_psa.daos import schema
from msphub_psa.models.base import plugin_tables
from tests.conftest import dispose, make_app


def _tables(app) -> set[str]:
    return set(inspect(app.appbuilder.session.get_bind()).get_table_names())


def test_the_plugins_migrations_create_exactly_its_tables_and_agree_with_the_models(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        before = _tables(app)
        assert schema.upgrade() == (None, schema.head_revision())
        after = _tables(app)
        assert schema.drift() == []
        assert schema.upgrade() == (schema.head_revision(), schema.head_revision())  # again: nothing to do
    dispose(app)
    assert not any(name.startswith("psa_") for name in before)
    assert after - before == {t.name for t in plugin_tables()} | {schema.VERSION_TABLE}


def test_the_host_keeps_its_own_version_table_and_history(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        schema.upgrade()
        with app.appbuilder.session.get_bind().connect() as conn:
            host = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            ours = conn.execute(text(f"SELECT version_num FROM {schema.VERSION_TABLE}")).scalars().all()
    dispose(app)
    assert host == ["host_0001"] and ours == [schema.head_revision()]


def test_downgrade_to_base_removes_only_the_plugins_tables(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        before = _tables(app)
        schema.upgrade()
        schema.downgrade("base")
        assert schema.current_revision() is None
        after = _tables(app) - {schema.VERSION_TABLE}
    dispose(app)
    assert after == before


def test_outbox_state_check_takes_every_state(db_factory):
    """compare_metadata ignores CHECK constraints: read the migrated one."""
    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        schema.upgrade()
        checks = {
            c["name"]: c["sqltext"]
            for c in inspect(app.appbuilder.session.get_bind()).get_check_constraints("psa_sync_item")
        }
    dispose(app)
    assert {"ck_psa_sync_item_state", "ck_psa_sync_item_kind"} <= set(checks)
    assert all(
        f"'{state}'" in checks["ck_psa_sync_item_state"]
        for state in ("pending", "sending", "pushed", "failed", "skipped", "moving", "removing", "blocked")
    )


def test_the_contract_check_names_a_missing_relation_and_column(db_factory):
    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        schema.upgrade()
        assert schema.state().ok
        engine = app.appbuilder.session.get_bind()
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE hub_billing_transaction"))
            conn.execute(text("ALTER TABLE hub_partner DROP COLUMN timezone"))
        found = schema.state()
    dispose(app)
    assert not found.ok and found.at_head
    assert any(p.startswith("relation hub_billing_transaction is missing") for p in found.contract_problems)
    assert "hub_partner.timezone is missing (VARCHAR(64))" in found.contract_problems


def test_tables_made_outside_the_migrations_are_refused_with_what_to_do(db_factory):
    from msphub_psa.models.base import Base

    app = make_app(db_factory.empty())
    with app.app_context():
        host_upgrade()
        Base.metadata.create_all(app.appbuilder.session.get_bind(), tables=plugin_tables()[:2])
        try:
            schema.upgrade()
            raised = None
        except schema.SchemaError as exc:
            raised = str(exc)
    dispose(app)
    assert raised and "flask psa db upgrade" in raised and "Drop them" in raised
