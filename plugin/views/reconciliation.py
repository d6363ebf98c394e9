"""PSA Integration > Reconciliation Center: indicators, Customers tab, Products / Subscriptions tab."""
from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.reconciliation import PERIODS
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.views.guards import partner_scope


class ReconciliationView(BaseView):
    """The page; its lists and actions are loaded from the REST API (same commands)."""

    route_base = "/psa/reconciliation"
    default_view = "index"
    class_permission_name = permissions.RECONCILIATION
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the page shell (active integration required)."""
        from msphub_psa.commands.billing.preview import awaiting_json  # sync control (issue 9): the approval banner

        actor, partner_id = partner_scope(need="active")
        return self.render_template(
            "psa/reconciliation.html", partner=PartnerDAO.find_by_id(partner_id), periods=PERIODS,
            can_write=actor.can(permissions.WRITE, permissions.RECONCILIATION),
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),  # billing sync widget (issue 9)
            awaiting_approval=awaiting_json(partner_id),
        )
