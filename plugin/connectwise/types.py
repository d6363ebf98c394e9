"""Dataclasses for the ConnectWise records the product reads and writes.

``from_json`` parses ConnectWise JSON (money as ``Decimal``: the client parses floats as
Decimal); ``raw`` keeps the whole dict. ``New*`` classes are write payloads (``to_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .conditions import format_datetime

_Date = date  # the name a field called ``date`` cannot shadow

Json = dict[str, Any]


def _dec(value: Any) -> Decimal | None:
    """A Decimal from a JSON number (or None)."""
    return None if value is None else Decimal(str(value))


def parse_datetime(value: str | None) -> datetime | None:
    """Parse ConnectWise's ``YYYY-MM-DDTHH:MM:SSZ`` into an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: str | None) -> date | None:
    """The date part of a ConnectWise datetime string."""
    moment = parse_datetime(value)
    return moment.date() if moment else None


def _updated(data: Json) -> datetime | None:
    """``_info.lastUpdated`` as a datetime."""
    return parse_datetime((data.get("_info") or {}).get("lastUpdated"))


@dataclass(frozen=True)
class Ref:
    """A reference to another record: ``{id, name, identifier}``."""

    id: int
    name: str | None = None
    identifier: str | None = None

    @classmethod
    def from_json(cls, data: Json | None) -> Ref | None:
        """Parse a reference object (None stays None)."""
        if not data or data.get("id") is None:
            return None
        return cls(int(data["id"]), data.get("name"), data.get("identifier"))


@dataclass(frozen=True)
class CompanyInfo:
    """``/login/companyinfo/{companyId}``: the company's name and codebase."""

    company_id: str
    company_name: str
    codebase: str
    version_code: str | None
    is_cloud: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> CompanyInfo:
        """Parse companyinfo's PascalCase body."""
        return cls(
            data.get("CompanyID", ""),
            data.get("CompanyName", ""),
            data.get("Codebase", ""),
            data.get("VersionCode"),
            str(data.get("IsCloud", "")).lower() == "true",
            data,
        )


@dataclass(frozen=True)
class SystemInfo:
    """``/system/info``."""

    version: str
    is_cloud: bool
    server_time_zone: str | None
    cloud_region: str | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> SystemInfo:
        """Parse ``/system/info``."""
        return cls(
            data.get("version", ""),
            bool(data.get("isCloud")),
            data.get("serverTimeZone"),
            data.get("cloudRegion"),
            data,
        )


@dataclass(frozen=True)
class Company:
    """``/company/companies`` record."""

    id: int
    identifier: str
    name: str
    status: str | None
    types: tuple[str, ...]
    deleted: bool
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Company:
        """Parse a company."""
        return cls(
            int(data["id"]),
            data.get("identifier", ""),
            data.get("name", ""),
            (data.get("status") or {}).get("name"),
            tuple(t.get("name", "") for t in data.get("types") or ()),
            bool(data.get("deletedFlag")),
            _updated(data),
            data,
        )


@dataclass(frozen=True)
class AgreementType:
    """``/finance/agreements/types`` record."""

    id: int
    name: str
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> AgreementType:
        """Parse an agreement type."""
        return cls(int(data["id"]), data.get("name", ""), data)


@dataclass(frozen=True)
class Agreement:
    """``/finance/agreements`` record."""

    id: int
    name: str
    company: Ref | None
    type: Ref | None
    start_date: date | None
    end_date: date | None
    no_ending_date: bool
    cancelled: bool
    date_cancelled: date | None
    agreement_status: str | None
    billing_cycle: str | None
    bill_start_date: date | None
    bill_amount: Decimal | None
    parent_agreement_id: int | None
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Agreement:
        """Parse an agreement."""
        parent = Ref.from_json(data.get("parentAgreement"))
        return cls(
            int(data["id"]),
            data.get("name", ""),
            Ref.from_json(data.get("company")),
            Ref.from_json(data.get("type")),
            _date(data.get("startDate")),
            _date(data.get("endDate")),
            bool(data.get("noEndingDateFlag")),
            bool(data.get("cancelledFlag")),
            _date(data.get("dateCancelled")),
            data.get("agreementStatus"),
            (data.get("billingCycle") or {}).get("name"),
            _date(data.get("billStartDate")),
            _dec(data.get("billAmount")),
            parent.id if parent else None,
            _updated(data),
            data,
        )

    def is_active_on(self, day: date) -> bool:
        """Not cancelled, started, and not past its end date on ``day``."""
        if self.cancelled or (self.start_date and self.start_date > day):
            return False
        return self.no_ending_date or self.end_date is None or self.end_date >= day


@dataclass(frozen=True)
class Addition:
    """``/finance/agreements/{id}/additions`` record."""

    id: int
    agreement_id: int | None
    product: Ref | None
    quantity: Decimal | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    bill_customer: str | None
    effective_date: date | None
    cancelled_date: date | None
    description: str | None
    invoice_description: str | None
    serial_number: str | None
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Addition:
        """Parse an addition."""
        return cls(
            int(data["id"]),
            data.get("agreementId"),
            Ref.from_json(data.get("product")),
            _dec(data.get("quantity")),
            _dec(data.get("unitPrice")),
            _dec(data.get("unitCost")),
            data.get("billCustomer"),
            _date(data.get("effectiveDate")),
            _date(data.get("cancelledDate")),
            data.get("description"),
            data.get("invoiceDescription"),
            data.get("serialNumber"),
            _updated(data),
            data,
        )


@dataclass(frozen=True)
class Adjustment:
    """``/finance/agreements/{id}/adjustments`` record."""

    id: int
    agreement_id: int | None
    amount: Decimal | None
    description: str | None
    effective_date: date | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Adjustment:
        """Parse an adjustment."""
        return cls(
            int(data["id"]),
            data.get("agreementId"),
            _dec(data.get("amount")),
            data.get("description"),
            _date(data.get("effectiveDate")),
            data,
        )


@dataclass(frozen=True)
class CatalogItem:
    """``/procurement/catalog`` record."""

    id: int
    identifier: str
    description: str
    customer_description: str | None
    category: Ref | None
    subcategory: Ref | None
    type: Ref | None
    product_class: str | None
    price: Decimal | None
    cost: Decimal | None
    inactive: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> CatalogItem:
        """Parse a catalog item."""
        return cls(
            int(data["id"]),
            data.get("identifier", ""),
            data.get("description", ""),
            data.get("customerDescription"),
            Ref.from_json(data.get("category")),
            Ref.from_json(data.get("subcategory")),
            Ref.from_json(data.get("type")),
            data.get("productClass"),
            _dec(data.get("price")),
            _dec(data.get("cost")),
            bool(data.get("inactiveFlag")),
            data,
        )


@dataclass(frozen=True)
class Invoice:
    """``/finance/invoices`` record (ConnectWise makes them; the product only reads them)."""

    id: int
    invoice_number: str | None
    type: str | None
    company: Ref | None
    agreement: Ref | None
    status: str | None
    date: _Date | None
    due_date: _Date | None
    subtotal: Decimal | None
    sales_tax: Decimal | None
    total: Decimal | None
    balance: Decimal | None
    apply_to_type: str | None
    apply_to_id: int | None
    reference: str | None
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Invoice:
        """Parse an invoice."""
        return cls(
            int(data["id"]),
            data.get("invoiceNumber"),
            data.get("type"),
            Ref.from_json(data.get("company")),
            Ref.from_json(data.get("agreement")),
            (data.get("status") or {}).get("name"),
            _date(data.get("date")),
            _date(data.get("dueDate")),
            _dec(data.get("subtotal")),
            _dec(data.get("salesTax")),
            _dec(data.get("total")),
            _dec(data.get("balance")),
            data.get("applyToType"),
            data.get("applyToId"),
            data.get("reference"),
            _updated(data),
            data,
        )

    @property
    def company_id(self) -> int | None:
        """The invoiced company's id."""
        return self.company.id if self.company else None

    @property
    def agreement_id(self) -> int | None:
        """The agreement's id (``Agreement`` invoices)."""
        return self.agreement.id if self.agreement else None


@dataclass(frozen=True)
class Category:
    """``/procurement/categories`` record."""

    id: int
    name: str
    inactive: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Category:
        """Parse a category."""
        return cls(int(data["id"]), data.get("name", ""), bool(data.get("inactiveFlag")), data)


@dataclass(frozen=True)
class Subcategory:
    """``/procurement/subcategories`` record."""

    id: int
    name: str
    category: Ref | None
    inactive: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Subcategory:
        """Parse a subcategory."""
        return cls(
            int(data["id"]),
            data.get("name", ""),
            Ref.from_json(data.get("category")),
            bool(data.get("inactiveFlag")),
            data,
        )


@dataclass(frozen=True)
class ProductType:
    """``/procurement/types`` record."""

    id: int
    name: str
    type_xref: str | None
    inactive: bool
    raw: Json = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> ProductType:
        """Parse a product type."""
        return cls(
            int(data["id"]),
            data.get("name", ""),
            data.get("typeXref"),
            bool(data.get("inactiveFlag")),
            data,
        )


def _cw_date(value: date | datetime | None) -> str | None:
    """ConnectWise datetime string of a date (None stays None)."""
    return None if value is None else format_datetime(value)


def _drop_none(data: Json) -> Json:
    """``data`` without None values, so ConnectWise applies its defaults."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(frozen=True)
class NewAddition:
    """Payload to create an agreement addition."""

    product_id: int
    quantity: Decimal
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    effective_date: date | None = None
    cancelled_date: date | None = None
    bill_customer: str = "Billable"
    description: str | None = None
    invoice_description: str | None = None
    serial_number: str | None = None
    taxable: bool | None = None

    def to_json(self) -> Json:
        """ConnectWise JSON body."""
        return _drop_none(
            {
                "product": {"id": self.product_id},
                "quantity": self.quantity,
                "unitPrice": self.unit_price,
                "unitCost": self.unit_cost,
                "effectiveDate": _cw_date(self.effective_date),
                "cancelledDate": _cw_date(self.cancelled_date),
                "billCustomer": self.bill_customer,
                "description": self.description,
                "invoiceDescription": self.invoice_description,
                "serialNumber": self.serial_number,
                "taxableFlag": self.taxable,
            }
        )


@dataclass(frozen=True)
class NewAdjustment:
    """Payload to create an agreement adjustment."""

    amount: Decimal
    description: str
    effective_date: date | None = None

    def to_json(self) -> Json:
        """ConnectWise JSON body."""
        return _drop_none(
            {
                "amount": self.amount,
                "description": self.description,
                "effectiveDate": _cw_date(self.effective_date),
            }
        )


@dataclass(frozen=True)
class NewCatalogItem:
    """Payload to create a catalog item."""

    identifier: str
    description: str
    customer_description: str
    subcategory_id: int
    type_id: int
    category_id: int | None = None
    product_class: str = "NonInventory"
    price: Decimal | None = None
    cost: Decimal | None = None

    def to_json(self) -> Json:
        """ConnectWise JSON body."""
        return _drop_none(
            {
                "identifier": self.identifier,
                "description": self.description,
                "customerDescription": self.customer_description,
                "subcategory": {"id": self.subcategory_id},
                "type": {"id": self.type_id},
                "category": {"id": self.category_id} if self.category_id is not None else None,
                "productClass": self.product_class,
                "price": self.price,
                "cost": self.cost,
            }
        )
