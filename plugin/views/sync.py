"""PSA Integration > Billing Sync: Sync now with live progress, the run history, a run's failed rows, alerts."""

from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.commands.billing.status import SyncRunDetailCommand
from msphub_psa.tenancy import partner_scope


class SyncHistoryView(BaseView):
    """The pages; their lists and actions come from the REST API (``/api/v1/psa_sync/``, same commands)."""

    route_base = "/psa/sync"
    default_view = "index"
    class_permission_name = permissions.SYNC
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """The run history (active integration required)."""
        actor, partner_id = partner_scope(need="active")
        return self.render_template(
            "psa/sync_history.html",
            partner=partner_record(partner_id),
            run=None,
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),
        )

    @expose("/runs/<psa_id:run_id>")
    @has_access
    def run_page(self, run_id: int):
        """One run: its figures and the rows that failed in it (another partner's run is 404)."""
        actor, partner_id = partner_scope(need="active")
        run = SyncRunDetailCommand(actor, run_id, partner_id).run()
        return self.render_template(
            "psa/sync_history.html",
            partner=partner_record(partner_id),
            run=run,
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),
        )
