"""REST: the Reconciliation Center (figures, lists, customer mapping, exact matches, directory refresh)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect
from marshmallow import Schema, ValidationError

from plugin import permissions
from plugin.api.base import PsaApi
from plugin.commands.directory import RequestDirectoryRefreshCommand
from plugin.commands.reconciliation import (
    PERIODS, CompanyListCommand, CustomerListCommand, ExactMatchesPreviewCommand, MapCustomerCommand,
    MapExactMatchesCommand, ReconciliationSummaryCommand, SuggestionsCommand, UnmapCustomerCommand,
)
from plugin.commands.exceptions import InvalidInputError
from plugin.schemas.reconciliation import (
    CompanyListArgsSchema, CompanySchema, CustomerListArgsSchema, CustomerRowSchema, MapCustomerSchema,
    MapExactSchema, PeriodArgsSchema, RefreshSchema, SuggestionArgsSchema,
)
from plugin.views.guards import partner_scope

_CENT = Decimal("0.01")


def load(schema: Schema, data) -> dict:
    """Validate input with a schema.

    :raises InvalidInputError: with the field messages.
    """
    try:
        return schema.load(data)
    except ValidationError as err:
        raise InvalidInputError("Please check your input.", {k: list(v) if isinstance(v, list) else [str(v)]
                                                             for k, v in err.messages.items()}) from err


def utc_iso(value: dt.datetime | None) -> str | None:
    """An ISO timestamp in UTC (naive database values are UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).isoformat()


def company_json(company) -> dict | None:
    """A cached company."""
    return CompanySchema().dump(company) if company is not None else None


def customer_json(row: dict) -> dict:
    """One list row."""
    customer, mapping = row["customer"], row["mapping"]
    return CustomerRowSchema().dump({
        "id": customer.id, "external_id": customer.external_id, "name": customer.name,
        "unsynchronized": row["unsynchronized"], "subscriptions": row["subscriptions"],
        "subscriptions_mapped": row["subscriptions_mapped"], "company": company_json(row["company"]),
        "method": mapping.method if mapping else None, "mapped_by": mapping.created_by if mapping else None,
        "mapped_at": mapping.created_at if mapping else None,
    })


def summary_json(summary) -> dict:
    """The indicators."""
    counts, directory = summary.counts, summary.directory
    return {
        "currency": summary.currency, "period": summary.period, "period_label": PERIODS[summary.period],
        "since": summary.since.isoformat() if summary.since else None,
        "unmapped_customers": counts["customers"] - counts["mapped_customers"], **counts,
        "unmapped_subscriptions": counts["subscriptions"] - counts["mapped_subscriptions"],
        "unsynchronized_revenue": str(summary.unsynchronized_revenue.quantize(_CENT)),
        "pending_push": str(summary.sync["pending_push"].quantize(_CENT)),
        "pending_push_count": summary.sync["pending_push_count"],
        "failed": str(summary.sync["failed"].quantize(_CENT)), "failed_count": summary.sync["failed_count"],
        "directory": {**directory, "last_refreshed_at": utc_iso(directory["last_refreshed_at"]),
                      "started_at": utc_iso(directory["started_at"])},
    }


class ReconciliationApi(PsaApi):
    """The Reconciliation Center of the signed-in partner user (or of ``?partner_id`` for Admin via CLI)."""

    resource_name = "psa_reconciliation"
    class_permission_name = permissions.RECONCILIATION
    openapi_spec_tag = "Reconciliation Center"
    openapi_spec_component_schemas = (CompanySchema, CustomerRowSchema, MapCustomerSchema, MapExactSchema,
                                      RefreshSchema)

    @expose("/summary", methods=["GET"])
    @protect()
    def summary(self):
        """Unmapped customers, unmapped subscriptions, unsynchronized revenue, directory state.
        ---
        get:
          parameters:
          - {in: query, name: period, schema: {type: string, enum: [this_month, last_3_months, all]}}
          responses:
            200: {description: The indicators}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(PeriodArgsSchema(), request.args)
        return self.response(200, **summary_json(ReconciliationSummaryCommand(actor, partner_id, args["period"]).run()))

    @expose("/chart", methods=["GET"])
    @protect()
    def chart(self):
        """Pushed and unsynchronized revenue per billing month, last 12 months.
        ---
        get:
          responses:
            200: {description: 'months: [{month, pushed, unsynchronized}]'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        months = ReconciliationSummaryCommand(actor, partner_id).monthly()
        return self.response(200, months=[{"month": m["month"].isoformat(), "pushed": str(m["pushed"]),
                                           "unsynchronized": str(m["unsynchronized"].quantize(_CENT))} for m in months])

    @expose("/customers", methods=["GET"])
    @protect()
    def customers(self):
        """A page of unmapped or mapped customers, searchable, with unsynchronized revenue.
        ---
        get:
          parameters:
          - {in: query, name: state, schema: {type: string, enum: [unmapped, mapped]}}
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: page_size, schema: {type: integer}}
          - {in: query, name: period, schema: {type: string}}
          responses:
            200:
              description: Rows and total
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      total: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/CustomerRowSchema'}}
            400: {$ref: '#/components/responses/400'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(CustomerListArgsSchema(), request.args)
        rows, total = CustomerListCommand(actor, args["state"], args["q"], args["page"], args["page_size"],
                                          args["period"], partner_id).run()
        return self.response(200, total=total, page=args["page"], page_size=args["page_size"],
                             result=[customer_json(r) for r in rows])

    @expose("/companies", methods=["GET"])
    @protect()
    def companies(self):
        """A page of cached ConnectWise companies (not yet mapped unless include_mapped).
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: page_size, schema: {type: integer}}
          - {in: query, name: include_mapped, schema: {type: boolean}}
          responses:
            200: {description: 'Rows and total'}
            400: {$ref: '#/components/responses/400'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(CompanyListArgsSchema(), request.args)
        rows, total = CompanyListCommand(actor, args["q"], args["page"], args["page_size"], args["include_mapped"],
                                         partner_id).run()
        return self.response(200, total=total, page=args["page"], page_size=args["page_size"],
                             result=[company_json(c) for c in rows])

    @expose("/suggestions", methods=["GET"])
    @protect()
    def suggestions(self):
        """Near-match companies for some customers (never mapped without confirmation).
        ---
        get:
          parameters:
          - {in: query, name: customer_ids, required: true, schema: {type: string}}
          responses:
            200: {description: '{customer id: [{company_id, company_name, score, reason, reason_text}]}'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(SuggestionArgsSchema(), request.args)
        ids = [int(i) for i in args["customer_ids"].split(",")]
        found = SuggestionsCommand(actor, ids, partner_id=partner_id).run()
        return self.response(200, result={str(c): [
            {"company_id": s.company_id, "company_name": s.company_name, "score": s.score,
             "reason": str(s.reason), "reason_text": s.reason.text} for s in items] for c, items in found.items()})

    @expose("/mappings", methods=["POST"])
    @protect()
    def map_customer(self):
        """Map a customer to a cached ConnectWise company.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/MapCustomerSchema'}
          responses:
            201: {description: The mapped customer}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Customer or company already mapped (the message names it)}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(MapCustomerSchema(), request.get_json(silent=True) or {})
        mapping = MapCustomerCommand(actor, body["customer_id"], body["company_id"], body["cw_company_id"],
                                     body["method"], body["score"], partner_id).run()
        return self.response(201, id=mapping.id, customer_id=mapping.customer_id, company=company_json(mapping.company),
                             method=mapping.method, mapped_by=mapping.created_by, mapped_at=utc_iso(mapping.created_at))

    @expose("/mappings/<int:customer_id>", methods=["DELETE"])
    @protect()
    def unmap_customer(self, customer_id: int):
        """Disassociate a customer: back to Unmapped, its subscription mappings ended.
        ---
        delete:
          parameters:
          - {in: path, name: customer_id, required: true, schema: {type: integer}}
          responses:
            200: {description: 'subscription_mappings_ended'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Not mapped}
        """
        actor, partner_id = partner_scope(need="active")
        ended = UnmapCustomerCommand(actor, customer_id, partner_id).run()
        return self.response(200, customer_id=customer_id, subscription_mappings_ended=ended)

    @expose("/exact-matches", methods=["GET"])
    @protect()
    def exact_matches(self):
        """What "Map exact matches" would map now, and same-name pairs left out with the reason.
        ---
        get:
          responses:
            200: {description: 'pairs and excluded'}
        """
        actor, partner_id = partner_scope(need="active")
        preview = ExactMatchesPreviewCommand(actor, partner_id).run()
        return self.response(200, pairs=[_pair(p) for p in preview.pairs], excluded=preview.excluded)

    @expose("/exact-matches", methods=["POST"])
    @protect()
    def map_exact(self):
        """Map exact-name matches (all, or the customer_ids the user confirmed from the preview).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/MapExactSchema'}
          responses:
            200: {description: 'mapped pairs'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(MapExactSchema(), request.get_json(silent=True) or {})
        pairs = MapExactMatchesCommand(actor, partner_id, body["customer_ids"]).run()
        return self.response(200, mapped=[_pair(p) for p in pairs])

    @expose("/directory", methods=["GET"])
    @protect()
    def directory(self):
        """The directory refresh state (status, last refreshed, progress, error) and cache counts.
        ---
        get:
          responses:
            200: {description: State}
        """
        actor, partner_id = partner_scope(need="active")
        summary = summary_json(ReconciliationSummaryCommand(actor, partner_id).run())
        return self.response(200, **summary["directory"])

    @expose("/directory/refresh", methods=["POST"])
    @protect()
    def refresh(self):
        """Refresh the ConnectWise directory cache in the background (one job per partner).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RefreshSchema'}
          responses:
            202: {description: 'job_id, queued (false when one was already running)'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(RefreshSchema(), request.get_json(silent=True) or {})
        job_id, created = RequestDirectoryRefreshCommand(actor, partner_id, body["full"]).run()
        return self.response(202, job_id=job_id, queued=created)


def _pair(pair) -> dict:
    """An exact-match pair."""
    customer_id, customer_name, company_id, company_name = pair
    return {"customer_id": customer_id, "customer_name": customer_name, "company_id": company_id,
            "company_name": company_name}
