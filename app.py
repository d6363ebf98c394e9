"""MSP Hub stand-in: the host Flask-AppBuilder application that loads the plugin.

The plugin is switched on by ``ADDON_MANAGERS`` in ``config.py``; nothing in
``plugin/`` imports this module. Run ``flask --app app ...``.
"""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder, Model
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

import config
from msphub_psa.logs import configure_logging

db = SQLAlchemy(metadata=Model.metadata)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()


def create_app(overrides: dict | None = None) -> Flask:
    """Build the host application; ``overrides`` win over the environment."""
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR))
    app.config.update(config.build())
    app.config.update(overrides or {})
    configure_logging(app.config.get("PSA_LOG_FORMAT", "text"), app.config.get("PSA_LOG_LEVEL", "INFO"))
    db.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(config.BASE_DIR / "migrations"))
    with app.app_context():
        AppBuilder(update_perms=False).init_app(app, db.session)
    return app
