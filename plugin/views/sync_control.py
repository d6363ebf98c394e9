"""PSA Integration > Billing Sync Preview and Sync Settings: the pages (their actions call /api/v1/psa_sync/)."""

from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.commands.billing.preview import awaiting_json, require_preview
from msphub_psa.commands.billing.settings import SyncSettingsCommand
from msphub_psa.schemas.base import int_arg
from msphub_psa.tenancy import partner_scope


class SyncPreviewView(BaseView):
    """What a push would do, the preview awaiting approval, Push selected / Approve / Discard."""

    route_base = "/psa/sync/preview"
    default_view = "index"
    class_permission_name = permissions.SYNC
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the page shell (active integration required); ``?preview=<id>`` opens that preview."""
        actor, partner_id = partner_scope(need="active")
        settings = SyncSettingsCommand(actor, partner_id).run()
        awaiting = awaiting_json(partner_id)
        preview_id = int_arg(request.args, "preview")
        if preview_id is not None:
            require_preview(partner_id, preview_id)
        partner = partner_record(partner_id)
        return self.render_template(
            "psa/sync_preview.html",
            partner=partner,
            settings=settings,
            awaiting=awaiting,
            preview_id=preview_id or (awaiting or {}).get("id"),
            can_write=actor.can(permissions.WRITE, permissions.SYNC),
        )


class SyncSettingsView(BaseView):
    """Schedule, approval before each push, the ConnectWise request limit."""

    route_base = "/psa/sync/settings"
    default_view = "index"
    class_permission_name = permissions.SYNC
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the form with the current settings (Save calls PUT /api/v1/psa_sync/settings)."""
        actor, partner_id = partner_scope(need="active")
        settings = SyncSettingsCommand(actor, partner_id).run()
        return self.render_template(
            "psa/sync_settings.html",
            partner=partner_record(partner_id),
            settings=settings,
            weekdays=[
                ("mon", "Mon"),
                ("tue", "Tue"),
                ("wed", "Wed"),
                ("thu", "Thu"),
                ("fri", "Fri"),
                ("sat", "Sat"),
                ("sun", "Sun"),
            ],
            can_write=actor.can(permissions.WRITE, permissions.SYNC),
        )
