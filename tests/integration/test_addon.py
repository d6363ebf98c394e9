"""The plugin is an addon: a bare FAB application (no app.py) loads it with one config line and its two
required settings; without them the host does not start, and says which key and how to make one."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask_appbuilder import AppBuilder, Model
from flask_sqlalchemy import SQLAlchemy

from msphub_psa import ADDON_MANAGER, permissions
from msphub_psa.settings import SettingsError

REQUIRED = {"PSA_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "REDIS_URL": "redis://127.0.0.1:6379/0"}


def bare_app(tmp_path, **config):
    """A minimal FAB application that knows nothing of the host's app.py, with FAB's defaults."""
    app = Flask("bare")
    app.config.update(
        SECRET_KEY="bare",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bare.db'}",
        ADDON_MANAGERS=[ADDON_MANAGER],
        **{**REQUIRED, **config},
    )
    db = SQLAlchemy(metadata=Model.metadata)
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
    return app, appbuilder


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_setting_stops_start_up_naming_it(tmp_path, missing):
    app = Flask("bare")
    app.config.update(
        SECRET_KEY="bare",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'bare.db'}",
        ADDON_MANAGERS=[ADDON_MANAGER],
        **{k: v for k, v in REQUIRED.items() if k != missing},
    )
    db = SQLAlchemy(metadata=Model.metadata)
    db.init_app(app)
    with app.app_context(), pytest.raises(SettingsError, match=f"{missing} is missing"):
        AppBuilder().init_app(app, db.session)


def test_an_invalid_setting_stops_start_up_saying_what_is_wrong(tmp_path):
    with pytest.raises(SettingsError) as caught:
        bare_app(tmp_path, PSA_ENCRYPTION_KEYS="not-a-key", PSA_PUSH_CONCURRENCY="eight", PSA_ENV="staging")
    text = str(caught.value)
    assert "PSA_ENCRYPTION_KEYS key 1 is not a Fernet key (make one with" in text
    assert "PSA_PUSH_CONCURRENCY must be a number, not 'eight'" in text
    assert "PSA_ENV must be one of production, demo, test, not 'staging'" in text


def test_addon_loads_into_a_minimal_fab_app(tmp_path):
    app, appbuilder = bare_app(tmp_path)
    assert ADDON_MANAGER in appbuilder.addon_managers, "the addon failed to load (FAB only logs it)"
    names = {type(view).__name__ for view in appbuilder.baseviews}
    assert {"MyOrganizationView", "PartnerFeaturesView", "FeatureApi", "IntegrationView"} <= names
    names = permissions.role_names(app.extensions["msphub_psa"]["settings"])
    builtin = set(appbuilder.sm.builtin_roles)
    assert {names[k] for k in permissions.PARTNER_ROLES + (permissions.DISTRIBUTOR_ADMIN,)} <= builtin
    assert names[permissions.ADMIN] not in builtin  # the host's Admin role keeps its own permissions
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/psa/my-organization/" in rules and "/api/v1/psa_features/" in rules
    assert "psa" in app.cli.commands


def test_addon_routes_respond_in_the_minimal_app(tmp_path):
    app, _ = bare_app(tmp_path)
    response = app.test_client().get("/psa/my-organization/")
    assert response.status_code == 302  # to the login page: the view exists and is protected
    assert "/login/" in response.headers["Location"]


def test_addon_loaded_in_host_app(app):
    assert ADDON_MANAGER in app.appbuilder.addon_managers
