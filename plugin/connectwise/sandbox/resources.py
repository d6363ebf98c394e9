"""The ConnectWise resources the sandbox serves: fields, max lengths, refs and validation.

Input handling mirrors ConnectWise: unknown and read-only fields are ignored; a value of
the wrong JSON type is a 500 ``ConnectWiseApi`` (its deserialiser fails before validation);
missing required fields, over-long strings, unknown references and business rules are a
400 ``InvalidObject`` with ``errors[]``. A DELETE that a business rule refuses (an addition or
adjustment an agreement invoice has billed: ``invoiced_by``) is the same 400, record kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .conditions import parse_datetime

Record = dict[str, Any]

BILL_OPTIONS = ("Billable", "DoNotBill", "NoCharge", "NoDefault")
INVOICE_TYPES = ("Agreement", "CreditMemo", "DownPayment", "Miscellaneous", "Progress", "Standard")
APPLICATION_CYCLES = (
    "Contract2Weeks",
    "Contract4Weeks",
    "ContractYear",
    "CalendarMonth",
    "CalendarQuarter",
    "CalendarWeek",
    "ContractQuarter",
    "CalendarYear",
)


class TypeFailure(Exception):
    """A value ConnectWise could not deserialise (becomes a 500)."""


class InvalidObject(Exception):
    """Validation failures (become a 400 ``InvalidObject`` with ``errors``)."""

    def __init__(self, resource: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{resource} object is invalid")
        self.resource = resource
        self.errors = errors


def field_error(code: str, message: str, resource: str, name: str) -> dict[str, Any]:
    """One entry of ``errors[]``."""
    return {"code": code, "message": message, "resource": resource, "field": name}


@dataclass(frozen=True)
class Field:
    """A field of a resource: kind, max length, required, reference target, choices."""

    kind: str = "str"  # str | int | decimal | bool | datetime | enum | ref | refs | json
    max_len: int | None = None
    required: bool = False
    target: str | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    readonly: bool = False


@dataclass
class Resource:
    """A ConnectWise collection."""

    name: str
    path: str
    object_name: str
    fields: dict[str, Field]
    parent: str | None = None
    index: tuple[str, ...] = ()
    soft_delete: bool = False
    post_only: tuple[str, ...] = ()
    check: Callable[[Any, str, Record, Record | None, Record | None], list[dict]] | None = (
        None  # (.., parent, existing)
    )
    compute: Callable[[Record], None] | None = None
    delete_check: Callable[[Any, str, Record], list[dict]] | None = None
    lower: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.lower = {n.lower(): n for n in ("id", "_info", *self.fields)}

    def known(self, lowered: str) -> str | None:
        """Real name of a field given in lower case (for conditions)."""
        return self.lower.get(lowered)


def S(max_len: int | None = None, required: bool = False) -> Field:
    """A string field."""
    return Field("str", max_len, required)


def R(target: str | None = None, required: bool = False) -> Field:
    """A reference field (``target`` None = not checked)."""
    return Field("ref", required=required, target=target)


def E(choices: tuple[str, ...], default: str | None = None, required: bool = False) -> Field:
    """An enum field."""
    return Field("enum", required=required, choices=choices, default=default)


B, D, DT, INT, J = Field("bool", default=False), Field("decimal"), Field("datetime"), Field("int"), Field("json")
RO_DECIMAL, RO_INT, RO_STR = Field("decimal", readonly=True), Field("int", readonly=True), Field("str", readonly=True)

# -- conversion -----------------------------------------------------------------------------


def format_dt(moment: datetime) -> str:
    """ConnectWise's UTC datetime text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _type_error(value: Any, target: str, name: str) -> TypeFailure:
    """JSON.NET's conversion error text."""
    return TypeFailure(f"Error converting value {value!r} to type '{target}'. Path '{name}'.")


def convert(name: str, spec: Field, value: Any) -> Any:
    """Deserialise one value as ConnectWise would.

    :raises TypeFailure: when the JSON type cannot become the field's type.
    """
    if value is None:
        return None
    converter = _CONVERTERS[spec.kind]
    return converter(name, spec, value)


def _to_str(name: str, spec: Field, value: Any) -> str:
    """Strings; numbers and booleans are converted, objects are not."""
    if isinstance(value, (dict, list)):
        raise _type_error(value, "System.String", name)
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text.replace("\r", " ").replace("\n", " ")


def _to_int(name: str, spec: Field, value: Any) -> int:
    """Integers (numeric strings accepted)."""
    try:
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise ValueError
        return int(Decimal(str(value)).to_integral_exact())
    except (ValueError, InvalidOperation, ArithmeticError):
        raise _type_error(value, "System.Int32", name) from None


def _to_decimal(name: str, spec: Field, value: Any) -> int | float:
    """Numbers (stored as JSON numbers; integral values as ints)."""
    try:
        if isinstance(value, (bool, dict, list)):
            raise ValueError
        number = Decimal(str(value))
        if not number.is_finite():
            raise ValueError
        return int(number) if number == number.to_integral_value() else float(number)
    except (ValueError, InvalidOperation):
        raise _type_error(value, "System.Decimal", name) from None


def _to_bool(name: str, spec: Field, value: Any) -> bool:
    """Booleans; "true"/"false" strings accepted."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeFailure("String was not recognized as a valid Boolean.")


def _to_datetime(name: str, spec: Field, value: Any) -> str:
    """ISO datetimes, normalised to UTC ``...Z``."""
    try:
        if not isinstance(value, str):
            raise ValueError
        return format_dt(parse_datetime(value))
    except ValueError:
        raise TypeFailure(f"String was not recognized as a valid DateTime. Path '{name}'.") from None


def _to_enum(name: str, spec: Field, value: Any) -> str:
    """Enum names, case-insensitive."""
    for choice in spec.choices:
        if isinstance(value, str) and choice.lower() == value.lower():
            return choice
    raise _type_error(value, name[:1].upper() + name[1:], name)


def _to_ref(name: str, spec: Field, value: Any) -> dict[str, Any]:
    """A reference object ``{id}`` (or ``{identifier}``/``{name}``)."""
    if not isinstance(value, dict):
        raise _type_error(value, "Reference", name)
    ref = {k: value[k] for k in ("id", "identifier", "name", "type") if value.get(k) is not None}
    if "id" in ref:
        ref["id"] = _to_int(f"{name}.id", spec, ref["id"])
    return ref


def _to_refs(name: str, spec: Field, value: Any) -> list[dict[str, Any]]:
    """A list of reference objects."""
    if not isinstance(value, list):
        raise _type_error(value, "List`1", name)
    return [_to_ref(name, spec, item) for item in value]


_CONVERTERS: dict[str, Callable[[str, Field, Any], Any]] = {
    "str": _to_str,
    "int": _to_int,
    "decimal": _to_decimal,
    "bool": _to_bool,
    "datetime": _to_datetime,
    "enum": _to_enum,
    "ref": _to_ref,
    "refs": _to_refs,
    "json": lambda name, spec, value: value,
}


def convert_input(resource: Resource, data: Any) -> Record:
    """Writable fields of a request body, converted.

    :raises TypeFailure: when the body or a value has the wrong JSON type.
    """
    if not isinstance(data, dict):
        raise TypeFailure(f"Cannot deserialize the current JSON into type '{resource.object_name}'.")
    lookup = {k.lower(): k for k in data}
    out: Record = {}
    for name, spec in resource.fields.items():
        key = lookup.get(name.lower())
        if key is not None and not spec.readonly:
            out[name] = convert(name, spec, data[key])
    return out


def shape_errors(resource: Resource, record: Record) -> list[dict[str, Any]]:
    """Missing required fields and over-long strings."""
    errors = []
    for name, spec in resource.fields.items():
        value = record.get(name)
        if spec.required and (value is None or value == "" or value == {}):
            errors.append(field_error("MissingRequiredField", f"{name} is required.", resource.object_name, name))
        elif spec.max_len and isinstance(value, str) and len(value) > spec.max_len:
            errors.append(
                field_error(
                    "InvalidField",
                    f"The field {name} must be a string with a maximum length of {spec.max_len}.",
                    resource.object_name,
                    name,
                )
            )
    return errors


def apply_defaults(resource: Resource, record: Record) -> None:
    """Fill in fields ConnectWise defaults on create/replace."""
    for name, spec in resource.fields.items():
        if record.get(name) is None and spec.default is not None:
            record[name] = spec.default


# -- business rules ---------------------------------------------------------------------------


def _agreement_status(record: Record) -> None:
    """ConnectWise's computed ``agreementStatus``."""
    end = record.get("endDate")
    if record.get("cancelledFlag"):
        record["agreementStatus"] = "Cancelled"
    elif end and not record.get("noEndingDateFlag") and parse_datetime(end) < datetime.now(UTC):
        record["agreementStatus"] = "Expired"
    else:
        record["agreementStatus"] = "Active"


def _addition_amounts(record: Record) -> None:
    """Computed extended price/cost and margin."""
    qty = Decimal(str(record.get("quantity") or 0))
    price = Decimal(str(record.get("unitPrice") or 0))
    cost = Decimal(str(record.get("unitCost") or 0))
    record["extPrice"] = float(qty * price)
    record["extCost"] = float(qty * cost)
    record["margin"] = float(qty * (price - cost))


def agreement_refusals(store: Any, account: str, agreement: Record | None, obj: str, noun: str) -> list[dict]:
    """Why ``noun`` cannot be written on this agreement (❓ inferred wording and codes), else ``[]``.

    Refused: a cancelled agreement, an expired or inactive one, one whose end date has passed (even
    if its stored ``agreementStatus`` predates that), and one whose company is soft-deleted or has a
    company status flagged ``inactiveFlag``.
    """
    if agreement is None:
        return []
    errors = []
    reason = agreement_closed(agreement, datetime.now(UTC))
    if reason:
        errors.append(
            field_error("InvalidAgreement", f"{noun} cannot be added to a {reason} agreement.", obj, "agreementId")
        )
    company = store.get(account, "companies", (agreement.get("company") or {}).get("id", 0)) or {}
    status = store.get(account, "companyStatuses", (company.get("status") or {}).get("id", 0)) or {}
    if company.get("deletedFlag"):
        errors.append(
            field_error(
                "InvalidCompany",
                f"{noun} cannot be added: the agreement's company {company.get('identifier')} has been deleted.",
                obj,
                "agreementId",
            )
        )
    if status.get("inactiveFlag"):
        errors.append(
            field_error(
                "InvalidCompany",
                f"{noun} cannot be added: the agreement's company "
                f"{company.get('identifier')} has the inactive status {status.get('name')!r}.",
                obj,
                "agreementId",
            )
        )
    return errors


def agreement_closed(agreement: Record, now: datetime) -> str | None:
    """``cancelled``, ``expired`` or ``inactive`` when the agreement takes no new records at ``now``, else None."""
    status = agreement.get("agreementStatus")
    if agreement.get("cancelledFlag") or status == "Cancelled":
        return "cancelled"
    if status in ("Expired", "Inactive"):
        return status.lower()
    end = agreement.get("endDate")
    if end and not agreement.get("noEndingDateFlag") and parse_datetime(end).date() < now.date():
        return "expired"
    return None


def _inactive_product(store: Any, account: str, record: Record, existing: Record | None) -> list[dict]:
    """An addition may not take an inactive catalog item (checked when the product is set or changed)."""
    product_id = (record.get("product") or {}).get("id")
    if product_id is None or (existing and (existing.get("product") or {}).get("id") == product_id):
        return []
    item = store.get(account, "catalog", product_id)
    if item is None or not item.get("inactiveFlag"):
        return []
    return [
        field_error(
            "InactiveProduct",
            f"product {item.get('identifier')} is inactive and cannot be added.",
            "agreementAddition",
            "product",
        )
    ]


def _addition_rules(
    store: Any, account: str, record: Record, agreement: Record | None, existing: Record | None
) -> list[dict]:
    """Additions: agreement and its company open, product active, quantity not negative, dates in order."""
    obj = "agreementAddition"
    errors = agreement_refusals(store, account, agreement, obj, "Additions")
    errors += _inactive_product(store, account, record, existing)
    if record.get("quantity") is not None and record["quantity"] < 0:
        errors.append(
            field_error("OutOfRange", "The field quantity must be greater than or equal to 0.", obj, "quantity")
        )
    start, end = record.get("effectiveDate"), record.get("cancelledDate")
    if start and end and parse_datetime(end) < parse_datetime(start):
        errors.append(
            field_error("InvalidField", "cancelledDate must be on or after effectiveDate.", obj, "cancelledDate")
        )
    return errors


def _adjustment_rules(
    store: Any, account: str, record: Record, agreement: Record | None, existing: Record | None
) -> list[dict]:
    """Adjustments: agreement and its company open."""
    return agreement_refusals(store, account, agreement, "agreementAdjustment", "Adjustments")


def invoiced_by(store: Any, account: str, record: Record) -> Record | None:
    """The latest ``Agreement`` invoice of the record's agreement dated on or after its effective date, if any.

    The sandbox's model of "ConnectWise has already invoiced this period" (❓ inferred: an
    agreement invoice bills the additions and adjustments in effect up to its date).
    """
    agreement_id, effective = record.get("agreementId"), record.get("effectiveDate")
    if agreement_id is None or not effective:
        return None
    start = parse_datetime(effective)
    billed = [
        inv
        for inv in store.scan(account, "invoices", int(agreement_id))
        if inv.get("type") == "Agreement" and inv.get("date") and parse_datetime(inv["date"]) >= start
    ]
    return max(billed, key=lambda inv: (parse_datetime(inv["date"]), inv["id"]), default=None)


def _not_invoiced(resource_name: str, noun: str) -> Callable[[Any, str, Record], list[dict]]:
    """A delete rule: a record an agreement invoice has billed cannot be deleted (❓ inferred wording)."""

    def check(store: Any, account: str, record: Record) -> list[dict]:
        invoice = invoiced_by(store, account, record)
        if invoice is None:
            return []
        number = invoice.get("invoiceNumber") or f"#{invoice['id']}"
        return [
            field_error(
                "InvoicedRecord",
                f"This {noun} has been invoiced on invoice {number} dated "
                f"{invoice['date'][:10]} and cannot be deleted. Credit the invoice instead.",
                resource_name,
                "id",
            )
        ]

    return check


def _catalog_rules(
    store: Any, account: str, record: Record, parent: Record | None, existing: Record | None
) -> list[dict]:
    """Catalog items: the category defaults to, and must be, the subcategory's category."""
    sub = store.get(account, "subcategories", (record.get("subcategory") or {}).get("id", 0))
    if sub is None:
        return []
    if record.get("category") is None:
        record["category"] = sub["category"]
    elif record["category"].get("id") != sub["category"]["id"]:
        return [
            field_error(
                "InvalidField", "The subcategory does not belong to the category.", "catalogItem", "subcategory"
            )
        ]
    return []


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "companyStatuses",
            "/company/companies/statuses",
            "companyStatus",
            {"name": S(50, True), "defaultFlag": B, "inactiveFlag": B},
        ),
        Resource(
            "companyTypes",
            "/company/companies/types",
            "companyType",
            {"name": S(50, True), "defaultFlag": B, "vendorFlag": B},
        ),
        Resource(
            "companies",
            "/company/companies",
            "company",
            {
                "identifier": S(30, True),
                "name": S(50, True),
                "status": R("companyStatuses"),
                "types": Field("refs", target="companyTypes"),
                "addressLine1": S(50),
                "addressLine2": S(50),
                "city": S(50),
                "state": S(50),
                "zip": S(12),
                "country": R(),
                "phoneNumber": S(30),
                "website": S(255),
                "site": R(),
                "isVendorFlag": B,
                "deletedFlag": Field("bool", readonly=True),
                "dateDeleted": Field("datetime", readonly=True),
                "customFields": J,
            },
            soft_delete=True,
            post_only=("types",),
        ),
        Resource("billingCycles", "/finance/billingCycles", "billingCycle", {"name": S(50, True)}),
        Resource(
            "agreementTypes",
            "/finance/agreements/types",
            "agreementType",
            {
                "name": S(50, True),
                "defaultFlag": B,
                "inactiveFlag": B,
                "prefixSuffixOption": S(),
                "employeeCompRate": E(("Actual", "Hourly"), "Actual"),
                "employeeCompNotExceed": E(("Billing", "Amount", "Percent"), "Billing"),
                "invoicingCycle": E(("ContractYear", "CalendarYear"), "ContractYear"),
                "billTime": E(BILL_OPTIONS, "Billable"),
                "billExpenses": E(BILL_OPTIONS, "Billable"),
                "billProducts": E(BILL_OPTIONS, "Billable"),
            },
        ),
        Resource(
            "agreements",
            "/finance/agreements",
            "agreement",
            {
                "name": S(100, True),
                "type": R("agreementTypes", True),
                "company": R("companies", True),
                "contact": R(None, True),
                "startDate": DT,
                "endDate": DT,
                "noEndingDateFlag": B,
                "cancelledFlag": B,
                "dateCancelled": DT,
                "reasonCancelled": S(100),
                "billingCycle": R("billingCycles"),
                "billStartDate": DT,
                "billAmount": D,
                "prorateFlag": B,
                "nextInvoiceDate": S(),
                "parentAgreement": R("agreements"),
                "applicationUnits": E(("Amount", "Hours", "Incidents")),
                "applicationCycle": E(APPLICATION_CYCLES),
                "billTime": E(BILL_OPTIONS),
                "billExpenses": E(BILL_OPTIONS),
                "billProducts": E(BILL_OPTIONS),
                "invoicingCycle": E(("ContractYear", "CalendarYear"), "ContractYear"),
                "agreementStatus": RO_STR,
                "customerPO": S(50),
                "customFields": J,
            },
            index=("company", "id"),
            compute=_agreement_status,
        ),
        Resource("categories", "/procurement/categories", "category", {"name": S(50, True), "inactiveFlag": B}),
        Resource(
            "subcategories",
            "/procurement/subcategories",
            "subcategory",
            {"name": S(50, True), "category": R("categories", True), "inactiveFlag": B},
            index=("category", "id"),
        ),
        Resource(
            "productTypes",
            "/procurement/types",
            "type",
            {
                "name": S(50, True),
                "inactiveFlag": B,
                "typeXref": E(("InventoryPart", "NonInventoryPart", "OtherCharge", "Service")),
            },
        ),
        Resource(
            "catalog",
            "/procurement/catalog",
            "catalogItem",
            {
                "identifier": S(75, True),
                "description": S(60, True),
                "customerDescription": S(6000, True),
                "category": R("categories"),
                "subcategory": R("subcategories", True),
                "type": R("productTypes", True),
                "inactiveFlag": B,
                "price": D,
                "cost": D,
                "vendor": R(),
                "manufacturer": R(),
                "manufacturerPartNumber": S(50),
                "taxableFlag": B,
                "productClass": E(("Agreement", "Bundle", "Inventory", "NonInventory", "Service"), "NonInventory"),
            },
            check=_catalog_rules,
        ),
        Resource(
            "additions",
            "/additions",
            "agreementAddition",
            {
                "product": R("catalog", True),
                "billCustomer": E(BILL_OPTIONS[:3], required=True),
                "quantity": D,
                "lessIncluded": D,
                "unitPrice": D,
                "unitCost": D,
                "effectiveDate": DT,
                "cancelledDate": DT,
                "description": S(),
                "invoiceDescription": S(6000),
                "serialNumber": S(50),
                "taxableFlag": B,
                "sequenceNumber": D,
                "billedQuantity": D,
                "uom": S(),
                "prorateCurrentPeriodFlag": B,
                "agreementId": RO_INT,
                "agreementStatus": RO_STR,
                "extPrice": RO_DECIMAL,
                "extCost": RO_DECIMAL,
                "margin": RO_DECIMAL,
                "customFields": J,
            },
            parent="agreements",
            index=("agreementId",),
            check=_addition_rules,
            compute=_addition_amounts,
            delete_check=_not_invoiced("agreementAddition", "addition"),
        ),
        Resource(
            "adjustments",
            "/adjustments",
            "agreementAdjustment",
            {
                "amount": D,
                "description": S(1000, True),
                "effectiveDate": DT,
                "agreementId": RO_INT,
            },
            parent="agreements",
            index=("agreementId",),
            check=_adjustment_rules,
            delete_check=_not_invoiced("agreementAdjustment", "adjustment"),
        ),
        Resource(
            "invoices",
            "/finance/invoices",
            "invoice",
            {
                "invoiceNumber": S(15),
                "type": E(INVOICE_TYPES, required=True),
                "company": R("companies", True),
                "agreement": R("agreements"),
                "status": R(),
                "date": DT,
                "dueDate": DT,
                "subtotal": D,
                "salesTax": D,
                "total": D,
                "balance": D,
                "applyToType": S(),
                "applyToId": INT,
                "reference": S(50),
            },
            index=("agreement", "id"),
        ),
    )
}
