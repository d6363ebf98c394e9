"""Billing sync schemas: progress, alerts, run history and a run's failed rows."""

from marshmallow import Schema, fields, validate


class RunPageArgsSchema(Schema):
    """?page=&page_size= of the run history and of a run's failed rows."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=200))


class SyncProgressSchema(Schema):
    """A running run's progress: rows dealt with, rows in the run (null until counted), failures so far."""

    run_id = fields.Integer()
    done = fields.Integer()
    total = fields.Integer(allow_none=True)
    failed = fields.Integer()


class SyncAlertSchema(Schema):
    """The newest unacknowledged run that ended failed, partial, stopped or abandoned."""

    run_id = fields.Integer()
    status = fields.String(metadata={"description": "failed | partial | stopped"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    error = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    unacknowledged = fields.Integer(metadata={"description": "Unacknowledged alerting runs in all"})


class SyncRunSchema(Schema):
    """One run: status, times, counts by outcome, ConnectWise calls, progress, alert state."""

    id = fields.Integer()
    status = fields.String(metadata={"description": "running | succeeded | partial | stopped | failed | abandoned"})
    requested_by = fields.String()
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    psa_calls = fields.Integer()
    writes = fields.Integer()
    lookups = fields.Integer()
    catalog_calls = fields.Integer()
    check_calls = fields.Integer(metadata={"description": "Reads of the pre-flight checks (agreements, companies)"})
    not_foreseen = fields.Integer(
        metadata={"description": "Rows the PSA refused that no pre-flight check foresaw (failed after a call)"}
    )
    blocked = fields.Integer(metadata={"description": "Rows a pre-flight check blocked (no call made for them)"})
    error = fields.String(allow_none=True)
    progress = fields.Nested(SyncProgressSchema)
    alert = fields.Boolean(metadata={"description": "Ended failed/partial/stopped/abandoned and not acknowledged"})
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_at = fields.String(allow_none=True)


class SyncLiveSchema(Schema):
    """What the pages poll: progress (null when idle), a push waiting in the queue, the alert, the latest run."""

    progress = fields.Nested(SyncProgressSchema, allow_none=True)
    queued = fields.Boolean()
    alert = fields.Nested(SyncAlertSchema, allow_none=True)
    last_run = fields.Nested(SyncRunSchema, allow_none=True)


class SyncRunPageSchema(Schema):
    """One page of runs, newest first."""

    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    result = fields.List(fields.Nested(SyncRunSchema))


class SyncFailedRowSchema(Schema):
    """A row that failed in the run: ConnectWise's code and reason, the transaction, what the row is now."""

    item_id = fields.Integer()
    reference = fields.String()
    state = fields.String(metadata={"description": "The row's state now (failed, or pending/pushed after a retry)"})
    code = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    transaction_id = fields.Integer()
    kind = fields.String()
    period_start = fields.String()
    period_end = fields.String()
    amount = fields.String()
    currency = fields.String()
    product = fields.String()
    subscription_id = fields.Integer()
    subscription = fields.String()
    customer_id = fields.Integer()
    customer = fields.String()


class SyncRunFailuresSchema(Schema):
    """A run and one page of the rows that failed in it."""

    run = fields.Nested(SyncRunSchema)
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    result = fields.List(fields.Nested(SyncFailedRowSchema))


class SyncAcknowledgeSchema(Schema):
    """The acknowledged run and the ids of every run the acknowledgement cleared."""

    run = fields.Nested(SyncRunSchema)
    acknowledged = fields.List(fields.Integer())


COMPONENTS = (
    RunPageArgsSchema,
    SyncProgressSchema,
    SyncAlertSchema,
    SyncRunSchema,
    SyncLiveSchema,
    SyncRunPageSchema,
    SyncFailedRowSchema,
    SyncRunFailuresSchema,
    SyncAcknowledgeSchema,
)
