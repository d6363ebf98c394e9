"""Pins the public API of msphub_psa.connectwise."""

from __future__ import annotations

import inspect

import msphub_psa.connectwise as cw

EXPECTED = {
    "Addition",
    "Adjustment",
    "Agreement",
    "AgreementType",
    "ApiUrl",
    "ApiUrlPolicy",
    "CWAuthError",
    "CWCompanyNotFound",
    "CWConnectionLost",
    "CWError",
    "CWForbidden",
    "CWHTTPError",
    "CWNotFound",
    "CWRateLimited",
    "CWServerError",
    "CWTLSError",
    "CWTimeout",
    "CWTransportError",
    "CWURLRefused",
    "CWUnreachable",
    "CWValidationError",
    "CatalogItem",
    "Category",
    "Company",
    "CompanyInfo",
    "ConnectWiseClient",
    "Credentials",
    "DEFAULT_ALLOWED_HOSTS",
    "Invoice",
    "NewAddition",
    "NewAdjustment",
    "NewCatalogItem",
    "ProductType",
    "Ref",
    "RetryPolicy",
    "Subcategory",
    "SystemInfo",
    "Timeouts",
    "conditions",
    "error_from_response",
    "is_retryable",
    "patch_ops",
    "redact_headers",
}
CLIENT_METHODS = {
    "company_info",
    "system_info",
    "check_credentials",
    "iter_pages",
    "iter_companies",
    "get_company",
    "count_companies",
    "get_companies",
    "iter_agreements",
    "get_agreement",
    "get_agreement_invoices",
    "get_agreements",
    "iter_agreement_types",
    "iter_additions",
    "get_addition",
    "find_additions_by_reference",
    "create_addition",
    "update_addition",
    "cancel_addition",
    "delete_addition",
    "iter_adjustments",
    "get_adjustment",
    "find_adjustments_by_reference",
    "create_adjustment",
    "delete_adjustment",
    "iter_invoices",
    "iter_catalog_items",
    "find_catalog_item",
    "find_catalog_items",
    "create_catalog_item",
    "update_catalog_item",
    "iter_categories",
    "create_category",
    "iter_subcategories",
    "create_subcategory",
    "iter_product_types",
    "create_product_type",
    "close",
}


def test_exported_members():
    assert set(cw.__all__) == EXPECTED
    assert all(hasattr(cw, name) for name in cw.__all__)


def test_client_methods():
    public = {n for n, _ in inspect.getmembers(cw.ConnectWiseClient, inspect.isfunction) if not n.startswith("_")}
    assert public == CLIENT_METHODS


def test_error_tree():
    assert issubclass(cw.CWAuthError, cw.CWHTTPError) and issubclass(cw.CWHTTPError, cw.CWError)
    assert issubclass(cw.CWConnectionLost, cw.CWTransportError) and issubclass(cw.CWURLRefused, ValueError)
