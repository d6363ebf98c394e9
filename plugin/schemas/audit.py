"""Audit log: the filters of the list and of the CSV export, and one event as JSON."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from msphub_psa.schemas.base import Integer, String

_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


class UtcDateTime(fields.DateTime):
    """An ISO date or date-time; naive values are UTC; 2000..2100 only."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Accept ``2026-05-01`` as well as ``2026-05-01T10:00:00+02:00``."""
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                value = dt.date.fromisoformat(value.strip()).isoformat() + "T00:00:00"
            except ValueError as exc:
                raise ValidationError("Not a valid date (YYYY-MM-DD).") from exc
        moment = super()._deserialize(value, attr, data, **kwargs)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        if not _EARLIEST <= moment < _LATEST:
            raise ValidationError("The date must be between 2000-01-01 and 2099-12-31.")
        return moment.astimezone(dt.UTC)

    def _serialize(self, value, attr, obj, **kwargs):
        """Naive database values are UTC: say so (``+00:00``)."""
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class AuditFilterSchema(Schema):
    """?username=&action=&object_type=&object_id=&outcome=&since=&until=&partner_id= (all optional)."""

    username = String(validate=validate.Length(max=100), metadata={"description": "Exact username"})
    action = String(
        validate=validate.Length(max=60),
        metadata={"description": "Action, or a prefix ending in '*' (e.g. customer.*)"},
    )
    object_type = String(validate=validate.Length(max=60))
    object_id = String(validate=validate.Length(max=60))
    outcome = String(validate=validate.OneOf(["ok", "refused", "failed"]))
    since = UtcDateTime(metadata={"description": "From this date or time (inclusive, UTC unless an offset is given)"})
    until = UtcDateTime(metadata={"description": "Before this date or time (exclusive)"})
    partner_id = Integer(metadata={"description": "Admin: one partner's events (partner users: their own)"})

    @validates_schema
    def since_before_until(self, data, **_):
        """``since`` before ``until``."""
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("'since' must be before 'until'.", "until")


class AuditListArgsSchema(AuditFilterSchema):
    """The filters plus paging."""

    page = Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AuditEventSchema(Schema):
    """One audit event."""

    id = Integer()
    at = UtcDateTime()
    username = String()
    partner_id = Integer(allow_none=True)
    distributor_id = Integer(allow_none=True)
    action = String()
    object_type = String()
    object_id = String(allow_none=True)
    outcome = String()
    detail = fields.Dict(allow_none=True)


class AuditPageSchema(Schema):
    """A page of audit events."""

    count = Integer(metadata={"description": "Events matching the filters"})
    page = Integer()
    page_size = Integer()
    result = fields.List(fields.Nested(AuditEventSchema))
