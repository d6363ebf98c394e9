"""Sandbox seed data: the JSON format, the built-in default seed, and generated companies.

Seed format (JSON; every list optional; records use ConnectWise's own field names, with
references written ``{"id": n}``; ``id`` optional, assigned in order when absent)::

    {
      "accounts": [
        {
          "companyId": "demo_msp",              # the login company id (case-insensitive)
          "companyName": "Demo MSP",            # returned by /login/companyinfo
          "codebase": "v4_6_release/",          # optional, default shown
          "credentials": {"publicKey": "...", "privateKey": "...",
                          "clientIds": ["<guid>", ...]},   # [] or absent = any clientId
          "members": [{"publicKey": "...", "privateKey": "...", "readOnly": true}],  # optional
          "companyStatuses": [{"id": 1, "name": "Active"}],        # defaults provided
          "companyTypes":    [{"id": 1, "name": "Client"}],        # defaults provided
          "billingCycles":   [{"id": 1, "name": "Monthly"}],       # defaults provided
          "companies":       [{"id": 1, "identifier": "Acme", "name": "Acme Corp",
                               "types": [{"id": 1}], "status": {"id": 1}}],
          "agreementTypes":  [{"id": 1, "name": "Managed Services"}],
          "agreements":      [{"id": 1, "name": "CSP Monthly", "company": {"id": 1},
                               "type": {"id": 1}, "contact": {"id": 1, "name": "Jo"},
                               "billingCycle": {"id": 1}, "startDate": "2024-01-01T00:00:00Z",
                               "billStartDate": "2024-01-01T00:00:00Z", "noEndingDateFlag": true}],
          "categories":      [{"id": 1, "name": "Cloud Services"}],
          "subcategories":   [{"id": 1, "name": "Microsoft 365", "category": {"id": 1}}],
          "productTypes":    [{"id": 1, "name": "Subscription", "typeXref": "NonInventoryPart"}],
          "catalogItems":    [{"id": 1, "identifier": "M365-BB-M", "description": "...",
                               "customerDescription": "...", "subcategory": {"id": 1},
                               "type": {"id": 1}, "price": 7.2, "cost": 6.0}],
          "additions":       [{"agreementId": 1, "product": {"id": 1}, "billCustomer": "Billable",
                               "quantity": 5, "serialNumber": "MSPHUB-T1"}],
          "adjustments":     [{"agreementId": 1, "amount": -10, "description": "Credit MSPHUB-T2"}]
        }
      ]
    }

Seed records skip business rules (a cancelled agreement may hold additions) but not
shape checks. ``default_seed()`` is deterministic; ``generate_companies(n)`` adds many.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import records
from .resources import RESOURCES
from .store import Store

DEMO_COMPANY_ID = "demo_msp"
DEMO_PUBLIC_KEY = "SandboxPublicKey1"
DEMO_PRIVATE_KEY = "SandboxPrivateKey1-not-a-secret"
DEMO_CLIENT_ID = "5f2c3b7e-1d4a-4c1e-9a6b-0c2d4e6f8a10"
READONLY_PUBLIC_KEY = "SandboxReadOnlyKey"
READONLY_PRIVATE_KEY = "SandboxReadOnlyPrivate"
OTHER_COMPANY_ID = "other_msp"
OTHER_PUBLIC_KEY = "OtherPublicKey"
OTHER_PRIVATE_KEY = "OtherPrivateKey-not-a-secret"

# seed key -> resource name, in loading order
SECTIONS = (
    ("companyStatuses", "companyStatuses"),
    ("companyTypes", "companyTypes"),
    ("companies", "companies"),
    ("billingCycles", "billingCycles"),
    ("agreementTypes", "agreementTypes"),
    ("agreements", "agreements"),
    ("categories", "categories"),
    ("subcategories", "subcategories"),
    ("productTypes", "productTypes"),
    ("catalogItems", "catalog"),
    ("additions", "additions"),
    ("adjustments", "adjustments"),
)
DEFAULTS = {
    "companyStatuses": [
        {"id": 1, "name": "Active", "defaultFlag": True},
        {"id": 2, "name": "Inactive", "inactiveFlag": True},
    ],
    "companyTypes": [
        {"id": 1, "name": "Client", "defaultFlag": True},
        {"id": 2, "name": "Prospect"},
        {"id": 3, "name": "Vendor", "vendorFlag": True},
        {"id": 4, "name": "Partner"},
    ],
    "billingCycles": [
        {"id": 1, "name": "Monthly"},
        {"id": 2, "name": "Quarterly"},
        {"id": 3, "name": "Annual"},
        {"id": 4, "name": "One Time"},
    ],
}
COMPANY_NAMES = (
    "Acme Corporation",
    "ACME Corporation",
    'O\'Brien "IT" & Co',
    "Café Müller GmbH",
    "Contoso Ltd",
    "contoso ltd",
    "Fabrikam, Inc.",
    "Northwind Traders",
    "Tailspin Toys",
    "Wide World Importers",
    "Smith & Sons Plumbing",
    "100% Uptime *Networks*",
    "Bracket [Test] Ltd",
    "Ærø Shipping ApS",
    "Zürich Dental AG",
    "Adventure Works",
    "Litware, Inc.",
    "Proseware LLC",
    "Blue Yonder Airlines",
    "Coho Winery",
)
DELETED_COMPANY = "Proseware LLC"
CATALOG = (
    ("CFQ7TTC0LH18-P1M-M", "Microsoft 365 Business Basic (Monthly)", 7.2, 6.0, 1),
    ("CFQ7TTC0LDPB-P1Y-A", "Microsoft 365 Business Standard (Annual)", 150.0, 125.0, 1),
    ("CFQ7TTC0LFLZ-P1M-M", "Microsoft 365 E3 (Monthly)", 43.2, 36.0, 1),
    ("AZURE-PLAN", "Azure plan", 0.0, 0.0, 2),
)


def identifier_for(name: str, number: int) -> str:
    """A ConnectWise-style identifier (alphanumerics, at most 30 chars, unique by number)."""
    stem = "".join(ch for ch in name if ch.isascii() and ch.isalnum())[:24] or "Company"
    return f"{stem}{number}"


def company(number: int, name: str, deleted: bool = False) -> dict[str, Any]:
    """One seed company."""
    record = {
        "id": number,
        "identifier": identifier_for(name, number),
        "name": name,
        "status": {"id": 1},
        "types": [{"id": 1}],
        "city": "Springfield",
    }
    return {**record, "deletedFlag": True} if deleted else record


def generate_companies(count: int, start_id: int = 1001) -> list[dict[str, Any]]:
    """``count`` deterministic extra companies numbered from ``start_id``."""
    return [company(start_id + i, f"Generated Customer {start_id + i:06d}") for i in range(count)]


def _agreement(number: int, company_id: int, name: str, cycle: int, **extra: Any) -> dict[str, Any]:
    """One seed agreement (CSP type, started 2024-01-01 unless overridden)."""
    return {
        "id": number,
        "name": name,
        "company": {"id": company_id},
        "type": {"id": 2},
        "contact": {"id": 100 + company_id, "name": "Primary Contact"},
        "billingCycle": {"id": cycle},
        "startDate": "2024-01-01T00:00:00Z",
        "billStartDate": "2024-01-01T00:00:00Z",
        "noEndingDateFlag": True,
        "applicationUnits": "Amount",
        "billProducts": "Billable",
        **extra,
    }


def default_agreements(company_ids: list[int]) -> list[dict[str, Any]]:
    """Monthly for everyone; annual for every other company; some cancelled or expired."""
    out: list[dict[str, Any]] = []
    for cid in company_ids:
        out.append(_agreement(len(out) + 1, cid, "Microsoft CSP - Monthly", 1))
        if cid % 2 == 1:
            out.append(
                _agreement(
                    len(out) + 1,
                    cid,
                    "Microsoft CSP - Annual",
                    3,
                    startDate="2024-07-01T00:00:00Z",
                    billStartDate="2024-07-01T00:00:00Z",
                    noEndingDateFlag=False,
                    endDate="2030-06-30T00:00:00Z",
                )
            )
        if cid % 3 == 0:
            out.append(
                _agreement(
                    len(out) + 1,
                    cid,
                    "Legacy Backup",
                    1,
                    cancelledFlag=True,
                    dateCancelled="2024-03-31T00:00:00Z",
                    reasonCancelled="Replaced",
                )
            )
        if cid % 4 == 0:
            out.append(
                _agreement(
                    len(out) + 1,
                    cid,
                    "Support 2022",
                    3,
                    noEndingDateFlag=False,
                    startDate="2022-01-01T00:00:00Z",
                    endDate="2022-12-31T00:00:00Z",
                )
            )
    return out


def _catalog() -> dict[str, list[dict[str, Any]]]:
    """Categories, subcategories, product types and catalog items."""
    return {
        "categories": [{"id": 1, "name": "Software"}, {"id": 2, "name": "Cloud Services"}],
        "subcategories": [
            {"id": 1, "name": "Microsoft 365", "category": {"id": 2}},
            {"id": 2, "name": "Azure", "category": {"id": 2}},
            {"id": 3, "name": "Security", "category": {"id": 1}},
        ],
        "productTypes": [
            {"id": 1, "name": "Subscription", "typeXref": "NonInventoryPart"},
            {"id": 2, "name": "Service", "typeXref": "Service"},
        ],
        "catalogItems": [
            {
                "id": i,
                "identifier": ident,
                "description": title,
                "customerDescription": title,
                "category": {"id": 2},
                "subcategory": {"id": sub},
                "type": {"id": 1},
                "price": price,
                "cost": cost,
            }
            for i, (ident, title, price, cost, sub) in enumerate(CATALOG, start=1)
        ],
    }


def _existing_records() -> dict[str, list[dict[str, Any]]]:
    """Additions and an adjustment already in ConnectWise (one ours, one entered by hand)."""
    return {
        "additions": [
            {
                "agreementId": 1,
                "product": {"id": 1},
                "billCustomer": "Billable",
                "quantity": 10,
                "unitPrice": 7.2,
                "unitCost": 6.0,
                "effectiveDate": "2025-01-01T00:00:00Z",
                "cancelledDate": "2025-01-31T00:00:00Z",
                "serialNumber": "MSPHUB-T1",
                "invoiceDescription": "Microsoft 365 Business Basic 2025-01-01..2025-01-31",
            },
            {
                "agreementId": 1,
                "product": {"id": 3},
                "billCustomer": "Billable",
                "quantity": 2,
                "unitPrice": 43.2,
                "unitCost": 36.0,
                "effectiveDate": "2024-06-01T00:00:00Z",
                "description": "Entered by hand",
            },
        ],
        "adjustments": [
            {
                "agreementId": 1,
                "amount": -7.2,
                "effectiveDate": "2025-02-01T00:00:00Z",
                "description": "Credit Microsoft 365 Business Basic MSPHUB-T2",
            }
        ],
    }


def default_seed(extra_companies: int = 0) -> dict[str, Any]:
    """The built-in deterministic seed: a demo account and a second, separate account."""
    companies = [company(i, n, n == DELETED_COMPANY) for i, n in enumerate(COMPANY_NAMES, start=1)]
    companies += generate_companies(extra_companies)
    demo = {
        "companyId": DEMO_COMPANY_ID,
        "companyName": "Demo MSP",
        "credentials": {"publicKey": DEMO_PUBLIC_KEY, "privateKey": DEMO_PRIVATE_KEY, "clientIds": [DEMO_CLIENT_ID]},
        "members": [{"publicKey": READONLY_PUBLIC_KEY, "privateKey": READONLY_PRIVATE_KEY, "readOnly": True}],
        "companies": companies,
        "agreementTypes": [{"id": 1, "name": "Managed Services"}, {"id": 2, "name": "Microsoft CSP"}],
        "agreements": default_agreements([c["id"] for c in companies[: len(COMPANY_NAMES)]]),
        **_catalog(),
        **_existing_records(),
    }
    other = {
        "companyId": OTHER_COMPANY_ID,
        "companyName": "Other MSP",
        "credentials": {"publicKey": OTHER_PUBLIC_KEY, "privateKey": OTHER_PRIVATE_KEY, "clientIds": []},
        "companies": [company(1, "Other Customer One"), company(2, "Acme Corporation")],
        "agreementTypes": [{"id": 1, "name": "Managed Services"}, {"id": 2, "name": "Microsoft CSP"}],
        "agreements": default_agreements([1, 2]),
        **_catalog(),
    }
    return {"accounts": [demo, other]}


def read_seed(source: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """A seed from a dict, a JSON file path, or the default when None."""
    if source is None:
        return default_seed()
    if isinstance(source, dict):
        return source
    return json.loads(Path(source).read_text(encoding="utf-8"))


def load_seed(store: Store, seed: dict[str, Any]) -> None:
    """Store every account of ``seed`` and its records.

    :raises resources.InvalidObject: when a seed record misses required fields.
    """
    for account in seed.get("accounts", []):
        data = {**DEFAULTS, **account}
        key = account["companyId"]
        store.put_account({k: v for k, v in account.items() if k not in dict(SECTIONS)})
        for section, resource_name in SECTIONS:
            for item in data.get(section, []):
                _load_record(store, key, RESOURCES[resource_name], item)


def _load_record(store: Store, account: str, resource: Any, item: dict[str, Any]) -> None:
    """Create one seed record (under its agreement for additions/adjustments)."""
    parent = None
    if resource.parent:
        agreement_id = item.get("agreementId") or (item.get("agreement") or {}).get("id")
        parent = store.get(account, "agreements", int(agreement_id))
    record = records.create(store, account, resource, item, parent=parent, check=False)
    if item.get("deletedFlag"):
        records.remove(store, account, resource, record)
