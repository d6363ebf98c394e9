"""My Account > My Organization, with its Integrations tab and the ConnectWise card; the PSA overview."""

from __future__ import annotations

from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access

from msphub_psa import permissions
from msphub_psa.commands.access import feature_enabled
from msphub_psa.commands.integration_status import IntegrationStatusCommand
from msphub_psa.schemas.integration import HELP
from msphub_psa.views.base import PartnerPage


class MyOrganizationView(PartnerPage):
    """The partner's organization page; the ConnectWise card shows only while the feature is on."""

    route_base = "/psa/my-organization"
    class_permission_name = permissions.INTEGRATION
    need = None
    template = "psa/my_organization.html"

    def context(self, actor, partner_id, **values):
        feature_on = feature_enabled(partner_id)
        state = IntegrationStatusCommand(actor, partner_id).run() if feature_on else None
        return {"feature_on": feature_on, "state": state, "help": HELP}

    @expose("/")
    @has_access
    def index(self):
        """Render the page with the Integrations tab."""
        return self.page()


class PsaHomeView(PartnerPage):
    """PSA Integration overview; exists only while the feature is on and the integration active."""

    route_base = "/psa"
    class_permission_name = permissions.INTEGRATION
    template = "psa/psa_home.html"

    def context(self, actor, partner_id, **values):
        return {"state": IntegrationStatusCommand(actor, partner_id).run()}

    @expose("/")
    @has_access
    def index(self):
        """Render the overview with links to the PSA pages."""
        return self.page()
