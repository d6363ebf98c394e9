"""The distributor's Partner Features page: turn the integration on or off per partner."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import partner_record
from msphub_psa.commands.feature import ListPartnerFeaturesCommand, SetPartnerFeatureCommand
from msphub_psa.tenancy import require_actor


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
        command = ListPartnerFeaturesCommand(actor)
        rows = command.run()
        partners = [partner for partner, _toggle in rows]
        return self.render_template(
            "psa/partner_features.html",
            partners=partners,
            toggles={partner.id: toggle for partner, toggle in rows if toggle is not None},
            statuses=command.statuses([p.id for p in partners]),
            can_write=actor.can(permissions.WRITE, permissions.FEATURE) and actor.partner_id is None,
        )

    @expose("/<psa_id:partner_id>", methods=["POST"])
    @has_access
    def write(self, partner_id: int):
        """Enable or disable one partner's integration, then come back to the list."""
        enabled = request.form.get("enabled") == "1"
        SetPartnerFeatureCommand(require_actor(), partner_id, enabled).run()
        partner = partner_record(partner_id)
        flash(f"ConnectWise integration {'enabled' if enabled else 'disabled'} for {partner.name}.", "success")
        return redirect(url_for("PartnerFeaturesView.index"))
