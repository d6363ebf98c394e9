"""My Account > My Organization, with its Integrations tab and the ConnectWise card."""

from __future__ import annotations

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import feature_enabled, partner_record
from msphub_psa.commands.integration_status import IntegrationStatusCommand
from msphub_psa.schemas.integration import HELP
from msphub_psa.tenancy import partner_scope


class MyOrganizationView(BaseView):
    """The partner's organization page; the ConnectWise card shows only while the feature is on."""

    route_base = "/psa/my-organization"
    default_view = "index"
    class_permission_name = permissions.INTEGRATION
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the page with the Integrations tab."""
        actor, partner_id = partner_scope()
        feature_on = feature_enabled(partner_id)
        return self.render_template(
            "psa/my_organization.html",
            partner=partner_record(partner_id),
            feature_on=feature_on,
            state=IntegrationStatusCommand(actor, partner_id).run() if feature_on else None,
            help=HELP,
            actor=actor,
            can_sync=actor.can(permissions.WRITE, permissions.SYNC),  # the card's billing sync widget
        )


class PsaHomeView(BaseView):
    """PSA Integration overview; exists only while the feature is on and the integration active."""

    route_base = "/psa"
    default_view = "index"
    class_permission_name = permissions.INTEGRATION
    method_permission_name = permissions.METHOD_PERMISSIONS

    @expose("/")
    @has_access
    def index(self):
        """Render the overview with links to the PSA pages."""
        actor, partner_id = partner_scope(need="active")
        return self.render_template(
            "psa/psa_home.html",
            partner=partner_record(partner_id),
            state=IntegrationStatusCommand(actor, partner_id).run(),
            actor=actor,
        )
