"""Input schemas of billing sync control: preview paging, approval choice, sync settings (shape only;
the commands check the business rules)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from msphub_psa.schemas.base import Integer, String

_ID = Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))


class PreviewArgsSchema(Schema):
    """Paging of a preview: groups (customer → agreement) per page, lines shown per group."""

    page = Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = Integer(load_default=20, validate=validate.Range(min=1, max=200))
    lines = Integer(
        load_default=20,
        validate=validate.Range(min=0, max=500),
        metadata={"description": "lines shown per group (0-500)"},
    )


class ApproveSchema(Schema):
    """``{"agreement_ids": [..]}``: push only these groups (cached agreement ids); nothing or null: all."""

    agreement_ids = fields.List(_ID, load_default=None, allow_none=True, validate=validate.Length(min=1, max=5000))


class SyncSettingsSchema(Schema):
    """Any of the sync settings; the others stay as they are."""

    schedule_enabled = fields.Boolean(metadata={"description": "run the sync on the schedule"})
    schedule_time = String(metadata={"description": "HH:MM (24-hour) in the partner's timezone"})
    schedule_days = fields.List(String(), metadata={"description": "weekdays: mon tue wed thu fri sat sun"})
    approval = String(
        validate=validate.OneOf(["default", "always", "never"]),
        metadata={"description": "default: required until the first push has succeeded"},
    )
    requests_per_minute = Integer(
        strict=True, allow_none=True, metadata={"description": "1 to the operator's cap; null: the default"}
    )
    create_list_values = fields.Boolean(
        metadata={
            "description": "the catalog sync may create the categories, subcategories and types the rules name; "
            "false: products needing one ConnectWise lacks are blocked (ClassificationMissing)"
        }
    )


class PreviewGroupsSchema(Schema):
    """One page of customer → agreement groups."""

    page = Integer()
    page_size = Integer()
    total = Integer()
    result = fields.List(fields.Dict())
    agreement_ids = fields.List(Integer(), metadata={"description": "every group's agreement, in order"})


class PreviewOutSchema(Schema):
    """A preview: live (``id`` null) or prepared; totals are complete, groups paged."""

    id = Integer(allow_none=True, metadata={"description": "null for a live preview"})
    status = String(metadata={"description": "live, awaiting_approval, approved, discarded, expired"})
    approval_required = fields.Boolean()
    totals = fields.Dict()
    groups = fields.Nested(PreviewGroupsSchema)
    catalog = fields.Dict()
    lookups = fields.Dict()
    awaiting_approval = fields.Dict(allow_none=True)


class SyncSettingsOutSchema(Schema):
    """The partner's sync settings and what follows from them."""

    partner_id = Integer()
    timezone = String()
    schedule_enabled = fields.Boolean()
    schedule_time = String()
    schedule_days = fields.List(String())
    next_run_at = String(allow_none=True)
    next_run_local = String(allow_none=True)
    approval = String()
    approval_required = fields.Boolean()
    first_push_done = fields.Boolean()
    requests_per_minute = Integer(allow_none=True)
    effective_requests_per_minute = Integer()
    max_requests_per_minute = Integer(allow_none=True)
    create_list_values = fields.Boolean()
    updated_by = String(allow_none=True)
    updated_at = String(allow_none=True)
