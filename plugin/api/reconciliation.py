"""REST: the Reconciliation Center (figures, lists, customer mapping, exact matches, directory refresh)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import request
from flask_appbuilder.api import expose
from flask_appbuilder.security.decorators import protect

from msphub_psa import permissions
from msphub_psa.api.base import PsaApi, load
from msphub_psa.commands.directory import RequestDirectoryRefreshCommand
from msphub_psa.commands.reconciliation import (
    PERIODS,
    CompanyListCommand,
    CustomerListCommand,
    ExactMatchesPreviewCommand,
    MapCustomerCommand,
    MapExactMatchesCommand,
    ReconciliationSummaryCommand,
    SuggestionsCommand,
    UnmapCustomerCommand,
)
from msphub_psa.commands.subscriptions import (
    AgreementOptionsCommand,
    AssociatePreviewCommand,
    AutoAssociateSubscriptionsCommand,
    CustomerSubscriptionsCommand,
    MapSubscriptionsCommand,
    RemapPreviewCommand,
    RemapSubscriptionCommand,
    SubscriptionHistoryCommand,
)
from msphub_psa.commands.unmapped import UnmappedSubscriptionsCommand
from msphub_psa.schemas.reconciliation import (  # Products / Subscriptions tab
    AssociatePreviewArgsSchema,
    AutomapSchema,
    CompanyListArgsSchema,
    CompanySchema,
    CustomerListArgsSchema,
    CustomerRowSchema,
    MapCustomerSchema,
    MapExactSchema,
    MapSubscriptionsSchema,
    PeriodArgsSchema,
    RefreshSchema,
    RemapPreviewArgsSchema,
    RemapSubscriptionSchema,
    SuggestionArgsSchema,
    UnmappedArgsSchema,
)
from msphub_psa.tenancy import partner_scope

_CENT = Decimal("0.01")


def utc_iso(value: dt.datetime | None) -> str | None:
    """An ISO timestamp in UTC (naive database values are UTC)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def company_json(company) -> dict | None:
    """A cached company."""
    return CompanySchema().dump(company) if company is not None else None


def customer_json(row: dict) -> dict:
    """One list row."""
    customer, mapping = row["customer"], row["mapping"]
    return CustomerRowSchema().dump(
        {
            "id": customer.id,
            "external_id": customer.external_id,
            "name": customer.name,
            "unsynchronized": row["unsynchronized"],
            "subscriptions": row["subscriptions"],
            "subscriptions_mapped": row["subscriptions_mapped"],
            "company": company_json(row["company"]),
            "method": mapping.method if mapping else None,
            "mapped_by": mapping.created_by if mapping else None,
            "mapped_at": mapping.created_at if mapping else None,
        }
    )


def summary_json(summary) -> dict:
    """The indicators."""
    counts, directory = summary.counts, summary.directory
    return {
        "currency": summary.currency,
        "period": summary.period,
        "period_label": PERIODS[summary.period],
        "since": summary.since.isoformat() if summary.since else None,
        "unmapped_customers": counts["customers"] - counts["mapped_customers"],
        **counts,
        "unmapped_subscriptions": counts["subscriptions"] - counts["mapped_subscriptions"],
        "unsynchronized_revenue": str(summary.unsynchronized_revenue.quantize(_CENT)),
        "pending_push": str(summary.sync["pending_push"].quantize(_CENT)),
        "pending_push_count": summary.sync["pending_push_count"],
        "failed": str(summary.sync["failed"].quantize(_CENT)),
        "failed_count": summary.sync["failed_count"],
        "blocked": str(summary.sync["blocked"].quantize(_CENT)),
        "blocked_count": summary.sync["blocked_count"],
        "blocked_causes": summary.sync["blocked_causes"],
        "directory": {
            **directory,
            "last_refreshed_at": utc_iso(directory["last_refreshed_at"]),
            "started_at": utc_iso(directory["started_at"]),
        },
    }


class ReconciliationApi(PsaApi):
    """The Reconciliation Center of the signed-in partner user (or of ``?partner_id`` for Admin via CLI)."""

    resource_name = "psa_reconciliation"
    class_permission_name = permissions.RECONCILIATION
    openapi_spec_tag = "Reconciliation Center"
    openapi_spec_component_schemas = (
        CompanySchema,
        CustomerRowSchema,
        MapCustomerSchema,
        MapExactSchema,
        RefreshSchema,
        MapSubscriptionsSchema,
        RemapSubscriptionSchema,
        AutomapSchema,
    )

    @expose("/summary", methods=["GET"])
    @protect()
    def summary(self):
        """Unmapped customers, unmapped subscriptions, unsynchronized revenue, directory state.
        ---
        get:
          parameters:
          - {in: query, name: period, schema: {type: string, enum: [this_month, last_3_months, all]}}
          responses:
            200:
              description: 'The indicators'
              content:
                application/json:
                  schema: {type: object, properties: {currency: {type: string}, period: {type: string}, period_label: {type: string}, since: {type: string, nullable: true}, customers: {type: integer}, mapped_customers: {type: integer}, unmapped_customers: {type: integer}, subscriptions: {type: integer}, mapped_subscriptions: {type: integer}, unmapped_subscriptions: {type: integer}, unsynchronized_revenue: {type: string, description: 'Decimal, 2 places, partner currency'}, directory: {type: object, properties: {status: {type: string, nullable: true}, last_refreshed_at: {type: string, nullable: true}, started_at: {type: string, nullable: true}, progress: {type: object}, error: {type: string, nullable: true}, job_id: {type: string, nullable: true}}}}}
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
            200:
              description: 'Twelve billing months'
              content:
                application/json:
                  schema: {type: object, properties: {months: {type: array, items: {type: object, properties: {month: {type: string, format: date}, pushed: {type: string}, unsynchronized: {type: string}}}}}}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        months = ReconciliationSummaryCommand(actor, partner_id).monthly()
        return self.response(
            200,
            months=[
                {
                    "month": m["month"].isoformat(),
                    "pushed": str(m["pushed"]),
                    "unsynchronized": str(m["unsynchronized"].quantize(_CENT)),
                }
                for m in months
            ],
        )

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
        rows, total = CustomerListCommand(
            actor, args["state"], args["q"], args["page"], args["page_size"], args["period"], partner_id
        ).run()
        return self.response(
            200, total=total, page=args["page"], page_size=args["page_size"], result=[customer_json(r) for r in rows]
        )

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
            200:
              description: 'Rows and total'
              content:
                application/json:
                  schema: {type: object, properties: {total: {type: integer}, page: {type: integer}, page_size: {type: integer}, result: {type: array, items: {$ref: '#/components/schemas/CompanySchema'}}}}
            400: {$ref: '#/components/responses/400'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(CompanyListArgsSchema(), request.args)
        rows, total = CompanyListCommand(
            actor, args["q"], args["page"], args["page_size"], args["include_mapped"], partner_id
        ).run()
        return self.response(
            200, total=total, page=args["page"], page_size=args["page_size"], result=[company_json(c) for c in rows]
        )

    @expose("/suggestions", methods=["GET"])
    @protect()
    def suggestions(self):
        """Near-match companies for some customers (never mapped without confirmation).
        ---
        get:
          parameters:
          - {in: query, name: customer_ids, required: true, schema: {type: string}}
          responses:
            200:
              description: 'Suggestions per customer id'
              content:
                application/json:
                  schema: {type: object, properties: {result: {type: object, additionalProperties: {type: array, items: {type: object, properties: {company_id: {type: integer}, company_name: {type: string}, score: {type: integer}, reason: {type: string}, reason_text: {type: string}}}}}}}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(SuggestionArgsSchema(), request.args)
        found = SuggestionsCommand(actor, args["customer_ids"], partner_id=partner_id).run()
        return self.response(
            200,
            result={
                str(c): [
                    {
                        "company_id": s.company_id,
                        "company_name": s.company_name,
                        "score": s.score,
                        "reason": str(s.reason),
                        "reason_text": s.reason.text,
                    }
                    for s in items
                ]
                for c, items in found.items()
            },
        )

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
            201:
              description: 'The mapped customer'
              content:
                application/json:
                  schema: {type: object, properties: {id: {type: integer}, customer_id: {type: integer}, company: {$ref: '#/components/schemas/CompanySchema'}, method: {type: string}, mapped_by: {type: string}, mapped_at: {type: string, format: date-time}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Customer or company already mapped (the message names it)}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(MapCustomerSchema(), request.get_json(silent=True) or {})
        mapping = MapCustomerCommand(
            actor,
            body["customer_id"],
            body["company_id"],
            body["remote_company_id"],
            body["method"],
            body["score"],
            partner_id,
        ).run()
        return self.response(
            201,
            id=mapping.id,
            customer_id=mapping.customer_id,
            company=company_json(mapping.company),
            method=mapping.method,
            mapped_by=mapping.created_by,
            mapped_at=utc_iso(mapping.created_at),
        )

    @expose("/mappings/<psa_id:customer_id>", methods=["DELETE"])
    @protect()
    def unmap_customer(self, customer_id: int):
        """Disassociate a customer: back to Unmapped, its subscription mappings ended.
        ---
        delete:
          parameters:
          - {in: path, name: customer_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: 'Unmapped'
              content:
                application/json:
                  schema: {type: object, properties: {customer_id: {type: integer}, subscription_mappings_ended: {type: integer}}}
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
            200:
              description: 'Pairs that would be mapped and pairs left out'
              content:
                application/json:
                  schema: {type: object, properties: {pairs: {type: array, items: {type: object, properties: {customer_id: {type: integer}, customer_name: {type: string}, company_id: {type: integer}, company_name: {type: string}}}}, excluded: {type: array, items: {type: object}}}}
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
            200:
              description: 'The pairs mapped'
              content:
                application/json:
                  schema: {type: object, properties: {mapped: {type: array, items: {type: object, properties: {customer_id: {type: integer}, customer_name: {type: string}, company_id: {type: integer}, company_name: {type: string}}}}}}
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
            200:
              description: 'The refresh state'
              content:
                application/json:
                  schema: {type: object, properties: {status: {type: string, nullable: true}, last_refreshed_at: {type: string, nullable: true}, started_at: {type: string, nullable: true}, progress: {type: object}, error: {type: string, nullable: true}, job_id: {type: string, nullable: true}}}
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
            202:
              description: 'Queued (queued is false when a refresh was already queued or running)'
              content:
                application/json:
                  schema: {type: object, properties: {job_id: {type: string}, queued: {type: boolean}}}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(RefreshSchema(), request.get_json(silent=True) or {})
        job_id, created = RequestDirectoryRefreshCommand(actor, partner_id, body["full"]).run()
        return self.response(202, job_id=job_id, queued=created)

    # --- Products / Subscriptions tab ---------------------------------------------

    @expose("/customers/<psa_id:customer_id>/subscriptions", methods=["GET"])
    @protect()
    def subscriptions(self, customer_id: int):
        """View Subscriptions: a mapped customer's subscriptions, agreement, sync status, why unmapped.
        ---
        get:
          parameters:
          - {in: path, name: customer_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: 'customer, company, today, result: [subscription rows]'
              content:
                application/json:
                  schema: {type: object, properties: {customer: {type: object}, company: {type: object}, today: {type: string, format: date}, result: {type: array, items: {type: object}}}}
            404: {$ref: '#/components/responses/404'}
            409: {description: The customer is not mapped}
        """
        actor, partner_id = partner_scope(need="active")
        found = CustomerSubscriptionsCommand(actor, customer_id, partner_id).run()
        return self.response(
            200,
            customer=_customer_head(found.customer, found.mapping.company),
            currency=found.currency,
            today=found.today.isoformat(),
            result=[_subscription_row(r) for r in found.rows],
        )

    @expose("/subscriptions/unmapped", methods=["GET"])
    @protect()
    def unmapped_subscriptions(self):
        """Unmapped only: a page of the partner's unmapped subscriptions across customers, searchable.
        ---
        get:
          parameters:
          - {in: query, name: q, schema: {type: string}, description: 'Subscription, customer or company name or id'}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 200}}
          responses:
            200:
              description: 'total, page, page_size, currency, today, result: [unmapped subscription rows]'
              content:
                application/json:
                  schema: {type: object, properties: {total: {type: integer}, page: {type: integer}, page_size: {type: integer}, currency: {type: string}, today: {type: string, format: date}, result: {type: array, items: {type: object, properties: {id: {type: integer}, external_id: {type: string}, name: {type: string}, quantity: {type: string}, value: {type: string}, frequency: {type: string}, start_date: {type: string, format: date}, customer: {type: object}, company: {type: object, nullable: true}, reason: {type: string, nullable: true}}}}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(UnmappedArgsSchema(), request.args)
        found = UnmappedSubscriptionsCommand(actor, args["q"], args["page"], args["page_size"], partner_id).run()
        return self.response(
            200,
            total=found.total,
            page=args["page"],
            page_size=args["page_size"],
            currency=found.currency,
            today=found.today.isoformat(),
            result=[_unmapped_row(r) for r in found.rows],
        )

    @expose("/customers/<psa_id:customer_id>/agreements", methods=["GET"])
    @protect()
    def agreements(self, customer_id: int):
        """The popups' agreement choices for a mapped customer's company, with From Date bounds and fit warnings.
        ---
        get:
          parameters:
          - {in: path, name: customer_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: 'customer, today, agreements: [{id, name, type, billing_start_date, eligible, reason, warnings}]'
              content:
                application/json:
                  schema: {type: object, properties: {customer: {type: object}, today: {type: string, format: date}, agreements: {type: array, items: {type: object}}}}
            404: {$ref: '#/components/responses/404'}
            409: {description: The customer is not mapped}
        """
        actor, partner_id = partner_scope(need="active")
        found = AgreementOptionsCommand(actor, customer_id, partner_id).run()
        return self.response(
            200,
            customer=_customer_head(found["customer"], found["company"]),
            today=found["today"].isoformat(),
            agreements=[
                {
                    **_agreement_json(o["agreement"]),
                    "eligible": o["eligible"],
                    "reason": o["reason"],
                    "lower_bound": _iso(o["bound"]),
                    "warnings": o["warnings"],
                }
                for o in found["agreements"]
            ],
        )

    @expose("/subscription-mappings", methods=["POST"])
    @protect()
    def map_subscriptions(self):
        """Create Subscription Mapping: map the selected subscriptions to one agreement from a From Date.
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/MapSubscriptionsSchema'}
          responses:
            201:
              description: 'mapped: [mapping]'
              content:
                application/json:
                  schema: {type: object, properties: {mapped: {type: array, items: {type: object}}}}
            400: {description: 'Empty selection, unusable agreement, From Date out of range (the range is in the message)'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Customer not mapped, or a subscription already mapped (use Change)}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(MapSubscriptionsSchema(), request.get_json(silent=True) or {})
        created = MapSubscriptionsCommand(
            actor,
            body["customer_id"],
            body["agreement_id"],
            body["subscription_ids"],
            body["from_date_mode"],
            body["from_date"],
            partner_id,
            accept_mismatch=body["accept_mismatch"],
        ).run()
        return self.response(201, mapped=[_mapping_json(m) for m in created])

    @expose("/subscription-mappings/preview", methods=["GET"])
    @protect()
    def associate_preview(self):
        """Create Subscription Mapping preview: each subscription's From Date and what would be sent to ConnectWise.
        ---
        get:
          parameters:
          - {in: query, name: customer_id, required: true, schema: {type: integer}}
          - {in: query, name: agreement_id, required: true, schema: {type: integer}}
          - {in: query, name: subscription_ids, required: true, schema: {type: string}, description: 'Comma-separated ids'}
          - {in: query, name: from_date_mode, schema: {type: string, enum: [all, custom]}}
          - {in: query, name: from_date, schema: {type: string, format: date}}
          responses:
            200:
              description: 'agreement, to_new, to_new_amount, to_skip, to_skip_amount, warnings, result: [{subscription_id, from_date, to_new, to_new_amount, to_skip, to_skip_amount}]'
              content:
                application/json:
                  schema: {type: object}
            400: {description: 'Empty selection, unusable agreement, From Date out of range (the range is in the message)'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Customer not mapped, or a subscription already mapped (use Change)}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(AssociatePreviewArgsSchema(), request.args)
        plan = AssociatePreviewCommand(
            actor,
            args["customer_id"],
            args["agreement_id"],
            args["subscription_ids"],
            args["from_date_mode"],
            args["from_date"],
            partner_id,
        ).run()
        return self.response(200, **_associate_plan_json(plan))

    @expose("/subscriptions/<psa_id:subscription_id>/remap-preview", methods=["GET"])
    @protect()
    def remap_preview(self, subscription_id: int):
        """Change Subscription Mapping preview: transactions to the new agreement, skipped, and move candidates.
        ---
        get:
          parameters:
          - {in: path, name: subscription_id, required: true, schema: {type: integer}}
          - {in: query, name: agreement_id, required: true, schema: {type: integer}}
          - {in: query, name: from_date_mode, schema: {type: string, enum: [all, custom]}}
          - {in: query, name: from_date, schema: {type: string, format: date}}
          responses:
            200:
              description: The preview
              content:
                application/json:
                  schema: {type: object}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        args = load(RemapPreviewArgsSchema(), request.args)
        plan = RemapPreviewCommand(
            actor, subscription_id, args["agreement_id"], args["from_date_mode"], args["from_date"], partner_id
        ).run()
        return self.response(200, **_plan_json(plan))

    @expose("/subscriptions/<psa_id:subscription_id>/mapping", methods=["PUT"])
    @protect()
    def remap_subscription(self, subscription_id: int):
        """Change Subscription Mapping, Confirm: the new agreement and From Date (the old mapping is kept as history).
        ---
        put:
          parameters:
          - {in: path, name: subscription_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/RemapSubscriptionSchema'}
          responses:
            200:
              description: 'mapping and the preview that was applied'
              content:
                application/json:
                  schema: {type: object, properties: {mapping: {type: object}, preview: {type: object}}}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
            409: {description: Not mapped (use Associate) or being pushed}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(RemapSubscriptionSchema(), request.get_json(silent=True) or {})
        mapping, plan = RemapSubscriptionCommand(
            actor,
            subscription_id,
            body["agreement_id"],
            body["from_date_mode"],
            body["from_date"],
            body["move_pushed"],
            partner_id,
            accept_mismatch=body["accept_mismatch"],
        ).run()
        return self.response(200, mapping=_mapping_json(mapping), preview=_plan_json(plan)["preview"])

    @expose("/subscriptions/<psa_id:subscription_id>/history", methods=["GET"])
    @protect()
    def subscription_history(self, subscription_id: int):
        """Every mapping the subscription has had, newest first.
        ---
        get:
          parameters:
          - {in: path, name: subscription_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: 'result: [mapping]'
              content:
                application/json:
                  schema: {type: object, properties: {result: {type: array, items: {type: object}}}}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        rows = SubscriptionHistoryCommand(actor, subscription_id, partner_id).run()
        return self.response(200, result=[_mapping_json(m) for m in rows])

    @expose("/subscriptions/automap", methods=["POST"])
    @protect()
    def automap_subscriptions(self):
        """Auto-associate unmapped subscriptions of mapped customers (the host calls it when subscriptions appear).
        ---
        post:
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/AutomapSchema'}
          responses:
            200:
              description: 'mapped: [mapping], skipped: {subscription id: reason}'
              content:
                application/json:
                  schema: {type: object, properties: {mapped: {type: array, items: {type: object}}, skipped: {type: object, additionalProperties: {type: string}}}}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        actor, partner_id = partner_scope(need="active")
        body = load(AutomapSchema(), request.get_json(silent=True) or {})
        result = AutoAssociateSubscriptionsCommand(actor, partner_id, body["customer_ids"]).run()
        return self.response(
            200,
            mapped=[_mapping_json(m) for m in result.created],
            skipped={str(k): v for k, v in result.skipped.items()},
        )


def _pair(pair) -> dict:
    """An exact-match pair."""
    customer_id, customer_name, company_id, company_name = pair
    return {
        "customer_id": customer_id,
        "customer_name": customer_name,
        "company_id": company_id,
        "company_name": company_name,
    }


# --- Products / Subscriptions tab -------------------------------------------------


def _iso(value) -> str | None:
    """A date as ISO text, or None."""
    return value.isoformat() if value is not None else None


def _money(value) -> str:
    """Money as text with cents."""
    return str(Decimal(value).quantize(_CENT))


def _customer_head(customer, company) -> dict:
    """The popups' Customer line: name, unique id, company."""
    return {
        "id": customer.id,
        "name": customer.name,
        "external_id": customer.external_id,
        "company": company_json(company),
    }


def _agreement_json(agreement) -> dict | None:
    """A cached agreement as the tab shows it."""
    if agreement is None:
        return None
    return {
        "id": agreement.id,
        "remote_id": agreement.remote_id,
        "name": agreement.name,
        "type": agreement.type_name,
        "billing_start_date": _iso(agreement.bill_start_date),
        "start_date": _iso(agreement.start_date),
        "end_date": _iso(agreement.end_date),
        "billing_cycle": agreement.billing_cycle,
        "status": agreement.agreement_status,
        "cancelled": bool(agreement.cancelled),
    }


def _mapping_json(mapping) -> dict | None:
    """A subscription mapping (active or history)."""
    if mapping is None:
        return None
    return {
        "id": mapping.id,
        "subscription_id": mapping.subscription_id,
        "agreement": _agreement_json(mapping.agreement),
        "from_date_mode": mapping.from_date_mode,
        "from_date": _iso(mapping.from_date),
        "method": mapping.method,
        "created_by": mapping.created_by,
        "created_at": utc_iso(mapping.created_at),
        "ended_by": mapping.ended_by,
        "ended_at": utc_iso(mapping.ended_at),
        "previous_mapping_id": mapping.previous_mapping_id,
        "move_pushed": mapping.move_pushed,
        "move_transaction_ids": mapping.move_transaction_ids or [],
    }


def _subscription_row(row: dict) -> dict:
    """One row of the expanded customer."""
    sub = row["subscription"]
    return {
        "id": sub.id,
        "external_id": sub.external_id,
        "name": sub.name,
        "status": sub.status,
        "quantity": format(sub.quantity.normalize(), "f"),
        "unit_price": _money(sub.unit_price),
        "value": _money(sub.quantity * sub.unit_price),
        "frequency": row["frequency"],
        "start_date": _iso(sub.start_date),
        "mapping": _mapping_json(row["mapping"]),
        "sync_status": row["sync"]["status"],
        "sync_reason": row["sync"]["reason"],
        "unmapped_reason": row["unmapped_reason"],
    }


def _unmapped_row(row: dict) -> dict:
    """One row of Unmapped only: the subscription, its customer, its company (when mapped), why unmapped."""
    sub = row["subscription"]
    return {
        "id": sub.id,
        "external_id": sub.external_id,
        "name": sub.name,
        "quantity": format(sub.quantity.normalize(), "f"),
        "value": _money(sub.quantity * sub.unit_price),
        "frequency": row["frequency"],
        "start_date": _iso(sub.start_date),
        "customer": {
            "id": row["customer"].id,
            "name": row["customer"].name,
            "external_id": row["customer"].external_id,
        },
        "company": company_json(row["company"]),
        "reason": row["reason"],
    }


def _associate_plan_json(plan) -> dict:
    """An Associate preview."""
    return {
        "agreement": _agreement_json(plan.agreement),
        "to_new": plan.to_new,
        "to_new_amount": _money(plan.to_new_amount),
        "to_skip": plan.to_skip,
        "to_skip_amount": _money(plan.to_skip_amount),
        "warnings": plan.warnings,
        "result": [
            {
                "subscription_id": r["subscription"].id,
                "from_date": _iso(r["from_date"]),
                "to_new": len(r["preview"].to_new),
                "to_new_amount": _money(r["preview"].to_new_amount),
                "to_skip": len(r["preview"].to_skip),
                "to_skip_amount": _money(r["preview"].to_skip_amount),
            }
            for r in plan.rows
        ],
    }


def _plan_json(plan) -> dict:
    """A Change preview."""
    p = plan.preview
    return {
        "subscription": {
            "id": plan.subscription.id,
            "name": plan.subscription.name,
            "external_id": plan.subscription.external_id,
        },
        "current": _mapping_json(plan.current),
        "agreement": _agreement_json(plan.agreement),
        "from_date": _iso(plan.from_date),
        "allowed_range": {"from": _iso(plan.allowed.lower), "to": _iso(plan.allowed.upper)},
        "warning": plan.warning,
        "preview": {
            "to_new": list(p.to_new),
            "to_skip": list(p.to_skip),
            "move_candidates": list(p.move_candidates),
            "in_flight": list(p.in_flight),
            "to_new_amount": _money(p.to_new_amount),
            "to_skip_amount": _money(p.to_skip_amount),
            "move_amount": _money(p.move_amount),
            "warning": p.warning,
            "pushed_count": plan.pushed,
            "move_from": plan.move_from,
        },
    }
