"""The values that cross the PSA port: what we send (a charge, a credit, a catalog item) and what we read
back (records, catalog items, list entries, companies, agreements), with no PSA's field names."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CHARGE, CREDIT = "charge", "credit"
"""The two kinds of record the push creates on an agreement."""


@dataclass(frozen=True)
class Charge:
    """A billing transaction's charge, bounded to its period, on a catalog item; ``reference`` is ours."""

    reference: str
    catalog_item_id: int
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    period_start: dt.date
    period_end: dt.date
    description: str


@dataclass(frozen=True)
class Credit:
    """A billing transaction's credit (a negative amount) dated at its period start; its description ends with
    our reference."""

    reference: str
    amount: Decimal
    description: str
    effective_date: dt.date


@dataclass(frozen=True)
class Record:
    """A charge or credit the PSA holds on an agreement; ``reference_text`` is where ours would be."""

    id: int
    kind: str
    agreement_id: int | None
    reference_text: str | None
    catalog_item_id: int | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    amount: Decimal | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class Named:
    """A reference to a named PSA record (a category, a company)."""

    id: int
    name: str | None = None


@dataclass(frozen=True)
class CatalogItem:
    """A product in the PSA's catalog."""

    id: int
    identifier: str
    description: str = ""
    category: Named | None = None
    subcategory: Named | None = None
    type: Named | None = None
    product_class: str | None = None
    inactive: bool = False


@dataclass(frozen=True)
class NewCatalogItem:
    """A catalog item to create."""

    identifier: str
    description: str
    customer_description: str
    category_id: int
    subcategory_id: int
    type_id: int
    product_class: str


@dataclass(frozen=True)
class ListEntry:
    """An entry of the PSA's procurement lists: a category, a subcategory (of a category) or a product type."""

    id: int
    name: str
    category_id: int | None = None
    inactive: bool = False


@dataclass(frozen=True)
class Company:
    """A company of the partner's PSA."""

    id: int
    identifier: str
    name: str
    status: str | None = None
    types: tuple[str, ...] = ()
    deleted: bool = False
    last_updated: dt.datetime | None = None


@dataclass(frozen=True)
class Agreement:
    """An agreement of the partner's PSA."""

    id: int
    name: str
    company_id: int | None = None
    type_name: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    no_ending_date: bool = False
    cancelled: bool = False
    date_cancelled: dt.date | None = None
    status: str | None = None
    billing_cycle: str | None = None
    bill_start_date: dt.date | None = None
    last_updated: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AgreementInvoice:
    """An invoice the PSA made for an agreement's period (read only)."""

    id: int
    agreement_id: int
    number: str
    date: dt.date
    total: Decimal
