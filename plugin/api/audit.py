"""REST: the audit log (Admin: every tenant; partner users: their own), as JSON pages or CSV."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import clock, permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.audit import AuditListCommand, ExportAuditCommand
from msphub_psa.schemas.audit import AuditEventSchema, AuditFilterSchema, AuditListArgsSchema, AuditPageSchema
from msphub_psa.tenancy import require_actor

_FILTER_PARAMS = """
          - {in: query, name: username, schema: {type: string, maxLength: 100}}
          - {in: query, name: action, schema: {type: string, maxLength: 60}, description: "exact, or a prefix ending in *"}
          - {in: query, name: object_type, schema: {type: string, maxLength: 60}}
          - {in: query, name: object_id, schema: {type: string, maxLength: 60}}
          - {in: query, name: outcome, schema: {type: string, enum: [ok, refused, failed]}}
          - {in: query, name: since, schema: {type: string}, description: "ISO date or date-time (UTC unless offset)"}
          - {in: query, name: until, schema: {type: string}, description: "ISO date or date-time, exclusive"}
          - {in: query, name: partner_id, schema: {type: integer}, description: "Admin: one partner"}"""


class AuditApi(PsaApi):
    """Who did what to which record, when, and the outcome."""

    resource_name = "psa_audit"
    class_permission_name = permissions.AUDIT
    openapi_spec_tag = "Audit log"
    openapi_spec_component_schemas = (AuditEventSchema, AuditPageSchema)

    @expose("/", methods=["GET"])
    @protect()
    def get_list(self):
        """A page of audit events, newest first, filtered.
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 500}}
          @FILTERS@
          responses:
            200:
              description: The page
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/AuditPageSchema'}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        args = load(AuditListArgsSchema(), request.args)
        page, page_size = args.pop("page"), args.pop("page_size")
        total, rows = AuditListCommand(require_actor(), args, page, page_size).run()
        return self.response(
            200, **AuditPageSchema().dump({"count": total, "page": page, "page_size": page_size, "result": rows})
        )

    @expose("/export", methods=["GET"])
    @protect()
    def export(self):
        """The filtered audit log as CSV (streamed, oldest first; detail as JSON).
        ---
        get:
          parameters:
          @FILTERS@
          responses:
            200:
              description: "CSV: id, at, username, partner_id, distributor_id, action, object_type, object_id, outcome, detail"
              content:
                text/csv:
                  schema: {type: string}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        lines = ExportAuditCommand(require_actor(), load(AuditFilterSchema(), request.args)).run()
        name = f"audit-{clock.now():%Y%m%dT%H%M%SZ}.csv"
        return Response(
            stream_with_context(lines),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    get_list.__doc__ = get_list.__doc__.replace("\n          @FILTERS@", _FILTER_PARAMS)
    export.__doc__ = export.__doc__.replace("\n          @FILTERS@", _FILTER_PARAMS)
