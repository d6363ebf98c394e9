"""REST: the distributor's per-partner feature toggle."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.feature import ListPartnerFeaturesCommand, SetPartnerFeatureCommand
from msphub_psa.schemas.feature import FeaturePutSchema, FeatureSchema
from msphub_psa.tenancy import require_actor


def _row(partner, toggle) -> dict:
    """Serialise one partner's toggle."""
    return FeatureSchema().dump(
        {
            "partner_id": partner.id,
            "partner_name": partner.name,
            "enabled": bool(toggle and toggle.enabled),
            "changed_at": toggle.changed_at if toggle else None,
        }
    )


class FeatureApi(PsaApi):
    """Enable the ConnectWise integration for chosen partners of a distributor."""

    resource_name = "psa_features"
    class_permission_name = permissions.FEATURE
    openapi_spec_tag = "Feature toggle"
    openapi_spec_component_schemas = (FeaturePutSchema, FeatureSchema)

    @expose("/", methods=["GET"])
    @protect()
    def get_list(self):
        """List the partners of your distributor with their toggle.
        ---
        get:
          responses:
            200:
              description: Partners and toggles
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        type: array
                        items: {$ref: '#/components/schemas/FeatureSchema'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
        """
        rows = ListPartnerFeaturesCommand(require_actor()).run()
        return self.response(200, result=[_row(partner, toggle) for partner, toggle in rows])

    @expose("/<psa_id:partner_id>", methods=["PUT"])
    @protect()
    def put(self, partner_id: int):
        """Enable or disable the integration for one partner.
        ---
        put:
          parameters:
          - in: path
            name: partner_id
            schema: {type: integer}
            required: true
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/FeaturePutSchema'}
          responses:
            200:
              description: The new state
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/FeatureSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        body = load(FeaturePutSchema(), request.get_json(silent=True))
        row = SetPartnerFeatureCommand(require_actor(), partner_id, body["enabled"]).run()
        return self.response(200, **_row(row.partner, row))
