"""ConnectWise as a PSA adapter (``msphub_psa.psa.port.PsaClient``): a charge is an agreement *addition*, a credit
an agreement *adjustment*, our reference travels in the addition's ``serialNumber`` and at the end of the
adjustment's ``description``; ConnectWise's errors become the port's, once, here.

Money and quantities go out as JSON numbers that carry the decimal value exactly (an ``int`` when whole, else a
``float`` whose ``repr`` is the value); a value a float cannot carry exactly is refused before any call.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from msphub_psa.psa import errors as psa
from msphub_psa.psa.records import (
    CHARGE,
    CREDIT,
    Agreement,
    AgreementInvoice,
    CatalogItem,
    Charge,
    Company,
    Credit,
    ListEntry,
    Named,
    NewCatalogItem,
    Record,
)

from . import types as cw
from .client import ConnectWiseClient, is_retryable
from .errors import (
    CWAuthError,
    CWError,
    CWForbidden,
    CWNotFound,
    CWRateLimited,
    CWTLSError,
    CWURLRefused,
)

T = TypeVar("T")
MAX_INVOICE_DESCRIPTION = 6000
"""Addition ``invoiceDescription`` length."""
MAX_SERIAL_NUMBER = 50
"""Addition ``serialNumber`` length (our reference fits)."""
MAX_ADJUSTMENT_DESCRIPTION = 1000
"""Adjustment ``description`` length."""
RECORD_NAMES = {CHARGE: "addition", CREDIT: "adjustment"}
"""What ConnectWise calls the push's records."""


def psa_error(err: CWError) -> psa.PsaError:
    """The port's error for a ConnectWise error: the one mapping."""
    details = "; ".join(str(e.get("message") or e) for e in err.errors if isinstance(e, dict))
    message = f"{err.message}{' — ' + details if details else ''}"
    fields = tuple(str(e["field"]) for e in err.errors if isinstance(e, dict) and e.get("field"))
    options: dict[str, Any] = {
        "code": err.code or type(err).__name__,
        "status": err.status,
        "fields": fields,
        "detail": str(err),
    }
    if isinstance(err, CWForbidden):
        return psa.Forbidden(message, **options)
    if isinstance(err, (CWAuthError, CWURLRefused, CWTLSError)):
        return psa.RunStopping(message, **options)
    if err.outcome_unknown or is_retryable(err):
        retry_after = err.retry_after if isinstance(err, CWRateLimited) else None
        return psa.Transient(message, outcome_unknown=err.outcome_unknown, retry_after=retry_after, **options)
    if isinstance(err, CWNotFound):
        return psa.NotFound(message, **options)
    return psa.Permanent(message, **options)


def _mapped(call: Callable[[], T]) -> T:
    """Run one client call, raising the port's errors."""
    try:
        return call()
    except CWError as err:
        raise psa_error(err) from err


def _mapped_iter(make: Callable[[], Iterator[T]]) -> Iterator[T]:
    """Iterate a client listing, raising the port's errors."""
    try:
        yield from make()
    except CWError as err:
        raise psa_error(err) from err


def exact_number(value: Decimal | int | str, what: str) -> Decimal:
    """``value`` when ConnectWise's JSON can carry it exactly.

    :raises Permanent: (code ``PayloadError``) a non-finite value, a float, or more significant digits than a
        JSON number keeps.
    """
    if isinstance(value, float):
        raise psa.Permanent(f"{what} must be a Decimal, not a float.", code="PayloadError")
    number = Decimal(value)
    if not number.is_finite():
        raise psa.Permanent(f"{what} {value!r} is not a finite number.", code="PayloadError")
    if number != number.to_integral_value() and Decimal(repr(float(number))) != number:
        raise psa.Permanent(
            f"{what} {value} has more significant digits than ConnectWise can take exactly.", code="PayloadError"
        )
    return number


def _shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters (an ellipsis where cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def addition_of(charge: Charge) -> cw.NewAddition:
    """The agreement addition for a charge, bounded to its period.

    :raises Permanent: a value ConnectWise cannot carry exactly.
    """
    return cw.NewAddition(
        product_id=charge.catalog_item_id,
        quantity=exact_number(charge.quantity, "The quantity"),
        unit_price=exact_number(charge.unit_price, "The unit price"),
        unit_cost=exact_number(charge.unit_cost, "The unit cost"),
        effective_date=charge.period_start,
        cancelled_date=charge.period_end,
        bill_customer="Billable",
        invoice_description=_shorten(charge.description, MAX_INVOICE_DESCRIPTION),
        serial_number=charge.reference[:MAX_SERIAL_NUMBER],
    )


def adjustment_of(credit: Credit) -> cw.NewAdjustment:
    """The agreement adjustment for a credit (its description ends with our reference).

    :raises Permanent: the amount cannot be carried exactly, or the description would lose the reference.
    """
    if len(credit.description) > MAX_ADJUSTMENT_DESCRIPTION or not credit.description.endswith(credit.reference):
        raise psa.Permanent(
            f"The credit's description must end with our reference within {MAX_ADJUSTMENT_DESCRIPTION} characters.",
            code="PayloadError",
        )
    return cw.NewAdjustment(
        amount=exact_number(credit.amount, "The amount"),
        description=credit.description,
        effective_date=credit.effective_date,
    )


def record_of(found: cw.Addition | cw.Adjustment) -> Record:
    """An addition or adjustment as the port's record."""
    if isinstance(found, cw.Addition):
        return Record(
            found.id,
            CHARGE,
            found.agreement_id,
            found.serial_number,
            catalog_item_id=found.product.id if found.product else None,
            quantity=found.quantity,
            unit_price=found.unit_price,
            unit_cost=found.unit_cost,
            period_start=found.effective_date,
            period_end=found.cancelled_date,
        )
    return Record(
        found.id, CREDIT, found.agreement_id, found.description, amount=found.amount, period_start=found.effective_date
    )


def _named(ref: cw.Ref | None) -> Named | None:
    """A ConnectWise reference as the port's."""
    return Named(ref.id, ref.name) if ref is not None else None


def catalog_item_of(item: cw.CatalogItem) -> CatalogItem:
    """A catalog item as the port's."""
    return CatalogItem(
        item.id,
        item.identifier,
        item.description,
        _named(item.category),
        _named(item.subcategory),
        _named(item.type),
        item.product_class,
        item.inactive,
    )


def company_of(company: cw.Company) -> Company:
    """A company as the port's."""
    return Company(
        company.id,
        company.identifier,
        company.name,
        company.status,
        company.types,
        company.deleted,
        company.last_updated,
    )


def agreement_of(agreement: cw.Agreement) -> Agreement:
    """An agreement as the port's."""
    return Agreement(
        agreement.id,
        agreement.name,
        agreement.company.id if agreement.company else None,
        agreement.type.name if agreement.type else None,
        agreement.start_date,
        agreement.end_date,
        agreement.no_ending_date,
        agreement.cancelled,
        agreement.date_cancelled,
        agreement.agreement_status,
        agreement.billing_cycle,
        agreement.bill_start_date,
        agreement.last_updated,
    )


class ConnectWisePsa:
    """The port over one ``ConnectWiseClient`` (one partner's credentials)."""

    kind = "connectwise"

    def __init__(self, client: ConnectWiseClient) -> None:
        self.client = client

    def __enter__(self) -> ConnectWisePsa:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def call_count(self) -> int:
        """Requests made so far."""
        return self.client.call_count

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The client's retry policy's backoff."""
        return self.client.retry.backoff(attempt, rng)

    def close(self) -> None:
        """Close the client."""
        self.client.close()

    # -- the ledger -----------------------------------------------------------------------------------------

    @staticmethod
    def check(record: Charge | Credit) -> None:
        """ConnectWise's JSON for the record can be built (a value it cannot carry exactly is refused)."""
        if isinstance(record, Charge):
            addition_of(record)
        else:
            adjustment_of(record)

    def create_charge(self, agreement_id: int, charge: Charge) -> Record:
        """POST an addition."""
        addition = addition_of(charge)
        return record_of(_mapped(lambda: self.client.create_addition(agreement_id, addition)))

    def create_credit(self, agreement_id: int, credit: Credit) -> Record:
        """POST an adjustment."""
        adjustment = adjustment_of(credit)
        return record_of(_mapped(lambda: self.client.create_adjustment(agreement_id, adjustment)))

    def find_ours(self, agreement_id: int, kind: str, reference: str) -> list[Record]:
        """Additions by ``serialNumber``, adjustments by ``description`` containing the reference."""
        find = self.client.find_additions_by_reference if kind == CHARGE else self.client.find_adjustments_by_reference
        return [record_of(r) for r in _mapped(lambda: find(agreement_id, reference))]

    def get_record(self, agreement_id: int, kind: str, record_id: int) -> Record:
        """GET one addition or adjustment."""
        get = self.client.get_addition if kind == CHARGE else self.client.get_adjustment
        return record_of(_mapped(lambda: get(agreement_id, record_id)))

    def remove(self, agreement_id: int, kind: str, record_id: int) -> None:
        """DELETE one addition or adjustment."""
        delete = self.client.delete_addition if kind == CHARGE else self.client.delete_adjustment
        _mapped(lambda: delete(agreement_id, record_id))

    def iter_records(self, agreement_id: int, kind: str) -> Iterator[Record]:
        """The agreement's additions or adjustments, by id, in pages of 1,000."""
        found: Iterator[cw.Addition | cw.Adjustment]
        if kind == CHARGE:
            found = _mapped_iter(lambda: self.client.iter_additions(agreement_id, page_size=1000, order_by="id asc"))
        else:
            found = _mapped_iter(lambda: self.client.iter_adjustments(agreement_id, page_size=1000, order_by="id asc"))
        for record in found:
            yield record_of(record)

    def iter_agreement_invoices(self, agreement_ids: list[int]) -> Iterator[AgreementInvoice]:
        """``/finance/invoices`` of type Agreement of these agreements (batched ``agreement/id in (...)``)."""
        for invoice in _mapped_iter(lambda: self.client.get_agreement_invoices(agreement_ids)):
            if invoice.agreement is not None and invoice.date is not None:
                total = invoice.total if invoice.total is not None else Decimal(0)
                yield AgreementInvoice(
                    invoice.id, invoice.agreement.id, invoice.invoice_number or "", invoice.date, total
                )

    # -- the catalog ----------------------------------------------------------------------------------------

    def find_catalog_item(self, identifier: str) -> CatalogItem | None:
        """The catalog item with this identifier."""
        found = _mapped(lambda: self.client.find_catalog_item(identifier))
        return catalog_item_of(found) if found is not None else None

    def find_catalog_items(self, identifiers: Iterable[str]) -> dict[str, list[CatalogItem]]:
        """Catalog items by identifier as ConnectWise compares them (case ignored), batched ``in`` reads."""
        wanted = list(identifiers)
        found = _mapped(lambda: self.client.find_catalog_items(wanted))
        return {text: [catalog_item_of(item) for item in items] for text, items in found.items()}

    def create_catalog_item(self, item: NewCatalogItem) -> CatalogItem:
        """POST a catalog item."""
        new = cw.NewCatalogItem(
            identifier=item.identifier,
            description=item.description,
            customer_description=item.customer_description,
            subcategory_id=item.subcategory_id,
            type_id=item.type_id,
            category_id=item.category_id,
            product_class=item.product_class,
        )
        return catalog_item_of(_mapped(lambda: self.client.create_catalog_item(new)))

    def list_entries(self, kind: str) -> list[ListEntry]:
        """Categories, subcategories (with their category) or product types."""
        if kind == "category":
            return [ListEntry(c.id, c.name, None, c.inactive) for c in _mapped_iter(self.client.iter_categories)]
        if kind == "subcategory":
            return [
                ListEntry(s.id, s.name, s.category.id if s.category else None, s.inactive)
                for s in _mapped_iter(self.client.iter_subcategories)
            ]
        return [ListEntry(t.id, t.name, None, t.inactive) for t in _mapped_iter(self.client.iter_product_types)]

    def create_list_entry(self, kind: str, name: str, category_id: int | None = None) -> ListEntry:
        """POST a category, a subcategory of ``category_id`` or a product type."""
        if kind == "category":
            made = _mapped(lambda: self.client.create_category(name))
            return ListEntry(made.id, made.name, None, made.inactive)
        if kind == "subcategory":
            assert category_id is not None
            sub = _mapped(lambda: self.client.create_subcategory(name, category_id))
            return ListEntry(sub.id, sub.name, sub.category.id if sub.category else category_id, sub.inactive)
        kind_made = _mapped(lambda: self.client.create_product_type(name))
        return ListEntry(kind_made.id, kind_made.name, None, kind_made.inactive)

    # -- the directory -------------------------------------------------------------------------------------

    def iter_companies(self, updated_since: dt.datetime | None = None) -> Iterator[Company]:
        """Companies, lazily, by id (changed since ``updated_since``)."""
        for company in _mapped_iter(
            lambda: self.client.iter_companies(page_size=1000, order_by="id asc", updated_since=updated_since)
        ):
            yield company_of(company)

    def iter_agreements(self, updated_since: dt.datetime | None = None) -> Iterator[Agreement]:
        """Agreements, lazily, by id (changed since ``updated_since``)."""
        for agreement in _mapped_iter(
            lambda: self.client.iter_agreements(page_size=1000, order_by="id asc", updated_since=updated_since)
        ):
            yield agreement_of(agreement)

    def get_agreements(self, ids: Iterable[int]) -> dict[int, Agreement]:
        """Agreements by id: batched ``id in (...)`` reads within ConnectWise's URL limit."""
        wanted = list(ids)
        return {i: agreement_of(a) for i, a in _mapped(lambda: self.client.get_agreements(wanted)).items()}

    def get_companies(self, ids: Iterable[int]) -> dict[int, Company]:
        """Companies by id (soft-deleted ones included): batched ``id in (...)`` reads."""
        wanted = list(ids)
        return {i: company_of(c) for i, c in _mapped(lambda: self.client.get_companies(wanted)).items()}
