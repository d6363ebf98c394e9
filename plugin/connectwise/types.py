"""Dataclasses for the ConnectWise records the product reads and writes.

``from_json`` parses ConnectWise JSON (money as ``Decimal``: the client parses floats as
Decimal); ``raw`` keeps the whole dict. ``New*`` classes are write payloads (``to_json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Self

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


def _text(value: Any) -> str:
    """A text that ConnectWise may leave out ("" then)."""
    return "" if value is None else value


def _name_of(value: Any) -> str | None:
    """The ``name`` of a reference object (None stays None)."""
    return value.get("name") if isinstance(value, dict) else None


def _true(value: Any) -> bool:
    """A boolean that arrives as the text "True" or "False"."""
    return str(value).lower() == "true"


def cw(key: str, parse: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """A field's metadata: read from ``key`` (dots walk into objects) by ``parse``, or as its type says."""
    return {"key": key, "parse": parse}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _default_key(name: str, kind: str) -> str:
    """``unit_price`` is ``unitPrice``, a flag ``inactive`` is ``inactiveFlag``, ``last_updated`` is in ``_info``."""
    if name == "last_updated":
        return "_info.lastUpdated"
    return _camel(name) + ("Flag" if kind == "bool" else "")


def _required(value: Any) -> int:
    """A record's own id, which every answer carries."""
    if value is None:
        raise KeyError("id")
    return int(value)


_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    "int": _required,
    "int | None": lambda value: value,
    "str": _text,
    "str | None": lambda value: value,
    "bool": bool,
    "Decimal | None": _dec,
    "date | None": _date,
    "_Date | None": _date,
    "datetime | None": parse_datetime,
    "Ref | None": lambda value: Ref.from_json(value),
}


Plan = tuple[tuple[str, tuple[str, ...], Callable[[Any], Any]], ...]
_PLANS: dict[type, Plan] = {}


class Parsed:
    """A record read from ConnectWise JSON field by field (``cw()`` names a field's key and parser)."""

    @classmethod
    def _plan(cls) -> Plan:
        """(field name, key path, parser) of every field but ``raw``, worked out once per class."""
        plan = _PLANS.get(cls)
        if plan is None:
            plan = tuple(
                (
                    spec.name,
                    tuple((spec.metadata.get("key") or _default_key(spec.name, str(spec.type))).split(".")),
                    spec.metadata.get("parse") or _BY_TYPE[str(spec.type)],
                )
                for spec in fields(cls)  # type: ignore[arg-type]
                if spec.name != "raw"
            )
            _PLANS[cls] = plan
        return plan

    @classmethod
    def from_json(cls, data: Json) -> Self:
        """Parse ConnectWise JSON; ``raw`` keeps the whole dict."""
        values: dict[str, Any] = {"raw": data}
        for name, path, parse in cls._plan():
            value: Any = data
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            values[name] = parse(value)
        build: Callable[..., Self] = cls
        return build(**values)


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
class CompanyInfo(Parsed):
    """``/login/companyinfo/{companyId}``: the company's name and codebase."""

    company_id: str = field(metadata=cw("CompanyID"))
    company_name: str = field(metadata=cw("CompanyName"))
    codebase: str = field(metadata=cw("Codebase"))
    version_code: str | None = field(metadata=cw("VersionCode"))
    is_cloud: bool = field(metadata=cw("IsCloud", _true))
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class SystemInfo(Parsed):
    """``/system/info``."""

    version: str
    is_cloud: bool = field(metadata=cw("isCloud"))
    server_time_zone: str | None
    cloud_region: str | None
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class Company(Parsed):
    """``/company/companies`` record."""

    id: int
    identifier: str
    name: str
    status: str | None = field(metadata=cw("status", _name_of))
    types: tuple[str, ...] = field(metadata=cw("types", lambda value: tuple(t.get("name", "") for t in value or ())))
    deleted: bool
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class AgreementType(Parsed):
    """``/finance/agreements/types`` record."""

    id: int
    name: str
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class Agreement(Parsed):
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
    billing_cycle: str | None = field(metadata=cw("billingCycle", _name_of))
    bill_start_date: date | None
    bill_amount: Decimal | None
    parent_agreement_id: int | None = field(metadata=cw("parentAgreement.id"))
    last_updated: datetime | None
    raw: Json = field(repr=False, compare=False)

    def is_active_on(self, day: date) -> bool:
        """Not cancelled, started, and not past its end date on ``day``."""
        if self.cancelled or (self.start_date and self.start_date > day):
            return False
        return self.no_ending_date or self.end_date is None or self.end_date >= day


@dataclass(frozen=True)
class Addition(Parsed):
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


@dataclass(frozen=True)
class Adjustment(Parsed):
    """``/finance/agreements/{id}/adjustments`` record."""

    id: int
    agreement_id: int | None
    amount: Decimal | None
    description: str | None
    effective_date: date | None
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class CatalogItem(Parsed):
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


@dataclass(frozen=True)
class Invoice(Parsed):
    """``/finance/invoices`` record (ConnectWise makes them; the product only reads them)."""

    id: int
    invoice_number: str | None
    type: str | None
    company: Ref | None
    agreement: Ref | None
    status: str | None = field(metadata=cw("status", _name_of))
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

    @property
    def company_id(self) -> int | None:
        """The invoiced company's id."""
        return self.company.id if self.company else None

    @property
    def agreement_id(self) -> int | None:
        """The agreement's id (``Agreement`` invoices)."""
        return self.agreement.id if self.agreement else None


@dataclass(frozen=True)
class Category(Parsed):
    """``/procurement/categories`` record."""

    id: int
    name: str
    inactive: bool
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class Subcategory(Parsed):
    """``/procurement/subcategories`` record."""

    id: int
    name: str
    category: Ref | None
    inactive: bool
    raw: Json = field(repr=False, compare=False)


@dataclass(frozen=True)
class ProductType(Parsed):
    """``/procurement/types`` record."""

    id: int
    name: str
    type_xref: str | None
    inactive: bool
    raw: Json = field(repr=False, compare=False)


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
