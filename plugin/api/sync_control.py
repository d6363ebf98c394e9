"""REST: billing sync control under ``/api/v1/psa_sync/`` (preview, prepared previews, approval, settings)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.billing.preview import (
    ApprovePreviewCommand,
    DiscardPreviewCommand,
    PreparePreviewCommand,
    PreviewCommand,
    PreviewDetailCommand,
)
from msphub_psa.commands.billing.settings import SyncSettingsCommand, UpdateSyncSettingsCommand
from msphub_psa.schemas.sync_control import (
    ApproveSchema,
    PreviewArgsSchema,
    PreviewOutSchema,
    SyncSettingsOutSchema,
    SyncSettingsSchema,
)
from msphub_psa.tenancy import partner_scope

_PAGING = """
          - {in: query, name: page, schema: {type: integer, minimum: 1, maximum: 100000}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 200}, description: groups/page}
          - {in: query, name: lines, schema: {type: integer, minimum: 0, maximum: 500}, description: lines per group}"""


def _doc(func):
    """Expand the shared paging parameters in an endpoint's OpenAPI docstring."""
    func.__doc__ = func.__doc__.replace("          - PAGING", _PAGING.strip("\n"))
    return func


class SyncControlApi(PsaApi):
    """What a push would do, prepared previews and their approval, the partner's sync settings."""

    resource_name = "psa_sync"
    class_permission_name = permissions.SYNC
    openapi_spec_tag = "Billing sync control"
    openapi_spec_component_schemas = (ApproveSchema, PreviewOutSchema, SyncSettingsSchema, SyncSettingsOutSchema)

    @expose("/preview", methods=["GET"])
    @protect()
    @_doc
    def preview(self):
        """What a push would create now (dry run: nothing is written; reads ConnectWise's catalog).
        ---
        get:
          parameters:
          - PAGING
          responses:
            200:
              description: Totals, one page of customer/agreement groups with lines, catalog plan, look-ups
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/PreviewOutSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(PreviewArgsSchema(), request.args.to_dict())
        return self.response(200, **PreviewCommand(actor, partner_id, **args).run())

    @expose("/previews", methods=["POST"])
    @protect()
    def prepare_preview(self):
        """Prepare a preview awaiting approval (a newer one expires the previous); nothing to push: id null.
        ---
        post:
          responses:
            201:
              description: The prepared preview (first page), or id null when nothing would be pushed
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/PreviewOutSchema'}
            403: {$ref: '#/components/responses/403'}
            409: {$ref: '#/components/responses/409'}
        """
        actor, partner_id = partner_scope(need="active")
        preview_id = PreparePreviewCommand(actor, partner_id).run()
        if preview_id is None:
            return self.response(201, **PreviewCommand(actor, partner_id, page_size=1, lines=0).run())
        return self.response(201, **PreviewDetailCommand(actor, preview_id, partner_id).run())

    @expose("/previews/<psa_id:preview_id>", methods=["GET"])
    @protect()
    @_doc
    def preview_detail(self, preview_id: int):
        """A prepared preview: status, who prepared and decided it, totals, a page of groups with lines.
        ---
        get:
          parameters:
          - {in: path, name: preview_id, required: true, schema: {type: integer}}
          - PAGING
          responses:
            200:
              description: The preview
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/PreviewOutSchema'}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(PreviewArgsSchema(), request.args.to_dict())
        return self.response(200, **PreviewDetailCommand(actor, preview_id, partner_id, **args).run())

    @expose("/previews/<psa_id:preview_id>/approve", methods=["POST"])
    @protect()
    def approve_preview(self, preview_id: int):
        """Approve a preview (all, or ``agreement_ids``): push exactly those of its transactions still eligible.
        ---
        post:
          parameters:
          - {in: path, name: preview_id, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ApproveSchema'}
          responses:
            202:
              description: '{job_id, preview_id, transactions}'
              content:
                application/json:
                  schema:
                    type: object
                    properties: {job_id: {type: string}, preview_id: {type: integer}, transactions: {type: integer}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(ApproveSchema(), request.get_json(silent=True) or {})
        return self.response(202, **ApprovePreviewCommand(actor, preview_id, partner_id, args["agreement_ids"]).run())

    @expose("/previews/<psa_id:preview_id>/discard", methods=["POST"])
    @protect()
    def discard_preview(self, preview_id: int):
        """Discard a preview awaiting approval (nothing of it is pushed).
        ---
        post:
          parameters:
          - {in: path, name: preview_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: '{id, status}'
              content:
                application/json:
                  schema: {type: object, properties: {id: {type: integer}, status: {type: string}}}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **DiscardPreviewCommand(actor, preview_id, partner_id).run())

    @expose("/settings", methods=["GET"])
    @protect()
    def get_settings(self):
        """The partner's sync settings: schedule, approval, ConnectWise request limit.
        ---
        get:
          responses:
            200:
              description: The settings
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncSettingsOutSchema'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncSettingsCommand(actor, partner_id).run())

    @expose("/settings", methods=["PUT"])
    @protect()
    def put_settings(self):
        """Change some sync settings (bad input: 400, nothing saved).
        ---
        put:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/SyncSettingsSchema'}
          responses:
            200:
              description: The new settings
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncSettingsOutSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        values = load(SyncSettingsSchema(), request.get_json(silent=True) or {}, "Please check the sync settings.")
        return self.response(200, **UpdateSyncSettingsCommand(actor, values, partner_id).run())
