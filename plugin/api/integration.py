"""REST: the partner's ConnectWise integration card (status, activate, edit, deactivate)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.integration import (
    ActivateIntegrationCommand,
    CredentialsInput,
    DeactivateIntegrationCommand,
    EditIntegrationCommand,
)
from msphub_psa.commands.integration_status import IntegrationStatusCommand
from msphub_psa.schemas.base import int_arg
from msphub_psa.schemas.integration import IntegrationSavedSchema, IntegrationSaveSchema, IntegrationStatusSchema
from msphub_psa.tenancy import require_actor


def requested_partner() -> int | None:
    """The ``partner_id`` query argument (Admin), or None.

    :raises InvalidInputError: when it is not an integer.
    """
    return int_arg(request.args, "partner_id")


def load_values() -> CredentialsInput:
    """The JSON body as credentials.

    :raises InvalidInputError: a malformed body (field -> messages).
    """
    body = load(
        IntegrationSaveSchema(),
        request.get_json(silent=True),
        "Please correct the highlighted fields; nothing was saved.",
    )
    return CredentialsInput(**body)


class IntegrationApi(PsaApi):
    """The ConnectWise integration of the caller's partner: the card's actions as endpoints."""

    resource_name = "psa_integration"
    class_permission_name = permissions.INTEGRATION
    openapi_spec_tag = "ConnectWise integration"
    openapi_spec_component_schemas = (IntegrationSaveSchema, IntegrationSavedSchema, IntegrationStatusSchema)

    def _saved(self, result) -> dict:
        """The save's answer with the card's new state."""
        state = IntegrationStatusCommand(require_actor(), requested_partner()).run()
        return {
            "integration_id": result.integration_id,
            "job_id": result.job_id,
            "created": result.created,
            "status": IntegrationStatusSchema().dump(state),
        }

    @expose("/", methods=["GET"])
    @protect()
    def status(self):
        """The card's state: status, activated by/at, validation running or its outcome (poll this).
        ---
        get:
          parameters:
          - {in: query, name: partner_id, schema: {type: integer}, required: false}
          responses:
            200:
              description: The card's state
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/IntegrationStatusSchema'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        state = IntegrationStatusCommand(require_actor(), requested_partner()).run()
        return self.response(200, **IntegrationStatusSchema().dump(state))

    @expose("/activate", methods=["POST"])
    @protect()
    def activate(self):
        """Activate: store the details and enqueue their validation (one job per attempt).
        ---
        post:
          parameters:
          - {in: query, name: partner_id, schema: {type: integer}, required: false}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/IntegrationSaveSchema'}
          responses:
            202:
              description: Validation queued (or already running for the same values)
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/IntegrationSavedSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Already active, or a validation of other values is running}
            503: {description: The job queue does not answer; nothing was saved}
        """
        result = ActivateIntegrationCommand(require_actor(), load_values(), requested_partner()).run()
        return self.response(202, **self._saved(result))

    @expose("/", methods=["PUT"])
    @protect()
    def put(self):
        """Edit an active integration: the new values are validated before they replace the working ones.
        ---
        put:
          parameters:
          - {in: query, name: partner_id, schema: {type: integer}, required: false}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/IntegrationSaveSchema'}
          responses:
            202:
              description: Validation queued; the previous credentials stay in force until it succeeds
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/IntegrationSavedSchema'}
            400: {description: Bad values, a Client ID change, or a Company Name change}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Not active, or a validation of other values is running}
            503: {description: The job queue does not answer; nothing was saved}
        """
        result = EditIntegrationCommand(require_actor(), load_values(), requested_partner()).run()
        return self.response(202, **self._saved(result))

    @expose("/deactivate", methods=["POST"])
    @protect()
    def deactivate(self):
        """Deactivate: PSA pages and jobs stop; mappings and history are kept.
        ---
        post:
          parameters:
          - {in: query, name: partner_id, schema: {type: integer}, required: false}
          responses:
            200:
              description: The card's new state
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/IntegrationStatusSchema'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Not active}
        """
        actor = require_actor()
        DeactivateIntegrationCommand(actor, requested_partner()).run()
        return self.response(
            200, **IntegrationStatusSchema().dump(IntegrationStatusCommand(actor, requested_partner()).run())
        )
