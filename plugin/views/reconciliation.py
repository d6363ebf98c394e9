"""PSA Integration > Reconciliation Center: indicators, Customers tab, Products / Subscriptions tab."""

from __future__ import annotations

from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.billing.preview import awaiting_json
from msphub_psa.commands.reconciliation import PERIODS
from msphub_psa.views.base import PartnerPage


class ReconciliationView(PartnerPage):
    """The page; its lists and actions are loaded from the REST API (same commands)."""

    route_base = "/psa/reconciliation"
    class_permission_name = permissions.RECONCILIATION
    template = "psa/reconciliation.html"

    def context(self, actor, partner_id, **values):
        return {"periods": PERIODS, "awaiting_approval": awaiting_json(partner_id)}  # the approval banner

    @expose("/")
    @has_access
    def index(self):
        """Render the page shell (active integration required)."""
        return self.page()
