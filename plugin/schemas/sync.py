"""Billing sync schemas: progress, alerts, run history and a run's failed rows."""

from marshmallow import Schema, fields, validate

from msphub_psa.schemas.base import Integer, String


class RunPageArgsSchema(Schema):
    """?page=&page_size= of the run history and of a run's failed rows."""

    page = Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = Integer(load_default=20, validate=validate.Range(min=1, max=200))


class SyncProgressSchema(Schema):
    """A running run's progress: rows dealt with, rows in the run (null until counted), failures so far."""

    run_id = Integer()
    done = Integer()
    total = Integer(allow_none=True)
    failed = Integer()


class SyncAlertSchema(Schema):
    """The newest unacknowledged run that ended failed, partial, stopped or abandoned."""

    run_id = Integer()
    status = String(metadata={"description": "failed | partial | stopped"})
    counts = fields.Dict(keys=String(), values=Integer())
    error = String(allow_none=True)
    started_at = String(allow_none=True)
    finished_at = String(allow_none=True)
    unacknowledged = Integer(metadata={"description": "Unacknowledged alerting runs in all"})


class SyncRunSchema(Schema):
    """One run: status, times, counts by outcome, ConnectWise calls, progress, alert state."""

    id = Integer()
    status = String(metadata={"description": "running | succeeded | partial | stopped | failed | abandoned | yielded"})
    requested_by = String()
    started_at = String(allow_none=True)
    finished_at = String(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    counts = fields.Dict(keys=String(), values=Integer())
    psa_calls = Integer()
    writes = Integer()
    lookups = Integer()
    catalog_calls = Integer()
    check_calls = Integer(metadata={"description": "Reads of the pre-flight checks (agreements, companies)"})
    not_foreseen = Integer(
        metadata={"description": "Rows the PSA refused that no pre-flight check foresaw (failed after a call)"}
    )
    blocked = Integer(metadata={"description": "Rows a pre-flight check blocked (no call made for them)"})
    error = String(allow_none=True)
    continues_run_id = Integer(
        allow_none=True,
        metadata={"description": "The yielded run this run continues (a push delivered in slices), or null"},
    )
    progress = fields.Nested(SyncProgressSchema)
    alert = fields.Boolean(metadata={"description": "Ended failed/partial/stopped/abandoned and not acknowledged"})
    acknowledged_by = String(allow_none=True)
    acknowledged_at = String(allow_none=True)


class SyncLiveSchema(Schema):
    """What the pages poll: progress (null when idle), a push waiting in the queue, the alert, the latest run."""

    progress = fields.Nested(SyncProgressSchema, allow_none=True)
    queued = fields.Boolean()
    alert = fields.Nested(SyncAlertSchema, allow_none=True)
    last_run = fields.Nested(SyncRunSchema, allow_none=True)


class SyncRunPageSchema(Schema):
    """One page of runs, newest first."""

    total = Integer()
    page = Integer()
    page_size = Integer()
    result = fields.List(fields.Nested(SyncRunSchema))


class SyncFailedRowSchema(Schema):
    """A row that failed in the run: ConnectWise's code and reason, the transaction, what the row is now."""

    item_id = Integer()
    reference = String()
    state = String(metadata={"description": "The row's state now (failed, or pending/pushed after a retry)"})
    code = String(allow_none=True)
    message = String(allow_none=True)
    transaction_id = Integer()
    kind = String()
    period_start = String()
    period_end = String()
    amount = String()
    currency = String()
    product = String()
    subscription_id = Integer()
    subscription = String()
    customer_id = Integer()
    customer = String()


class SyncRunFailuresSchema(Schema):
    """A run and one page of the rows that failed in it."""

    run = fields.Nested(SyncRunSchema)
    total = Integer()
    page = Integer()
    page_size = Integer()
    result = fields.List(fields.Nested(SyncFailedRowSchema))


class SyncAcknowledgeSchema(Schema):
    """The acknowledged run and the ids of every run the acknowledgement cleared."""

    run = fields.Nested(SyncRunSchema)
    acknowledged = fields.List(Integer())


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
