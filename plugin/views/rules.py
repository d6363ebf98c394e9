"""PSA Integration > Configure Product Defaults: the page (its actions go through the REST API)."""

from __future__ import annotations

import logging

from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from redis.exceptions import RedisError

from msphub_psa import permissions
from msphub_psa.commands.rules.lists import RequestListsRefreshCommand
from msphub_psa.commands.rules.overview import RulesOverviewCommand
from msphub_psa.domain import rules as engine
from msphub_psa.schemas.rules import dump_overview
from msphub_psa.views.base import PartnerPage

log = logging.getLogger(__name__)


def first_refresh(actor, overview) -> None:
    """Queue the first refresh of the ConnectWise lists (the page never waits for it)."""
    if overview.refresh is not None and overview.refresh.status != "never":
        return
    try:
        overview.refresh = RequestListsRefreshCommand(actor, overview.partner_id, permissions.READ).run()
    except RedisError as err:
        log.warning("could not queue the first ConnectWise lists refresh: %s", type(err).__name__)


class ProductDefaultsView(PartnerPage):
    """Default rule, custom rules with counts, editor with preview, Matching Products window."""

    route_base = "/psa/product-defaults"
    class_permission_name = permissions.RULES
    template = "psa/product_defaults.html"

    def context(self, actor, partner_id, **values):
        overview = RulesOverviewCommand(actor, partner_id).run()
        first_refresh(actor, overview)
        return {"data": dump_overview(overview), "fields": engine.FIELD_LABELS, "operators": engine.OPERATOR_LABELS}

    @expose("/")
    @has_access
    def index(self):
        """Render the page with its data (actions call /api/v1/psa_rules/)."""
        return self.page()
