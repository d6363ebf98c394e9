"""PSA Integration > Reconciliation Center: indicators, Customers tab, Products / Subscriptions tab."""

from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.commands.billing.preview import awaiting_json
from msphub_psa.commands.reconciliation import PERIODS
from msphub_psa.tenancy import partner_scope


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
        actor, partner_id = partner_scope(need="active")
        return self.render_template(
            "psa/reconciliation.html",
            partner=partner_record(partner_id),
            periods=PERIODS,
            can_write=actor.can(permissions.WRITE, permissions.RECONCILIATION),
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),  # billing sync widget
            awaiting_approval=awaiting_json(partner_id),  # the approval banner
        )
