"""The Flask-AppBuilder addon manager: one config line switches the plugin on.

``ADDON_MANAGERS = ["msphub_psa.addon.ConnectWiseAddon"]``. Creating the manager reads the plugin's
settings from ``app.config`` (a missing or invalid one stops the host's start-up: FAB only logs errors
raised later); ``pre_process`` declares the roles and the conditional menu, ``register_views`` adds the
pages, console views and APIs, ``post_process`` wires errors, CSRF, headers, the CLI and the RQ dashboard.
Nothing here creates an app or a database connection.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from flask_appbuilder.basemanager import BaseManager

from msphub_psa import permissions
from msphub_psa.api.audit import AuditApi
from msphub_psa.api.base import install_data_error_handler, install_id_converter, install_json_api_errors
from msphub_psa.api.features import FeatureApi
from msphub_psa.api.health import HealthApi
from msphub_psa.api.integration import IntegrationApi
from msphub_psa.api.reconciliation import ReconciliationApi
from msphub_psa.api.rules import RulesApi
from msphub_psa.api.sync import SyncApi
from msphub_psa.api.sync_control import SyncControlApi
from msphub_psa.cli import psa_cli
from msphub_psa.hardening import install_request_limits
from msphub_psa.loginlimit import limit_api_login
from msphub_psa.settings import install as install_settings
from msphub_psa.settings import settings
from msphub_psa.views import console
from msphub_psa.views.features import PartnerFeaturesView
from msphub_psa.views.organization import MyOrganizationView, PsaHomeView
from msphub_psa.views.reconciliation import ReconciliationView
from msphub_psa.views.rules import ProductDefaultsView
from msphub_psa.views.sync import SyncHistoryView
from msphub_psa.views.sync_control import SyncPreviewView, SyncSettingsView
from msphub_psa.web import (
    hide_empty_permission_menus,
    install_web_hooks,
    make_menu_conditional,
    partner_user_visible,
    psa_menu_visible,
)

log = logging.getLogger(__name__)

PSA_PAGES = [
    (PsaHomeView, "Overview", "fa-plug"),
    (ReconciliationView, permissions.MENU_RECONCILIATION, "fa-exchange"),
    (ProductDefaultsView, permissions.MENU_PRODUCT_DEFAULTS, "fa-tags"),
    (SyncHistoryView, permissions.MENU_SYNC, "fa-cloud-upload"),
    (SyncPreviewView, permissions.MENU_SYNC_PREVIEW, "fa-eye"),
    (SyncSettingsView, permissions.MENU_SYNC_SETTINGS, "fa-clock-o"),
]
APIS = [FeatureApi, HealthApi, IntegrationApi, ReconciliationApi, RulesApi, AuditApi, SyncApi, SyncControlApi]


class ConnectWiseAddon(BaseManager):
    """Registers the ConnectWise integration in a FAB application."""

    def __init__(self, appbuilder) -> None:
        """Read and check the settings: an error here stops the host (FAB logs and skips later errors).

        :raises SettingsError: naming the missing or invalid key.
        """
        super().__init__(appbuilder)
        install_settings(current_app)

    def pre_process(self) -> None:
        """Builtin roles, the conditional menu, route ids and the plugin's static files."""
        self.appbuilder.sm.builtin_roles.update(permissions.builtin_roles(settings()))
        make_menu_conditional(self.appbuilder.menu)
        install_id_converter(current_app)
        current_app.register_blueprint(
            Blueprint(
                "psa",
                __name__,
                template_folder="templates",
                static_folder="static/psa",
                static_url_path="/psa/static",  # not under the host's /static/<path> (it would shadow it)
            )
        )

    def register_views(self) -> None:
        """Pages, console views, APIs and the menu."""
        ab = self.appbuilder
        ab.add_view(
            MyOrganizationView,
            permissions.MENU_MY_ORG,
            icon="fa-id-card",
            category="My Account",
            category_icon="fa-user",
            menu_cond=partner_user_visible,
        )
        for view, name, icon in PSA_PAGES:
            ab.add_view(
                view,
                name,
                icon=icon,
                category=permissions.MENU_PSA,
                category_icon="fa-plug",
                menu_cond=psa_menu_visible,
            )
        ab.add_view(
            PartnerFeaturesView,
            permissions.MENU_PARTNER_FEATURES,
            icon="fa-toggle-on",
            category=permissions.MENU_DISTRIBUTOR,
            category_icon="fa-building",
        )
        for view, name, category, icon in console.console_views(settings().console_marketplace_writes):
            ab.add_view(view, name, icon=icon, category=category)
        ab.add_link("RQ Dashboard", href="/psa/rq/", icon="fa-tasks", category="Console")
        for api in APIS:
            ab.add_api(api)
        ab.menu.find(permissions.MENU_PSA).cond = psa_menu_visible
        hide_empty_permission_menus(ab)  # FAB's permission lists are empty with builtin roles

    def post_process(self) -> None:
        """Error pages, CSRF and security headers on the plugin's routes, the `flask psa` CLI, the RQ dashboard."""
        install_request_limits(current_app, settings())
        install_web_hooks(current_app)
        limit_api_login(self.appbuilder)
        install_json_api_errors(current_app)
        install_data_error_handler(current_app)
        if "psa" not in current_app.cli.commands:
            current_app.cli.add_command(psa_cli)
