"""The distributor's Partner Features page: turn the integration on or off per partner."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.feature import SetPartnerFeatureCommand
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.views.guards import require_actor


class PartnerFeaturesView(BaseView):
    """List the distributor's partners with their ConnectWise toggle."""

    route_base = "/psa/partner-features"
    default_view = "index"
    class_permission_name = permissions.FEATURE
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the partners and their toggles."""
        actor = require_actor()
        partners = PartnerDAO.list_for_distributor(None if actor.is_admin else actor.distributor_id or -1)
        toggles = PartnerFeatureDAO.enabled_map([p.id for p in partners])
        integrations = {p.id: IntegrationDAO.for_partner(p.id) for p in partners}  # what a Disable would stop
        return self.render_template(
            "psa/partner_features.html", partners=partners, toggles=toggles,
            statuses={pid: row.status if row else None for pid, row in integrations.items()},
            can_write=actor.can(permissions.WRITE, permissions.FEATURE) and actor.partner_id is None,
        )

    @expose("/<psa_id:partner_id>", methods=["POST"])
    @has_access
    def write(self, partner_id: int):
        """Enable or disable one partner's integration, then come back to the list."""
        enabled = request.form.get("enabled") == "1"
        SetPartnerFeatureCommand(require_actor(), partner_id, enabled).run()
        partner = PartnerDAO.find_by_id(partner_id)
        flash(f"ConnectWise integration {'enabled' if enabled else 'disabled'} for {partner.name}.", "success")
        return redirect(url_for("PartnerFeaturesView.index"))
