"""The admin CRUD console: FAB ModelViews, declared, tenant-scoped where partners may read."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface

from msphub_psa import permissions
from msphub_psa.models.directory import PsaAgreement, PsaCompany, PsaListEntry, PsaListRefresh
from msphub_psa.models.hub import BillingTransaction, Customer, Distributor, Partner, Product, Subscription
from msphub_psa.models.integration import Integration
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.rules import ProductDefaultRule, ProductRule
from msphub_psa.models.sync import SyncItem, SyncRun
from msphub_psa.models.tenancy import AuditEvent, PartnerFeature, UserTenant
from msphub_psa.views.base import TenantModelView


class ReadOnlyMixin:
    """No add, edit or delete: read only (the marketplace data is the host's; caches and history are the jobs')."""

    base_permissions = [permissions.READ]


class DistributorView(TenantModelView):
    """Distributors (Admin)."""

    datamodel = SQLAInterface(Distributor)
    class_permission_name = permissions.CONSOLE
    list_columns = ["id", "name"]
    search_columns = ["name"]


class PartnerView(TenantModelView):
    """Partners (Admin)."""

    datamodel = SQLAInterface(Partner)
    class_permission_name = permissions.CONSOLE
    list_columns = ["id", "name", "distributor", "currency", "timezone"]
    search_columns = ["name", "distributor", "currency"]
    add_columns = edit_columns = ["name", "distributor", "currency", "timezone"]


class UserTenantView(TenantModelView):
    """Which distributor or partner each user acts for (Admin)."""

    datamodel = SQLAInterface(UserTenant)
    class_permission_name = permissions.CONSOLE
    list_columns = ["user_id", "distributor", "partner", "timezone"]
    add_columns = edit_columns = ["user_id", "distributor", "partner", "timezone"]


class PartnerFeatureView(TenantModelView):
    """Feature toggles as stored (Admin); distributors use the Partner Features page."""

    datamodel = SQLAInterface(PartnerFeature)
    class_permission_name = permissions.CONSOLE
    base_permissions = [permissions.READ]
    list_columns = ["partner", "enabled", "changed_by_id", "changed_at"]
    search_columns = ["partner", "enabled"]


class IntegrationView(TenantModelView):
    """ConnectWise integrations (Admin); the private key is never a column here."""

    datamodel = SQLAInterface(Integration)
    class_permission_name = permissions.CONSOLE
    base_permissions = [permissions.READ]
    list_columns = [
        "partner",
        "status",
        "company_name",
        "api_url",
        "activated_by",
        "activated_at",
        "validation_result",
        "validation_hint",
    ]
    show_columns = [
        "partner",
        "status",
        "client_id",
        "client_id_locked",
        "company_name",
        "public_key",
        "api_url",
        "activated_by",
        "activated_at",
        "deactivated_at",
        "validation_job_id",
        "validation_result",
        "validated_at",
        "validation_hint",
        "last_validation_error",
        "updated_at",
    ]
    search_columns = ["partner", "status", "company_name", "api_url", "validation_result", "activated_at"]


class AuditEventView(ReadOnlyMixin, TenantModelView):
    """The audit trail (Admin: all; partner roles: their own tenant)."""

    datamodel = SQLAInterface(AuditEvent)
    class_permission_name = permissions.AUDIT
    list_columns = ["at", "username", "partner", "action", "object_type", "object_id", "outcome"]
    show_columns = list_columns + ["detail"]
    search_columns = ["username", "partner", "action", "object_type", "object_id", "outcome", "at"]
    base_order = ("at", "desc")
    list_template = "psa/audit_list.html"  # FAB's list + "Export CSV" (GET /api/v1/psa_audit/export)
    list_title, show_title = "Audit Log", "Audit Event"


class CustomerView(ReadOnlyMixin, TenantModelView):
    """Customers (read only)."""

    datamodel = SQLAInterface(Customer)
    list_columns = ["external_id", "name", "partner", "created_at"]
    search_columns = ["name", "external_id", "partner"]


class ProductView(TenantModelView):
    """Distributor catalog products (Admin)."""

    datamodel = SQLAInterface(Product)
    class_permission_name = permissions.CONSOLE
    list_columns = ["product_id", "title", "publisher", "item_type", "billing_term", "billing_frequency"]
    search_columns = ["product_id", "title", "publisher", "item_type", "billing_term", "billing_frequency"]


class SubscriptionView(ReadOnlyMixin, TenantModelView):
    """Subscriptions (read only)."""

    datamodel = SQLAInterface(Subscription)
    list_columns = ["external_id", "name", "customer", "quantity", "unit_price", "status", "start_date", "end_date"]
    search_columns = ["name", "external_id", "customer", "status", "start_date"]


class BillingTransactionView(ReadOnlyMixin, TenantModelView):
    """MSP Hub billing transactions (read only, immutable)."""

    datamodel = SQLAInterface(BillingTransaction)
    list_columns = [
        "id",
        "subscription",
        "customer",
        "kind",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "amount",
        "currency",
    ]
    search_columns = ["customer", "subscription", "kind", "period_start", "period_end"]
    base_order = ("id", "desc")


class ProductRuleView(TenantModelView):
    """Custom product rules (read here: every change goes through the audited commands)."""

    datamodel = SQLAInterface(ProductRule)
    class_permission_name = permissions.RULES
    base_permissions = [permissions.READ]
    list_columns = [
        "partner",
        "priority",
        "conditions",
        "category",
        "subcategory",
        "product_type",
        "product_class",
        "updated_at",
    ]
    show_columns = list_columns + ["created_by_id", "created_at", "updated_by_id", "version"]
    search_columns = ["partner", "category", "subcategory", "product_type", "product_class"]
    base_order = ("priority", "asc")


class ProductDefaultRuleView(TenantModelView):
    """Default product rules, one per partner (read here; edited on the page, API or CLI)."""

    datamodel = SQLAInterface(ProductDefaultRule)
    class_permission_name = permissions.RULES
    base_permissions = [permissions.READ]
    list_columns = ["partner", "category", "subcategory", "product_type", "product_class", "updated_at"]
    search_columns = ["partner", "category"]


class PsaListEntryView(TenantModelView):
    """The cached ConnectWise categories, subcategories and product types."""

    datamodel = SQLAInterface(PsaListEntry)
    class_permission_name = permissions.RULES
    base_permissions = [permissions.READ]
    list_columns = ["partner", "kind", "remote_id", "name", "category_remote_id", "inactive"]
    search_columns = ["partner", "kind", "name"]


class PsaListRefreshView(TenantModelView):
    """When each partner's ConnectWise lists were last refreshed."""

    datamodel = SQLAInterface(PsaListRefresh)
    class_permission_name = permissions.RULES
    base_permissions = [permissions.READ]
    list_columns = ["partner", "status", "refreshed_at", "requested_at", "error"]


CONSOLE_VIEWS = [
    # (view, name, category, icon)
    (DistributorView, "Distributors", "Console", "fa-building"),
    (PartnerView, "Partners", "Console", "fa-handshake-o"),
    (UserTenantView, "User Tenants", "Console", "fa-user-circle"),
    (PartnerFeatureView, "Feature Toggles", "Console", "fa-toggle-on"),
    (IntegrationView, "Integrations", "Console", "fa-plug"),
    (ProductView, "Products", "Console", "fa-cube"),
    (AuditEventView, "Audit Log", "Console", "fa-history"),
    (CustomerView, "Customers", permissions.MENU_MARKETPLACE, "fa-users"),
    (SubscriptionView, "Subscriptions", permissions.MENU_MARKETPLACE, "fa-refresh"),
    (BillingTransactionView, "Billing Transactions", permissions.MENU_MARKETPLACE, "fa-money"),
    (ProductRuleView, "Product Rules", "Console", "fa-tags"),
    (ProductDefaultRuleView, "Default Product Rules", "Console", "fa-tag"),
    (PsaListEntryView, "ConnectWise Lists", "Console", "fa-list"),
    (PsaListRefreshView, "ConnectWise List Refreshes", "Console", "fa-refresh"),
]


# --- Reconciliation Center: directory cache and mappings, read only --------------------------


class PsaCompanyView(ReadOnlyMixin, TenantModelView):
    """The cached ConnectWise companies (refreshed by the directory job)."""

    datamodel = SQLAInterface(PsaCompany)
    class_permission_name = permissions.RECONCILIATION
    list_columns = ["partner", "remote_id", "identifier", "name", "status", "deleted", "remote_updated_at", "cached_at"]
    search_columns = ["partner", "remote_id", "identifier", "name", "deleted"]
    base_order = ("name", "asc")


class PsaAgreementView(ReadOnlyMixin, TenantModelView):
    """The cached ConnectWise agreements."""

    datamodel = SQLAInterface(PsaAgreement)
    class_permission_name = permissions.RECONCILIATION
    list_columns = [
        "partner",
        "remote_id",
        "name",
        "company",
        "type_name",
        "billing_cycle",
        "start_date",
        "end_date",
        "bill_start_date",
        "cancelled",
        "deleted",
    ]
    search_columns = ["partner", "remote_id", "name", "company", "billing_cycle", "cancelled", "deleted"]


class CustomerMappingView(ReadOnlyMixin, TenantModelView):
    """Customer <-> company mappings, active and ended (history)."""

    datamodel = SQLAInterface(CustomerMapping)
    class_permission_name = permissions.RECONCILIATION
    list_columns = [
        "partner",
        "customer",
        "company",
        "method",
        "score",
        "created_by",
        "created_at",
        "ended_at",
        "ended_by",
    ]
    search_columns = ["partner", "customer", "company", "method", "created_by", "created_at", "ended_at"]
    base_order = ("created_at", "desc")


class SubscriptionMappingView(ReadOnlyMixin, TenantModelView):
    """Subscription -> agreement mappings, active and ended."""

    datamodel = SQLAInterface(SubscriptionMapping)
    class_permission_name = permissions.RECONCILIATION
    list_columns = [
        "partner",
        "customer",
        "subscription",
        "agreement",
        "from_date_mode",
        "from_date",
        "active",
        "method",
        "created_by",
        "created_at",
        "ended_at",
        "ended_by",
    ]
    show_columns = list_columns + ["previous_mapping_id", "move_pushed", "move_transaction_ids"]  #
    search_columns = ["partner", "customer", "subscription", "agreement", "active", "method"]


CONSOLE_VIEWS += [
    (PsaCompanyView, "ConnectWise Companies", "Console", "fa-building-o"),
    (PsaAgreementView, "ConnectWise Agreements", "Console", "fa-file-text-o"),
    (CustomerMappingView, "Customer Mappings", "Console", "fa-link"),
    (SubscriptionMappingView, "Subscription Mappings", "Console", "fa-chain"),
]


# --- Billing sync: runs and outbox rows, read only, tenant-scoped -------------------------------


class SyncRunView(ReadOnlyMixin, TenantModelView):
    """Billing push runs: status, times, counts by outcome, ConnectWise calls, progress, alert acknowledgement."""

    datamodel = SQLAInterface(SyncRun)
    class_permission_name = permissions.SYNC
    list_columns = [
        "id",
        "partner",
        "status",
        "requested_by",
        "started_at",
        "finished_at",
        "counts",
        "psa_calls",
        "acknowledged_by",
    ]
    show_columns = [
        "id",
        "partner",
        "status",
        "requested_by",
        "job_id",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "counts",
        "psa_calls",
        "writes",
        "lookups",
        "catalog_calls",
        "progress_done",
        "progress_total",
        "progress_failed",
        "error",
        "acknowledged_by",
        "acknowledged_at",
        "alert_sent_at",
    ]
    search_columns = ["partner", "status", "requested_by", "started_at", "acknowledged_by"]
    base_order = ("id", "desc")
    list_title, show_title = "Sync Runs", "Sync Run"
    label_columns = {
        "psa_calls": "ConnectWise Calls",
        "catalog_calls": "Catalog Calls",
        "counts": "Rows by Outcome",
        "alert_sent_at": "Alert E-mail Sent At",
    }


class SyncItemView(ReadOnlyMixin, TenantModelView):
    """The outbox: one row per billing transaction, its state, ConnectWise record id and last error."""

    datamodel = SQLAInterface(SyncItem)
    class_permission_name = permissions.SYNC
    list_columns = [
        "id",
        "partner",
        "reference",
        "record_kind",
        "state",
        "agreement_remote_id",
        "remote_record_id",
        "attempts",
        "last_error_code",
        "run_id",
        "updated_at",
    ]
    show_columns = [
        "id",
        "partner",
        "reference",
        "transaction_id",
        "subscription_id",
        "customer_id",
        "record_kind",
        "state",
        "reason",
        "agreement_remote_id",
        "remote_record_id",
        "attempts",
        "last_error_code",
        "last_error_message",
        "sending_since",
        "pushed_at",
        "run_id",
        "created_at",
        "updated_at",
    ]
    search_columns = ["partner", "state", "reference", "record_kind", "last_error_code", "run_id", "transaction_id"]
    base_order = ("id", "desc")
    list_title, show_title = "Sync Outbox", "Outbox Row"
    label_columns = {
        "agreement_remote_id": "Agreement (ConnectWise Id)",
        "remote_record_id": "ConnectWise Record Id",
        "run_id": "Run",
        "last_error_code": "Last Error Code",
        "last_error_message": "Last Error",
    }


CONSOLE_VIEWS += [
    (SyncRunView, permissions.MENU_SYNC_RUNS, "Console", "fa-play-circle"),
    (SyncItemView, permissions.MENU_SYNC_ITEMS, "Console", "fa-inbox"),
]


MARKETPLACE_EDITABLE = (DistributorView, PartnerView, ProductView)


def console_views(marketplace_writes: bool) -> list[tuple[type, str, str, str]]:
    """(view, name, category, icon) of the console; the marketplace's views read only unless the host lets the
    plugin write its marketplace relations (``PSA_CONSOLE_MARKETPLACE_WRITES``)."""
    if marketplace_writes:
        return list(CONSOLE_VIEWS)
    return [
        (
            type(view.__name__, (ReadOnlyMixin, view), {"__doc__": view.__doc__})
            if view in MARKETPLACE_EDITABLE
            else view,
            name,
            category,
            icon,
        )
        for view, name, category, icon in CONSOLE_VIEWS
    ]
