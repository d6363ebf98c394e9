"""The plugin is an addon: a bare FAB application (no app.py) loads it with one config line."""
from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder, Model
from flask_sqlalchemy import SQLAlchemy

from plugin import ADDON_MANAGER, permissions


def bare_app(tmp_path):
    """A minimal FAB application that knows nothing of the host's app.py."""
    app = Flask("bare")
    app.config.update(
        SECRET_KEY="bare", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bare.db'}",
        ADDON_MANAGERS=[ADDON_MANAGER], WTF_CSRF_ENABLED=False, FAB_UPDATE_PERMS=False,
    )
    db = SQLAlchemy(metadata=Model.metadata)
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
    return app, appbuilder


def test_addon_loads_into_a_minimal_fab_app(tmp_path):
    app, appbuilder = bare_app(tmp_path)
    assert ADDON_MANAGER in appbuilder.addon_managers, "the addon failed to load (FAB only logs it)"
    names = {type(view).__name__ for view in appbuilder.baseviews}
    assert {"MyOrganizationView", "PartnerFeaturesView", "FeatureApi", "IntegrationView"} <= names
    assert set(permissions.ROLES) <= set(appbuilder.sm.builtin_roles)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/psa/my-organization/" in rules and "/api/v1/psa_features/" in rules
    assert "psa" in app.cli.commands


def test_addon_routes_respond_in_the_minimal_app(tmp_path):
    app, _ = bare_app(tmp_path)
    with app.app_context():
        Model.metadata.create_all(app.appbuilder.session.get_bind())
    response = app.test_client().get("/psa/my-organization/")
    assert response.status_code == 302  # to the login page: the view exists and is protected
    assert "/login/" in response.headers["Location"]


def test_addon_loaded_in_host_app(app):
    assert ADDON_MANAGER in app.appbuilder.addon_managers
