"""REST: the billing push (status, start a push, retry failed, one run, one outbox row)."""

from __future__ import annotations

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect
from marshmallow import Schema, fields, validate

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.billing.assurance_actions import (
    ACTIONS,
    CODES,
    STATUSES,
    FindingsCommand,
    ResolveFindingCommand,
    RunAssuranceCommand,
)
from msphub_psa.commands.billing.blocked import SyncCheckCommand
from msphub_psa.commands.billing.runs import (
    AcknowledgeRunAlertCommand,
    SyncProgressCommand,
    SyncRunFailuresCommand,
    SyncRunsCommand,
)
from msphub_psa.commands.billing.status import (
    RetryFailedCommand,
    RunPushCommand,
    SyncItemDetailCommand,
    SyncRunDetailCommand,
    SyncStatusCommand,
)
from msphub_psa.schemas import sync as sync_schemas
from msphub_psa.schemas.base import Integer, String
from msphub_psa.schemas.sync import RunPageArgsSchema
from msphub_psa.tenancy import partner_scope


class RetryFailedSchema(Schema):
    """``{"ids": [..]}`` for some rows, or nothing for all failed rows."""

    ids = fields.List(
        Integer(strict=True, validate=validate.Range(min=1)),
        load_default=None,
        validate=validate.Length(min=1, max=1000),
    )


class FindingsArgsSchema(Schema):
    """?code=&status=&page=&page_size= of the revenue assurance findings (code and status repeatable)."""

    code = fields.List(String(validate=validate.OneOf(CODES)), load_default=list)
    status = fields.List(String(validate=validate.OneOf(STATUSES)), load_default=None)
    page = Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ResolveFindingSchema(Schema):
    """``{"action": "recreate" | "accept" | "ignore", "reason": "..."}`` (a reason is required to ignore)."""

    action = String(required=True, validate=validate.OneOf(list(ACTIONS)))
    reason = String(load_default=None, multiline=True, validate=validate.Length(max=2000))


class SyncApi(PsaApi):
    """The signed-in partner user's billing push."""

    resource_name = "psa_sync"
    class_permission_name = permissions.SYNC
    openapi_spec_tag = "Billing push"
    openapi_spec_component_schemas = (
        RetryFailedSchema,
        FindingsArgsSchema,
        ResolveFindingSchema,
        *sync_schemas.COMPONENTS,
    )

    @expose("/assurance/run", methods=["POST"])
    @protect()
    def assurance_run(self):
        """Start a revenue assurance read-back (the job on the sync queue): every agreement holding our records is
        read back and compared with what was pushed.
        ---
        post:
          responses:
            202:
              description: '{job_id, created}'
              content:
                application/json:
                  schema: {type: object, properties: {job_id: {type: string}, created: {type: boolean}}}
            403: {$ref: '#/components/responses/403'}
            503: {description: The job queue does not answer}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(202, **RunAssuranceCommand(actor, partner_id).run())

    @expose("/assurance/findings", methods=["GET"])
    @protect()
    def assurance_findings(self):
        """Revenue assurance findings (default: open), largest money first, with the drift figure and the latest
        read-back.
        ---
        get:
          parameters:
          - {in: query, name: code, schema: {type: array, items: {type: string, enum: [missing, edited,
              moved_or_cancelled, double_billing, orphan]}}, explode: true}
          - {in: query, name: status, schema: {type: array, items: {type: string, enum: [open, recreating,
              recreated, accepted, ignored, cleared]}}, explode: true}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 500}}
          responses:
            200:
              description: '{drift: {records, amount, by_code}, latest_run, findings: [{id, code, status,
                agreement_remote_id, transaction_id, reference, record_id, sent, held, amount, detail, actions,
                resolved_by, resolved_at, reason}], total, page, page_size}'
              content:
                application/json:
                  schema: {type: object}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        raw = {key: request.args.getlist(key) for key in ("code", "status") if key in request.args}
        raw.update({key: request.args[key] for key in ("page", "page_size") if key in request.args})
        args = load(FindingsArgsSchema(), raw)
        command = FindingsCommand(actor, partner_id, args["code"], args["status"], args["page"], args["page_size"])
        return self.response(200, **command.run())

    @expose("/assurance/findings/<psa_id:finding_id>/resolve", methods=["POST"])
    @protect()
    def assurance_resolve(self, finding_id: int):
        """A person's decision on an open finding, audited: ``recreate`` (missing: the next push creates exactly one
        record with the same reference), ``accept`` (edited: ConnectWise's value stands, both kept), ``ignore``
        (with a reason). Nothing is written to a ConnectWise record.
        ---
        post:
          parameters:
          - {in: path, name: finding_id, required: true, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/ResolveFindingSchema'}
          responses:
            200:
              description: '{finding}: the finding after the decision'
              content:
                application/json:
                  schema: {type: object, properties: {finding: {type: object}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: The finding is already decided, or its record is no longer pushed}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(ResolveFindingSchema(), request.get_json(silent=True) or {})
        command = ResolveFindingCommand(actor, finding_id, args["action"], args["reason"], partner_id)
        return self.response(200, finding=command.run())

    @expose("/", methods=["GET"])
    @protect()
    def status(self):
        """Rows per state, whether a push runs, the latest runs, failed rows with reasons, refused products.
        ---
        get:
          responses:
            200:
              description: 'states, running, runs, failed, refused_products, progress (null when idle), queued, alert'
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      states: {type: object}
                      running: {type: boolean}
                      runs: {type: array, items: {$ref: '#/components/schemas/SyncRunSchema'}}
                      failed: {type: array, items: {type: object}}
                      refused_products: {type: array, items: {type: object}}
                      awaiting_approval: {type: object, nullable: true, description: the preview awaiting approval}
                      approval_required: {type: boolean}
                      next_run_at: {type: string, nullable: true, description: next scheduled run (UTC)}
                      progress: {allOf: [{$ref: '#/components/schemas/SyncProgressSchema'}], nullable: true}
                      queued: {type: boolean}
                      alert: {allOf: [{$ref: '#/components/schemas/SyncAlertSchema'}], nullable: true}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncStatusCommand(actor, partner_id).run().as_dict())

    @expose("/check", methods=["GET"])
    @protect()
    def check(self):
        """The rows the pre-flight checks blocked (what ConnectWise would refuse), grouped by cause, with the fix.
        ---
        get:
          description: >-
            What the last preview or push found (no ConnectWise call); the biggest cause first, at most 200 rows
            listed per cause (counts and amounts are complete). `flask psa sync check --partner <id> [--json]`.
          responses:
            200:
              description: 'total, amount, summary ("12 transactions blocked: 9 agreement cancelled in ConnectWise,
                3 catalog item inactive"), causes'
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      total: {type: integer}
                      amount: {type: string, description: net amount of the blocked rows}
                      summary: {type: string}
                      causes:
                        type: array
                        items:
                          type: object
                          properties:
                            code: {type: string}
                            cause: {type: string}
                            fix: {type: string}
                            count: {type: integer}
                            amount: {type: string}
                            rows: {type: array, items: {type: object}}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncCheckCommand(actor, partner_id).run())

    @expose("/run", methods=["POST"])
    @protect()
    def run_push(self):
        """Start a push now (a push waiting in the queue is joined); with approval required, prepare a preview.
        ---
        post:
          responses:
            202:
              description: '{job_id, created}; with approval required {job_id: null, created, awaiting_approval}'
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      job_id: {type: string, nullable: true}
                      created: {type: boolean}
                      awaiting_approval: {type: object, nullable: true}
            403: {$ref: '#/components/responses/403'}
            503: {description: The job queue does not answer}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(202, **RunPushCommand(actor, partner_id).run())

    @expose("/retry-failed", methods=["POST"])
    @protect()
    def retry_failed(self):
        """Failed rows (all, or ``ids``) back to pending; refused products are tried again at the next push.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RetryFailedSchema'}
          responses:
            200:
              description: '{retried}'
              content:
                application/json:
                  schema: {type: object, properties: {retried: {type: integer}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(RetryFailedSchema(), request.get_json(silent=True) or {})
        return self.response(200, retried=RetryFailedCommand(actor, partner_id, args["ids"]).run())

    @expose("/runs/<psa_id:run_id>", methods=["GET"])
    @protect()
    def run_detail(self, run_id: int):
        """One run: status, times, counts by outcome, ConnectWise calls.
        ---
        get:
          parameters:
          - {in: path, name: run_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The run
              content:
                application/json:
                  schema: {type: object}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncRunDetailCommand(actor, run_id, partner_id).run())

    @expose("/items/<psa_id:item_id>", methods=["GET"])
    @protect()
    def item_detail(self, item_id: int):
        """One outbox row with every transition.
        ---
        get:
          parameters:
          - {in: path, name: item_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The row
              content:
                application/json:
                  schema: {type: object}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncItemDetailCommand(actor, item_id, partner_id).run())

    # -- live progress, run history, a run's failed rows, alerts -------------------------

    @expose("/progress", methods=["GET"])
    @protect()
    def progress(self):
        """What the pages poll while a push runs: progress, queued, the open alert and the latest run.
        ---
        get:
          responses:
            200:
              description: 'progress is null when no run is going; alert is null when none is open'
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncLiveSchema'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **SyncProgressCommand(actor, partner_id).run())

    @expose("/runs", methods=["GET"])
    @protect()
    def run_list(self):
        """The run history, newest first (paged).
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 200}}
          responses:
            200:
              description: One page of runs
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncRunPageSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(RunPageArgsSchema(), request.args)
        return self.response(200, **SyncRunsCommand(actor, partner_id, args["page"], args["page_size"]).run())

    @expose("/runs/<psa_id:run_id>/failed", methods=["GET"])
    @protect()
    def run_failures(self, run_id: int):
        """A run and the rows that failed in it: ConnectWise's code and reason, the transaction (paged).
        ---
        get:
          parameters:
          - {in: path, name: run_id, required: true, schema: {type: integer}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 200}}
          responses:
            200:
              description: The run and one page of its failed rows
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncRunFailuresSchema'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(RunPageArgsSchema(), request.args)
        return self.response(
            200, **SyncRunFailuresCommand(actor, run_id, partner_id, args["page"], args["page_size"]).run()
        )

    @expose("/runs/<psa_id:run_id>/acknowledge", methods=["POST"])
    @protect()
    def acknowledge(self, run_id: int):
        """Acknowledge a failed, partial, stopped or abandoned run's alert (and any older open one).
        ---
        post:
          parameters:
          - {in: path, name: run_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The run and the ids of the runs acknowledged now (empty when already acknowledged)
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/SyncAcknowledgeSchema'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor, partner_id = partner_scope(need="active")
        return self.response(200, **AcknowledgeRunAlertCommand(actor, run_id, partner_id).run())
