"""PSA Integration > Billing Sync: Sync now with live progress, the run history, a run's failed rows, alerts."""

from __future__ import annotations

from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.billing.status import SyncRunDetailCommand
from msphub_psa.views.base import PartnerPage


class SyncHistoryView(PartnerPage):
    """The pages; their lists and actions come from the REST API (``/api/v1/psa_sync/``, same commands)."""

    route_base = "/psa/sync"
    class_permission_name = permissions.SYNC
    template = "psa/sync_history.html"

    def context(self, actor, partner_id, run_id=None, **values):
        return {"run": None if run_id is None else SyncRunDetailCommand(actor, run_id, partner_id).run()}

    @expose("/")
    @has_access
    def index(self):
        """The run history (active integration required)."""
        return self.page()

    @expose("/runs/<psa_id:run_id>")
    @has_access
    def run_page(self, run_id: int):
        """One run: its figures and the rows that failed in it (another partner's run is 404)."""
        return self.page(run_id=run_id)
