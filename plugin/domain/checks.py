"""Pre-flight checks: what the PSA would refuse, known before anything is sent (docs/billing.md, Pre-flight checks).

Each check has a code, a plain message and the fix (where to click, or what to change in ConnectWise). A row that
fails a check is ``blocked`` in the outbox: no call is made for it, and the next preview or push checks it again.
The checks here are pure: they take plain values (a transaction's figures, an agreement and its company as the
PSA answered, a catalog item) and return the blocks that apply, first cause first.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from msphub_psa.domain.periods import Frequency, cycle_kind


@dataclass(frozen=True)
class Check:
    """One check: its code, the short cause totals name it by, the message (a template) and the fix."""

    code: str
    cause: str
    message: str
    fix: str


@dataclass(frozen=True)
class Block:
    """A check a row failed: its code, the message with the row's values, and the fix."""

    code: str
    message: str
    fix: str

    @property
    def cause(self) -> str:
        """The short cause (for totals)."""
        return CHECKS[self.code].cause


def _check(code: str, cause: str, message: str, fix: str) -> Check:
    return Check(code, cause, message, fix)


CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        _check(
            "QuantityNotPositive",
            "quantity zero or negative",
            "The charge's quantity is {quantity}; a charge needs a quantity above zero.",
            "Correct the transaction in MSP Hub (a correction arrives as a credit and a new charge).",
        ),
        _check(
            "UnitPriceNegative",
            "unit price negative",
            "The charge's unit price is {unit_price}; a charge's unit price cannot be negative.",
            "Correct the product's resale price in MSP Hub; refunds arrive as credits.",
        ),
        _check(
            "PeriodEndBeforeStart",
            "period ends before it starts",
            "The period ends on {period_end}, before it starts on {period_start}.",
            "Correct the transaction's billing period in MSP Hub.",
        ),
        _check(
            "AmountMismatch",
            "amount does not add up",
            "The amount {amount} is not quantity {quantity} × unit price {unit_price} ({expected}), "
            "and is no proration of it.",
            "Correct the transaction in MSP Hub so that its amount is what the customer owes.",
        ),
        _check(
            "AgreementCancelled",
            "agreement cancelled in ConnectWise",
            "Agreement {agreement} is cancelled in ConnectWise.",
            "Reactivate the agreement in ConnectWise (Finance > Agreements), or map the subscription to another "
            "agreement (Reconciliation Center > Products / Subscriptions > Change).",
        ),
        _check(
            "AgreementExpired",
            "agreement expired in ConnectWise",
            "Agreement {agreement} is {status} in ConnectWise.",
            "Set the agreement back to Active in ConnectWise (Finance > Agreements), or map the subscription to "
            "another agreement (Reconciliation Center > Products / Subscriptions > Change).",
        ),
        _check(
            "AgreementEnded",
            "agreement ended in ConnectWise",
            "Agreement {agreement} ended on {end_date} in ConnectWise.",
            "Extend the agreement's end date in ConnectWise (or tick No Ending Date), or map the subscription to "
            "another agreement.",
        ),
        _check(
            "AgreementNotFound",
            "agreement deleted in ConnectWise",
            "Agreement {agreement} no longer exists in ConnectWise.",
            "Map the subscription to another agreement (Reconciliation Center > Products / Subscriptions > Change).",
        ),
        _check(
            "CompanyDeleted",
            "company deleted in ConnectWise",
            "The company of agreement {agreement} is deleted in ConnectWise.",
            "Restore the company in ConnectWise, or map the customer to another company (Reconciliation Center).",
        ),
        _check(
            "CompanyInactive",
            "company inactive in ConnectWise",
            "The company of agreement {agreement} is {status} in ConnectWise.",
            "Set the company's status back to Active in ConnectWise (Companies > Company), or map the customer to "
            "another company.",
        ),
        _check(
            "BillingCycleMismatch",
            "agreement billing cycle does not match",
            "Agreement {agreement} is billed {cycle}; the subscription is billed {frequency}.",
            "Map the subscription to an agreement with a matching billing cycle, or accept the mismatch for this "
            "mapping (Change with accept_mismatch in the API, or flask psa subscriptions remap --accept-mismatch).",
        ),
        _check(
            "ProductRefused",
            "catalog item refused",
            "ConnectWise refused the product's catalog item.",
            "Correct what ConnectWise named (Sync > Failed rows), then Retry all failed rows: the next push asks "
            "the catalog again.",
        ),
        _check(
            "CatalogItemInactive",
            "catalog item inactive",
            "Catalog item {item} ({identifier}) is inactive in ConnectWise.",
            "Activate the item in ConnectWise (Procurement > Product Catalog: clear Inactive).",
        ),
        _check(
            "IdentifierTaken",
            "catalog identifier taken by another item",
            "Identifier {identifier} taken by catalog item {item} ({theirs}): ConnectWise compares identifiers "
            "ignoring case, and that item is not ours.",
            "Rename catalog item {item} in ConnectWise (it belongs to another product); the next push then creates "
            "this product's own item. A free identifier for this product would be {alternative}.",
        ),
        _check(
            "ClassificationMissing",
            "classification missing in ConnectWise",
            "ConnectWise has no {missing}, which the Product Defaults name for this product, and Sync Settings do "
            "not allow creating it.",
            "Create it in ConnectWise (System > Setup Tables), or change the rule in Configure Product Defaults, or "
            "allow creating categories, subcategories and types in Sync Settings.",
        ),
    )
}
"""Every check, by code (docs/billing.md lists them with the same code, message and fix)."""


RECORD_CODES = frozenset({"QuantityNotPositive", "UnitPriceNegative", "PeriodEndBeforeStart", "AmountMismatch"})
"""The checks of a transaction's own figures (transactions are immutable: such a row stays blocked; its agreement
is not read again for it)."""
CATALOG_CODES = frozenset({"CatalogItemInactive", "IdentifierTaken", "ClassificationMissing"})
"""The checks the catalog step makes (a product's item); the others are the row's and its agreement's."""


def block(code: str, **values: object) -> Block:
    """The block of check ``code`` with the row's values in its message and fix."""
    check = CHECKS[code]
    return Block(code, check.message.format(**values), check.fix.format(**values))


# -- the record ------------------------------------------------------------------------------------------


def charge_blocks(
    quantity: Decimal, unit_price: Decimal, amount: Decimal, period_start: date, period_end: date
) -> list[Block]:
    """What is wrong with a charge's own figures (a credit has none of these checks).

    A charge is a proration when its amount is above zero and below quantity × unit price (MSP Hub billed part
    of the period: the push carries the amount exactly, docs/billing.md *Prorated charges*); any other amount
    that is not quantity × unit price does not add up.
    """
    values = {
        "quantity": Decimal(quantity).normalize(),
        "unit_price": Decimal(unit_price),
        "amount": Decimal(amount),
        "period_start": period_start,
        "period_end": period_end,
    }
    found = []
    if quantity <= 0:
        found.append(block("QuantityNotPositive", **values))
    if unit_price < 0:
        found.append(block("UnitPriceNegative", **values))
    if period_end < period_start:
        found.append(block("PeriodEndBeforeStart", **values))
    expected = Decimal(quantity) * Decimal(unit_price)
    if quantity > 0 and unit_price >= 0 and amount != expected and not 0 < amount < expected:
        found.append(block("AmountMismatch", expected=expected, **values))
    return found


# -- the agreement and its company --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFacts:
    """An agreement as the PSA answered it now (``found`` False: the PSA has no such agreement)."""

    id: int
    name: str = ""
    found: bool = True
    cancelled: bool = False
    status: str | None = None
    end_date: date | None = None
    no_ending_date: bool = False
    billing_cycle: str | None = None
    company_deleted: bool = False
    company_status: str | None = None


INACTIVE_COMPANY_WORDS = ("inactive",)
"""Company status names taken as inactive (the port carries the status name, not its inactive flag)."""


def agreement_blocks(agreement: AgreementFacts, today: date) -> list[Block]:
    """Why ConnectWise would refuse a write on this agreement now (its first cause), or []."""
    name = f"{agreement.id} ({agreement.name})" if agreement.name else str(agreement.id)
    status = (agreement.status or "").strip()
    if not agreement.found:
        return [block("AgreementNotFound", agreement=name)]
    if agreement.cancelled or status.casefold() == "cancelled":
        return [block("AgreementCancelled", agreement=name)]
    if status.casefold() in ("expired", "inactive"):
        return [block("AgreementExpired", agreement=name, status=status)]
    if agreement.end_date is not None and not agreement.no_ending_date and agreement.end_date < today:
        return [block("AgreementEnded", agreement=name, end_date=agreement.end_date)]
    if agreement.company_deleted:
        return [block("CompanyDeleted", agreement=name)]
    company_status = (agreement.company_status or "").strip()
    if company_status.casefold() in INACTIVE_COMPANY_WORDS:
        return [block("CompanyInactive", agreement=name, status=company_status)]
    return []


_FITTING = {
    Frequency.MONTHLY: {"monthly"},
    Frequency.ANNUAL: {"annual", "one_time"},
    Frequency.ONE_TIME: {"annual", "one_time"},
}


def cycle_block(agreement: AgreementFacts, frequency: str | None, accepted: bool) -> Block | None:
    """The billing cycle mismatch block, unless the partner accepted the mismatch (or either side is unknown).

    ConnectWise exposes no agreement currency, so currency never blocks.
    """
    kind = cycle_kind(agreement.billing_cycle)
    if accepted or kind is None or not frequency or frequency not in set(Frequency):
        return None
    if kind in _FITTING[Frequency(frequency)]:
        return None
    name = f"{agreement.id} ({agreement.name})" if agreement.name else str(agreement.id)
    return block("BillingCycleMismatch", agreement=name, cycle=agreement.billing_cycle, frequency=frequency)


# -- the catalog ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFacts:
    """A catalog item the PSA holds under an identifier equal to ours as it compares them."""

    id: int
    identifier: str
    inactive: bool = False


def fold(identifier: str) -> str:
    """An identifier as ConnectWise compares it: letter case and trailing spaces ignored."""
    return unicodedata.normalize("NFC", identifier).rstrip().casefold()


def ours(item: ItemFacts, identifier: str, known_ids: Iterable[int] = ()) -> bool:
    """True when the item is ours: the identical identifier, or an item we created or adopted before."""
    return item.identifier == identifier or item.id in set(known_ids)


def alternative_identifier(identifier: str, limit: int = 60) -> str:
    """A deterministic identifier for the product that no case-insensitive twin of ``identifier`` holds:
    ``<identifier>~<6 hex of the exact text>`` (within ``limit``)."""
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:6].upper()
    return f"{identifier[: limit - 7]}~{digest}"


def catalog_block(identifier: str, found: Iterable[ItemFacts], known_ids: Iterable[int] = ()) -> Block | None:
    """What stops a charge on the product whose identifier is ``identifier``, among the items ConnectWise finds
    equal to it: another product's item (never adopted), or ours inactive; None when ours is active or none is
    found (it will be created)."""
    known = set(known_ids)
    items = list(found)
    mine = [item for item in items if ours(item, identifier, known)]
    if mine:
        item = min(mine, key=lambda i: (i.identifier != identifier, i.id))
        if item.inactive:
            return block("CatalogItemInactive", item=item.id, identifier=item.identifier)
        return None
    if items:
        theirs = min(items, key=lambda i: i.id)
        return block(
            "IdentifierTaken",
            identifier=identifier,
            item=theirs.id,
            theirs=theirs.identifier,
            alternative=alternative_identifier(identifier),
        )
    return None


# -- totals -----------------------------------------------------------------------------------------------------


def summary(codes: Mapping[str, int] | Counter[str]) -> str:
    """ "12 transactions blocked: 9 agreement cancelled in ConnectWise, 3 catalog item inactive" ("" for none)."""
    total = sum(codes.values())
    if not total:
        return ""
    ordered = sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))
    causes = ", ".join(f"{count} {CHECKS[code].cause}" for code, count in ordered if count)
    return f"{total} transaction{'s' if total != 1 else ''} blocked: {causes}"


def top_causes(codes: Mapping[str, int], limit: int = 3) -> list[dict[str, object]]:
    """The most frequent causes: [{code, cause, count, fix}] (ties by code)."""
    ordered = sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"code": c, "cause": CHECKS[c].cause, "count": n, "fix": CHECKS[c].fix} for c, n in ordered if n]
