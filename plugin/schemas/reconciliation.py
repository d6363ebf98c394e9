"""Reconciliation Center schemas: query arguments, bodies and rows."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from msphub_psa.schemas.base import CommaIds, Integer, String

PERIOD = String(
    load_default="all",
    validate=validate.OneOf(["this_month", "last_3_months", "all"]),
    metadata={"description": "this_month, last_3_months or all"},
)


class PeriodArgsSchema(Schema):
    """?period= of the figures."""

    period = PERIOD


class PageArgsSchema(Schema):
    """Search and paging of a list."""

    q = String(load_default="", validate=validate.Length(max=200), metadata={"description": "Search text"})
    page = Integer(load_default=1, validate=validate.Range(min=1))
    page_size = Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CustomerListArgsSchema(PageArgsSchema):
    """?state=unmapped|mapped&q=&page=&page_size=&period=."""

    state = String(load_default="unmapped", validate=validate.OneOf(["unmapped", "mapped"]))
    period = PERIOD


class UnmappedArgsSchema(PageArgsSchema):
    """?q=&page=&page_size= of Unmapped only (unmapped subscriptions across customers)."""


class CompanyListArgsSchema(PageArgsSchema):
    """?q=&page=&page_size=&include_mapped=."""

    include_mapped = fields.Boolean(load_default=False)


class SuggestionArgsSchema(Schema):
    """?customer_ids=1,2,3."""

    customer_ids = CommaIds(required=True, metadata={"description": "Comma-separated customer ids (at most 200)"})


class MapCustomerSchema(Schema):
    """Body of POST /mappings: a customer and a cached company (local id or ConnectWise id)."""

    customer_id = Integer(required=True, strict=True)
    company_id = Integer(strict=True, load_default=None, metadata={"description": "Cached company id"})
    remote_company_id = Integer(strict=True, load_default=None, metadata={"description": "ConnectWise company id"})
    method = String(load_default="manual", validate=validate.OneOf(["manual", "suggestion"]))
    score = Integer(load_default=None, validate=validate.Range(min=0, max=100))

    @validates_schema
    def one_company(self, data, **_):
        """Exactly one of company_id and remote_company_id."""
        if (data.get("company_id") is None) == (data.get("remote_company_id") is None):
            raise ValidationError("Give company_id or remote_company_id (one of them).", "company_id")


class MapExactSchema(Schema):
    """Body of POST /exact-matches: the customers of the preview the user confirmed (all when absent)."""

    customer_ids = fields.List(Integer(strict=True), load_default=None)


class RefreshSchema(Schema):
    """Body of POST /directory/refresh."""

    full = fields.Boolean(load_default=False, metadata={"description": "Read everything, not only changes"})


class CompanySchema(Schema):
    """A cached ConnectWise company."""

    id = Integer()
    remote_id = Integer()
    identifier = String()
    name = String()
    status = String(allow_none=True)
    deleted = fields.Boolean()


class CustomerRowSchema(Schema):
    """A customer row of the Unmapped or Mapped list."""

    id = Integer()
    external_id = String()
    name = String()
    unsynchronized = fields.Decimal(as_string=True)
    subscriptions = Integer()
    subscriptions_mapped = Integer()
    company = fields.Nested(CompanySchema, allow_none=True)
    method = String(allow_none=True)
    mapped_by = String(allow_none=True)
    mapped_at = fields.DateTime(allow_none=True)


# --- Products / Subscriptions tab -------------------------------------------------

FROM_DATE_MODE = String(
    load_default="all",
    validate=validate.OneOf(["all", "custom"]),
    metadata={"description": "all: from the agreement's billing start; custom: from_date"},
)
FROM_DATE = fields.Date(load_default=None, allow_none=True, metadata={"description": "YYYY-MM-DD (custom only)"})
ACCEPT_MISMATCH = fields.Boolean(
    load_default=False,
    metadata={
        "description": "Accept an agreement whose billing cycle does not match the subscription (the warning "
        "shown): without it, the push blocks the subscription's charges (BillingCycleMismatch)."
    },
)


class MapSubscriptionsSchema(Schema):
    """Body of POST /subscription-mappings (Create Subscription Mapping)."""

    customer_id = Integer(required=True, strict=True)
    agreement_id = Integer(required=True, strict=True, metadata={"description": "Cached agreement id"})
    subscription_ids = fields.List(
        Integer(strict=True),
        load_default=list,
        metadata={"description": "The customer's unmapped subscriptions (at least one)"},
    )
    from_date_mode = FROM_DATE_MODE
    from_date = FROM_DATE
    accept_mismatch = ACCEPT_MISMATCH


class AssociatePreviewArgsSchema(Schema):
    """?customer_id=&agreement_id=&subscription_ids=1,2&from_date_mode=&from_date= of the Associate popup's preview."""

    customer_id = Integer(required=True)
    agreement_id = Integer(required=True, metadata={"description": "Cached agreement id"})
    subscription_ids = CommaIds(
        required=True, max_ids=500, metadata={"description": "Comma-separated subscription ids (at most 500)"}
    )
    from_date_mode = FROM_DATE_MODE
    from_date = FROM_DATE


class RemapPreviewArgsSchema(Schema):
    """?agreement_id=&from_date_mode=&from_date= of the Change popup's preview."""

    agreement_id = Integer(required=True)
    from_date_mode = FROM_DATE_MODE
    from_date = FROM_DATE


class RemapSubscriptionSchema(Schema):
    """Body of PUT /subscriptions/<id>/mapping (Change Subscription Mapping)."""

    agreement_id = Integer(required=True, strict=True)
    from_date_mode = FROM_DATE_MODE
    from_date = FROM_DATE
    accept_mismatch = ACCEPT_MISMATCH
    move_pushed = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Also move the transactions already pushed to another agreement whose period ends "
            "on or after the new From Date: the next push removes ours there and creates them on the new agreement. "
            "Periods ConnectWise has already invoiced must be credited on the old agreement."
        },
    )


class AutomapSchema(Schema):
    """Body of POST /subscriptions/automap (all mapped customers when customer_ids is absent)."""

    customer_ids = fields.List(Integer(strict=True), load_default=None)
