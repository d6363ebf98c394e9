"""PSA Integration > Billing Sync Preview and Sync Settings: the pages (their actions call /api/v1/psa_sync/)."""

from __future__ import annotations

from flask import request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.billing.preview import awaiting_json, require_preview
from msphub_psa.commands.billing.settings import SyncSettingsCommand
from msphub_psa.schemas.base import int_arg
from msphub_psa.views.base import PartnerPage

WEEKDAYS = [(day.lower(), day) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]


class SyncPreviewView(PartnerPage):
    """What a push would do, the preview awaiting approval, Push selected / Approve / Discard."""

    route_base = "/psa/sync/preview"
    class_permission_name = permissions.SYNC
    template = "psa/sync_preview.html"

    def context(self, actor, partner_id, **values):
        awaiting = awaiting_json(partner_id)
        preview_id = int_arg(request.args, "preview")
        if preview_id is not None:
            require_preview(partner_id, preview_id)
        return {
            "settings": SyncSettingsCommand(actor, partner_id).run(),
            "awaiting": awaiting,
            "preview_id": preview_id or (awaiting or {}).get("id"),
        }

    @expose("/")
    @has_access
    def index(self):
        """Render the page shell (active integration required); ``?preview=<id>`` opens that preview."""
        return self.page()


class SyncSettingsView(PartnerPage):
    """Schedule, approval before each push, the ConnectWise request limit."""

    route_base = "/psa/sync/settings"
    class_permission_name = permissions.SYNC
    template = "psa/sync_settings.html"

    def context(self, actor, partner_id, **values):
        return {"settings": SyncSettingsCommand(actor, partner_id).run(), "weekdays": WEEKDAYS}

    @expose("/")
    @has_access
    def index(self):
        """Render the form with the current settings (Save calls PUT /api/v1/psa_sync/settings)."""
        return self.page()
