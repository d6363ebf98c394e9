"""The Flask-AppBuilder addon manager: one config line switches the plugin on.

``pre_process`` sets defaults and roles, ``register_views`` adds pages, APIs and
menus, ``post_process`` wires error handling, headers, the CLI and the RQ
dashboard. Nothing here creates an app or a database connection.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app
from flask_appbuilder.basemanager import BaseManager

from plugin import permissions
from plugin.api.features import FeatureApi
from plugin.api.health import HealthApi
from plugin.api.integration import IntegrationApi
from plugin.api.reconciliation import ReconciliationApi
from plugin.api.sync import SyncApi
from plugin.api.rules import RulesApi
from plugin.views import console
from plugin.views.features import PartnerFeaturesView
from plugin.views.organization import MyOrganizationView, PsaHomeView
from plugin.views.reconciliation import ReconciliationView
from plugin.views.rules import ProductDefaultsView
from plugin.web import install_web_hooks, make_menu_conditional, psa_menu_visible

log = logging.getLogger(__name__)

DEFAULTS = {
    "PSA_QUEUE_PREFIX": "psa",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PSA_CW_ALLOW_LOOPBACK_HTTP": False,
    "PSA_CW_ALLOWED_HOSTS": "",
    "PSA_ENV": "production",
    "PSA_ALERT_EMAIL_HOOK": "plugin.alerts:log_alert_email",
    "PSA_ALERT_EMAIL_TO": "",
}


class ConnectWiseAddon(BaseManager):
    """Registers the ConnectWise integration in a FAB application."""

    def pre_process(self) -> None:
        """Config defaults, builtin roles, conditional menus and the plugin's blueprint."""
        for key, value in DEFAULTS.items():
            current_app.config.setdefault(key, value)
        self.appbuilder.sm.builtin_roles.update(
            {role: [list(pair) for pair in pairs] for role, pairs in permissions.ROLES.items()}
        )
        make_menu_conditional(self.appbuilder.menu)
        from plugin.api.base import install_id_converter  # Operations (issue 10): <psa_id:...> route ids

        install_id_converter(current_app)
        current_app.register_blueprint(Blueprint(
            "psa", __name__, template_folder="templates", static_folder="static/psa",
            static_url_path="/psa/static",  # not under the host's /static/<path> (it would shadow it)
        ))

    def register_views(self) -> None:
        """Pages, console views, APIs and the menu."""
        ab = self.appbuilder
        ab.add_view(MyOrganizationView, permissions.MENU_MY_ORG, icon="fa-id-card",
                    category="My Account", category_icon="fa-user")
        ab.add_view(PsaHomeView, "Overview", icon="fa-plug", category=permissions.MENU_PSA,
                    category_icon="fa-plug", menu_cond=psa_menu_visible)
        ab.add_view(PartnerFeaturesView, permissions.MENU_PARTNER_FEATURES, icon="fa-toggle-on",
                    category=permissions.MENU_DISTRIBUTOR, category_icon="fa-building")
        for view, name, category, icon in console.CONSOLE_VIEWS:
            ab.add_view(view, name, icon=icon, category=category)
        ab.add_link("RQ Dashboard", href="/psa/rq/", icon="fa-tasks", category="Console")
        ab.add_api(FeatureApi)
        ab.add_api(HealthApi)
        ab.add_api(IntegrationApi)
        # Reconciliation Center (issue 6)
        ab.add_view(ReconciliationView, permissions.MENU_RECONCILIATION, icon="fa-exchange",
                    category=permissions.MENU_PSA, menu_cond=psa_menu_visible)
        ab.add_api(ReconciliationApi)
        # Configure Product Defaults (issue 5)
        ab.add_view(ProductDefaultsView, permissions.MENU_PRODUCT_DEFAULTS, icon="fa-tags",
                    category=permissions.MENU_PSA, menu_cond=psa_menu_visible)
        ab.add_api(RulesApi)
        # Operations (issue 10): the audit log's API (list and CSV export)
        from plugin.api.audit import AuditApi

        ab.add_api(AuditApi)
        # Billing push
        ab.add_api(SyncApi)
        from plugin.views.sync import SyncHistoryView  # issue 9: Sync now, progress, run history, alerts

        ab.add_view(SyncHistoryView, permissions.MENU_SYNC, icon="fa-cloud-upload", category=permissions.MENU_PSA,
                    menu_cond=psa_menu_visible)
        # Billing sync control (issue 9, part A): preview, approval, schedule, settings
        from plugin.api.sync_control import SyncControlApi
        from plugin.views.sync_control import SyncPreviewView, SyncSettingsView

        ab.add_api(SyncControlApi)
        ab.add_view(SyncPreviewView, permissions.MENU_SYNC_PREVIEW, icon="fa-eye",
                    category=permissions.MENU_PSA, menu_cond=psa_menu_visible)
        ab.add_view(SyncSettingsView, permissions.MENU_SYNC_SETTINGS, icon="fa-clock-o",
                    category=permissions.MENU_PSA, menu_cond=psa_menu_visible)
        ab.menu.find(permissions.MENU_PSA).cond = psa_menu_visible

    def post_process(self) -> None:
        """Error pages, security headers, the `flask psa` CLI and the RQ dashboard."""
        from plugin.cli import psa_cli

        install_web_hooks(current_app)
        # Operations (issue 10): the login rate limit also covers the JWT login API
        from plugin.loginlimit import limit_api_login

        limit_api_login(self.appbuilder)
        from plugin.api.base import install_json_api_errors

        install_json_api_errors(current_app)
        from plugin.api.base import install_data_error_handler

        install_data_error_handler(current_app)
        if "psa" not in current_app.cli.commands:
            current_app.cli.add_command(psa_cli)
