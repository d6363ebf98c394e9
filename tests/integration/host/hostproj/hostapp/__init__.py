"""A Flask-AppBuilder application written from FAB's documentation, that knows nothing of the plugin but the
documented contract (docs/plugin.md): its own users, its own ``Contact`` model view and REST API, its own
Alembic history (Flask-Migrate), its marketplace in tables of its own names (offered to the plugin as views),
and a package of its own named ``plugin``. Used by ``tests/integration/host/test_foreign_host.py``."""

from __future__ import annotations

import os

from flask import Flask
from flask_appbuilder import AppBuilder, Model, ModelRestApi, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

import plugin  # the host's own module called "plugin": the addon must not collide with it

db = SQLAlchemy(metadata=Model.metadata)
migrate = Migrate()
assert plugin.HOST_OWNS_THIS


class Contact(Model):
    """The host's own model."""

    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class ContactModelView(ModelView):
    """The host's own model view."""

    datamodel = SQLAInterface(Contact)
    list_columns = ["name"]


class ContactApi(ModelRestApi):
    """The host's own REST API."""

    resource_name = "contact"
    datamodel = SQLAInterface(Contact)


def create_app() -> Flask:
    """The host: FAB's defaults, the plugin switched on by ADDON_MANAGERS and its two required settings."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["HOST_SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=os.environ["HOST_DATABASE_URL"],
        ADDON_MANAGERS=["msphub_psa.addon.ConnectWiseAddon"],
        PSA_ENCRYPTION_KEYS=os.environ["HOST_FERNET_KEY"],
        REDIS_URL=os.environ["HOST_REDIS_URL"],
        PSA_QUEUE_PREFIX=os.environ["HOST_QUEUE_PREFIX"],
        PSA_CW_ALLOW_LOOPBACK_HTTP=True,  # the sandbox on 127.0.0.1 stands in for ConnectWise
        PSA_CW_LOOPBACK_PORTS=os.environ["HOST_SANDBOX_PORT"],  # on its port only
        PSA_ENV="test",
        FAB_API_SWAGGER_UI=True,
    )
    db.init_app(app)
    migrate.init_app(app, db)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        appbuilder.add_view(ContactModelView, "Contacts", category="Contacts")
        appbuilder.add_api(ContactApi)
    return app
