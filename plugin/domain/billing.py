"""What a billing transaction becomes in the partner's PSA (docs/billing.md), whatever the PSA.

- Our reference ``MSPHUB-T<transaction id>``, carried by every record we create (where, is the adapter's
  business: ConnectWise puts it in an addition's ``serialNumber`` and at the end of an adjustment's description).
- Catalog identity: the product id, qualified by term and frequency where one product
  id is sold on several; at most 60 characters, deterministic.
- The texts of a charge and of a credit, and the charge's pricing so the PSA bills exactly MSP Hub's amount.
- The outbox state machine, the recovery decision for a row left in ``sending``, the
  preview of a mapping change, and the net revenue figure.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from msphub_psa.domain.errors import IllegalTransitionError, PayloadError

REFERENCE_PREFIX = "MSPHUB-T"
"""Our records in the PSA carry ``MSPHUB-T<transaction id>``."""
MAX_IDENTIFIER = 60
"""Catalog ``identifier`` length (60 in the older spec; the 2025 one allows 75)."""
MAX_DESCRIPTION = 60
"""Catalog ``description`` length."""
MAX_CUSTOMER_DESCRIPTION = 6000
"""Catalog ``customerDescription`` length."""
MAX_INVOICE_DESCRIPTION = 6000
"""A charge's invoice text length (the strictest PSA's: ConnectWise's)."""
MAX_ADJUSTMENT_DESCRIPTION = 1000
"""A credit's description length (ConnectWise's)."""
ELLIPSIS = "…"
_HASH_LENGTH = 10
_REFERENCE = re.compile(r"(?<![0-9A-Za-z-])MSPHUB-T([1-9][0-9]*)(?![0-9A-Za-z])")


class Kind(StrEnum):
    """A billing transaction's kind."""

    CHARGE = "charge"
    CREDIT = "credit"


@dataclass(frozen=True)
class Transaction:
    """The facts of a billing transaction the payloads need (any object with them will do)."""

    id: int
    kind: str
    period_start: date
    period_end: date
    quantity: Decimal
    unit_price: Decimal
    unit_cost: Decimal
    amount: Decimal
    product_title: str


# --- reference -------------------------------------------------------------------


def reference(transaction_id: int) -> str:
    """Our reference for a transaction: ``MSPHUB-T<id>``.

    :raises ValueError: unless the id is a positive int.
    """
    if not isinstance(transaction_id, int) or isinstance(transaction_id, bool) or transaction_id < 1:
        raise ValueError(f"transaction id must be a positive int, not {transaction_id!r}")
    return f"{REFERENCE_PREFIX}{transaction_id}"


def parse_reference(text: str | None) -> int | None:
    """The transaction id in our reference within ``text`` (the last one), or None.

    Finds it inside a serialNumber or at the end of a description; ``MSPHUB-T12``
    is not read inside ``MSPHUB-T123`` or ``XMSPHUB-T12``.
    """
    matches = _REFERENCE.findall(text or "")
    return int(matches[-1]) if matches else None


# --- catalog identity ------------------------------------------------------------


def _clean(text: str | None) -> str:
    """Trimmed NFC text with inner whitespace runs (newlines too) as one space."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis where cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def shorten_identifier(identifier: str, limit: int = MAX_IDENTIFIER) -> str:
    """``identifier`` within ``limit``: over-long ones become a prefix, "~" and a hash.

    The hash (10 hex digits of SHA-256 of the whole identifier) keeps two long
    identifiers that share their first characters apart after shortening.
    """
    if len(identifier) <= limit:
        return identifier
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:_HASH_LENGTH].upper()
    return f"{identifier[: limit - _HASH_LENGTH - 1]}~{digest}"


def catalog_identifier(product_id: str, billing_term: str | None, billing_frequency: str | None, qualify: bool) -> str:
    """The catalog identifier of a product: its id, or ``<id>-<term>-<frequency>``.

    :raises PayloadError: for an empty product id.
    """
    base = _clean(product_id)
    if not base:
        raise PayloadError("A catalog item needs a product id.")
    if qualify:
        base = "-".join(part for part in (base, _clean(billing_term), _clean(billing_frequency)) if part)
    return shorten_identifier(base)


def products_to_qualify(products: Iterable[tuple[str, str | None, str | None]]) -> set[str]:
    """Product ids (cleaned) sold on more than one (term, frequency) among ``products``.

    ``products`` are (product id, billing term, billing frequency) of *all* the
    distributor's products, so the answer does not depend on which are synced first.
    """
    seen: dict[str, set[tuple[str, str]]] = {}
    for product_id, term, frequency in products:
        seen.setdefault(_clean(product_id), set()).add((_clean(term), _clean(frequency)))
    return {product_id for product_id, variants in seen.items() if len(variants) > 1}


def catalog_identifiers(
    products: Iterable[tuple[str, str | None, str | None]],
) -> dict[tuple[str, str | None, str | None], str]:
    """The identifier of every (product id, term, frequency), qualified where needed."""
    products = list(products)
    qualify = products_to_qualify(products)
    return {key: catalog_identifier(*key, qualify=_clean(key[0]) in qualify) for key in products}


def catalog_description(title: str) -> str:
    """The catalog ``description``: the title, within 60 characters, "…" where cut.

    :raises PayloadError: for an empty title.
    """
    text = _clean(title)
    if not text:
        raise PayloadError("A catalog item needs a title.")
    return shorten(text, MAX_DESCRIPTION)


def customer_description(title: str) -> str:
    """The catalog ``customerDescription``: the whole title (within 6000 characters)."""
    return shorten(_clean(title), MAX_CUSTOMER_DESCRIPTION)


# --- texts ------------------------------------------------------------------------


def _period_text(start: date, end: date) -> str:
    """A billing period as text: "(2026-01-01 to 2026-01-31)"."""
    return f"({start.isoformat()} to {end.isoformat()})"


def _fit_product(product: str, suffix: str, limit: int) -> str:
    """``product`` + ``suffix`` within ``limit``, cutting the product part only."""
    room = max(limit - len(suffix), 1)
    return shorten(_clean(product), room) + suffix


def invoice_description(tx: Any) -> str:
    """The addition's invoice text: the product and its period (within 6000)."""
    return _fit_product(tx.product_title, " " + _period_text(tx.period_start, tx.period_end), MAX_INVOICE_DESCRIPTION)


def adjustment_description(tx: Any) -> str:
    """The adjustment's text: "Credit: <product> (<period>) MSPHUB-T<id>" (within 1000)."""
    suffix = f" {_period_text(tx.period_start, tx.period_end)} {reference(tx.id)}"
    return _fit_product(f"Credit: {_clean(tx.product_title)}", suffix, MAX_ADJUSTMENT_DESCRIPTION)


# --- the outbox --------------------------------------------------------------------


class OutboxState(StrEnum):
    """The state of one transaction's outbox row."""

    PENDING = "pending"
    SENDING = "sending"
    PUSHED = "pushed"
    FAILED = "failed"
    SKIPPED = "skipped"
    MOVING = "moving"  # pushed; a person asked to move it to the mapping's new agreement
    REMOVING = "removing"  # our record is being removed from the old agreement (committed before the call)
    BLOCKED = "blocked"  # a pre-flight check found what the PSA would refuse (code and message kept); not sent


class OutboxEvent(StrEnum):
    """What happens to an outbox row."""

    ATTEMPT = "attempt"  # marked sending, committed, before the call
    SUCCEEDED = "succeeded"  # the PSA answered with the record's id
    PERMANENT_ERROR = "permanent_error"  # the PSA refused it (code and message kept)
    TRANSIENT_ERROR = "transient_error"  # no answer worth keeping; try again later
    BECAME_INELIGIBLE = "became_ineligible"  # before the From Date, or subscription unmapped
    BECAME_ELIGIBLE = "became_eligible"  # a new From Date or mapping takes it in again
    RETRY = "retry"  # a user's "Retry failed" (of a failed push)
    MOVE_REQUESTED = "move_requested"  # a user asks to move a pushed one (Change + Move, or Retry failed)
    MOVE_CANCELLED = "move_cancelled"  # the move is no longer wanted: it stays where it is, pushed
    REMOVE_ATTEMPT = "remove_attempt"  # marked removing, committed, before reading and deleting ours
    REMOVED = "removed"  # ours is gone from the old agreement: push it to the new one
    REMOVE_REFUSED = "remove_refused"  # the PSA refused the delete (or it is not ours): a person decides
    RECREATE = "recreate"  # a person re-creates a record deleted in the PSA: looked up by reference, then created
    BLOCK = "block"  # a pre-flight check failed (domain.checks): no call is made for it
    UNBLOCK = "unblock"  # the cause is gone (re-checked by the next preview or push): pending again


TRANSITIONS: dict[tuple[OutboxState, OutboxEvent], OutboxState] = {
    (OutboxState.PENDING, OutboxEvent.ATTEMPT): OutboxState.SENDING,
    (OutboxState.SENDING, OutboxEvent.SUCCEEDED): OutboxState.PUSHED,
    (OutboxState.SENDING, OutboxEvent.PERMANENT_ERROR): OutboxState.FAILED,
    (OutboxState.SENDING, OutboxEvent.TRANSIENT_ERROR): OutboxState.PENDING,
    (OutboxState.PENDING, OutboxEvent.BECAME_INELIGIBLE): OutboxState.SKIPPED,
    (OutboxState.SKIPPED, OutboxEvent.BECAME_ELIGIBLE): OutboxState.PENDING,
    (OutboxState.FAILED, OutboxEvent.RETRY): OutboxState.PENDING,
    (OutboxState.PUSHED, OutboxEvent.MOVE_REQUESTED): OutboxState.MOVING,
    (OutboxState.FAILED, OutboxEvent.MOVE_REQUESTED): OutboxState.MOVING,
    (OutboxState.MOVING, OutboxEvent.MOVE_CANCELLED): OutboxState.PUSHED,
    (OutboxState.REMOVING, OutboxEvent.MOVE_CANCELLED): OutboxState.PUSHED,
    (OutboxState.FAILED, OutboxEvent.MOVE_CANCELLED): OutboxState.PUSHED,
    (OutboxState.MOVING, OutboxEvent.REMOVE_ATTEMPT): OutboxState.REMOVING,
    (OutboxState.REMOVING, OutboxEvent.REMOVED): OutboxState.PENDING,
    (OutboxState.REMOVING, OutboxEvent.REMOVE_REFUSED): OutboxState.FAILED,
    (OutboxState.PUSHED, OutboxEvent.RECREATE): OutboxState.SENDING,
    (OutboxState.PENDING, OutboxEvent.BLOCK): OutboxState.BLOCKED,
    (OutboxState.BLOCKED, OutboxEvent.UNBLOCK): OutboxState.PENDING,
    (OutboxState.BLOCKED, OutboxEvent.RETRY): OutboxState.PENDING,
    (OutboxState.BLOCKED, OutboxEvent.BECAME_INELIGIBLE): OutboxState.SKIPPED,
}
"""Every legal (state, event) -> new state; anything else is refused.

Moving a pushed transaction to another agreement (docs/billing.md, Change popup): ``pushed →
moving`` in the remap's transaction; the push marks it ``removing`` and commits before any
call, reads our record on the old agreement, deletes it only when it carries our reference,
then ``pending`` (the normal push creates it on the new agreement: exactly once, one call).
A refused delete is ``failed`` with the record still on the old agreement; only a person
moves it on (Retry failed asks again; a Change without Move keeps it where it is).
``failed`` rows whose record is in ConnectWise are refused moves (see ``in_psa``).

Re-creating a pushed record a person deleted in the PSA (revenue assurance): ``pushed → sending``,
committed; the next push's recovery reads the agreement for our reference first and creates the record
only when none is there (exactly once, as for any row whose outcome is unknown).
"""


def transition(state: str, event: str) -> OutboxState:
    """The state an outbox row moves to on ``event``.

    :raises IllegalTransitionError: when ``state`` does not allow ``event``.
    """
    key = (OutboxState(state), OutboxEvent(event))
    if key not in TRANSITIONS:
        raise IllegalTransitionError(f"An outbox row in state '{key[0].value}' cannot take the event '{key[1].value}'.")
    return TRANSITIONS[key]


def allowed_events(state: str) -> frozenset[OutboxEvent]:
    """The events a row in ``state`` may take."""
    return frozenset(event for (source, event) in TRANSITIONS if source == OutboxState(state))


def in_psa(state: str, remote_record_id: int | None) -> bool:
    """True when the row's record is in the PSA: pushed, waiting to move, or a refused move.

    A ``failed`` row keeps a PSA record id only when the PSA refused to remove it from
    the old agreement (a failed push never got one).
    """
    state = OutboxState(state)
    return state in (OutboxState.PUSHED, OutboxState.MOVING, OutboxState.REMOVING) or (
        state == OutboxState.FAILED and remote_record_id is not None
    )


def retry_event(remote_record_id: int | None) -> OutboxEvent:
    """What "Retry failed" does to a failed row: a refused move is asked again, a failed push goes back to pending."""
    return OutboxEvent.MOVE_REQUESTED if remote_record_id is not None else OutboxEvent.RETRY


# --- recovery of an uncertain row ------------------------------------------------------


class RecoveryAction(StrEnum):
    """What to do with a row found in ``sending``."""

    ADOPT = "adopt"  # exactly one record carries our reference: it was created
    CREATE = "create"  # none does: the call never landed, create it (one call)
    CONFLICT = "conflict"  # several do: duplicates exist in ConnectWise, flag them


@dataclass(frozen=True)
class Recovery:
    """The recovery decision and the PSA record ids it concerns (sorted)."""

    action: RecoveryAction
    remote_ids: tuple[int, ...] = ()

    @property
    def remote_id(self) -> int | None:
        """The id to adopt, for ADOPT only."""
        return self.remote_ids[0] if self.action == RecoveryAction.ADOPT else None


def recovery_decision(transaction_id: int, records: Iterable[tuple[int, str | None]]) -> Recovery:
    """Adopt, create or flag, from the records found in the PSA for a ``sending`` row.

    ``records`` are (PSA record id, the text carrying the reference) as read back; only
    those whose reference is exactly this transaction's count, so a loose search
    that also returned ``MSPHUB-T123`` for ``MSPHUB-T12`` is harmless. Nothing is
    ever deleted: a conflict is for a person to resolve.
    """
    ids = tuple(sorted({remote_id for remote_id, text in records if parse_reference(text) == transaction_id}))
    if not ids:
        return Recovery(RecoveryAction.CREATE)
    if len(ids) == 1:
        return Recovery(RecoveryAction.ADOPT, ids)
    return Recovery(RecoveryAction.CONFLICT, ids)


# --- revenue -----------------------------------------------------------------------


def signed_amount(kind: str, amount: Decimal) -> Decimal:
    """A charge counts as its amount, a credit as minus its magnitude (either sign given)."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    value = Decimal(amount)
    return -abs(value) if Kind(kind) == Kind.CREDIT else value


def net_amount(items: Iterable[tuple[str, Decimal]]) -> Decimal:
    """Charges minus credits of (kind, amount) pairs, as a Decimal (0 when empty)."""
    return sum((signed_amount(kind, amount) for kind, amount in items), Decimal(0))


# --- changing a subscription's mapping ------------------------------------------------


@dataclass(frozen=True)
class TransactionState:
    """A transaction and its outbox state, as the Change popup sees it.

    ``agreement_id``: the agreement its record is on in ConnectWise (same id space as
    ``MappingTarget.agreement_id``), when known; ``record_id``: the ConnectWise record id.
    """

    id: int
    period_start: date
    period_end: date
    kind: str
    amount: Decimal
    state: str
    agreement_id: Hashable | None = None
    record_id: int | None = None

    @property
    def held(self) -> bool:
        """Its record is in ConnectWise (pushed, waiting to move, or a refused move)."""
        return in_psa(self.state, self.record_id) and OutboxState(self.state) != OutboxState.REMOVING


@dataclass(frozen=True)
class MappingTarget:
    """Where a subscription's billing goes: an agreement (its name for messages), from a date."""

    agreement_id: Hashable
    from_date: date
    name: str | None = None


@dataclass(frozen=True)
class RemapPreview:
    """What a mapping change does; each list holds transaction ids, with its net amount.

    ``to_new``: not yet pushed, on/after the new From Date: pushed to the new agreement.
    ``to_skip``: not yet pushed, before the new From Date: become skipped.
    ``move_candidates``: in ConnectWise on another agreement than the new one, on/after the
    new From Date; they stay there unless the person chooses to move them (see ``warning``).
    ``in_flight``: being sent or removed right now; wait for the push to finish.
    """

    to_new: tuple[int, ...]
    to_skip: tuple[int, ...]
    move_candidates: tuple[int, ...]
    in_flight: tuple[int, ...]
    to_new_amount: Decimal
    to_skip_amount: Decimal
    move_amount: Decimal
    warning: str | None


def _remap_group(tx: TransactionState, old: MappingTarget | None, new: MappingTarget) -> str | None:
    """Which RemapPreview list one transaction belongs to (None: it stays as it is)."""
    state = OutboxState(tx.state)
    after = tx.period_end >= new.from_date
    if state in (OutboxState.SENDING, OutboxState.REMOVING):
        return "in_flight"
    if not tx.held:
        return "to_new" if after else "to_skip"
    holder = tx.agreement_id if tx.agreement_id is not None else (old.agreement_id if old else None)
    return "move_candidates" if after and holder is not None and holder != new.agreement_id else None


def _move_warning(candidates: list[TransactionState], old: MappingTarget | None, new: MappingTarget) -> str | None:
    """The warning shown when pushed transactions could be moved."""
    if not candidates:
        return None
    count = len(candidates)
    on_old = old is not None and old.name and all(tx.agreement_id in (None, old.agreement_id) for tx in candidates)
    source = f"agreement {old.name}" if on_old and old is not None else "the agreement they were pushed to"
    target = f"agreement {new.name}" if new.name else "the new agreement"
    return (
        f"{count} transaction(s) already pushed to ConnectWise fall on or after the new From Date. They stay on "
        f"{source} unless you move them: moving removes our records from there and creates them on {target} "
        f"at the next push. Periods ConnectWise has already invoiced stay on those invoices: they must be "
        f"credited there, on {source}, or the customer is billed twice. ConnectWise may refuse to remove a record "
        f"it has invoiced; that transaction is then marked failed and stays where it is."
    )


def remap_preview(
    transactions: Iterable[TransactionState], old: MappingTarget | None, new: MappingTarget
) -> RemapPreview:
    """Preview of the "Change Subscription Mapping" popup (``old`` None for a first mapping).

    Only transactions not yet pushed follow the new mapping; pushed ones never move
    by themselves. Failed pushes and skipped ones are reconsidered like pending ones.
    """
    groups: dict[str, list[TransactionState]] = {"to_new": [], "to_skip": [], "move_candidates": [], "in_flight": []}
    for tx in transactions:
        group = _remap_group(tx, old, new)
        if group is not None:
            groups[group].append(tx)
    ids = {name: tuple(tx.id for tx in members) for name, members in groups.items()}
    totals = {name: net_amount((tx.kind, tx.amount) for tx in members) for name, members in groups.items()}
    return RemapPreview(
        ids["to_new"],
        ids["to_skip"],
        ids["move_candidates"],
        ids["in_flight"],
        totals["to_new"],
        totals["to_skip"],
        totals["move_candidates"],
        _move_warning(groups["move_candidates"], old, new),
    )


# --- prorated charges ------------------------------------------------------------------

UNIT_PRICE_PLACES = 6
"""Decimal places we allow in an addition's unitPrice when it carries a prorated amount."""


@dataclass(frozen=True)
class AdditionPricing:
    """What an addition carries so ConnectWise bills exactly MSP Hub's amount."""

    quantity: Decimal
    unit_price: Decimal
    prorated: bool
    note: str = ""


def addition_pricing(quantity: Decimal, unit_price: Decimal, amount: Decimal) -> AdditionPricing:
    """Quantity and unit price whose product is exactly ``amount`` (MSP Hub's billed figure).

    - amount = quantity × unit price: as given (docs/billing.md: unit price = resale price).
    - prorated, and amount ÷ quantity is exact within 6 places: the quantity stays, the unit
      price becomes amount ÷ quantity (the invoice shows the seats at the prorated price).
    - otherwise (or quantity 0): quantity 1 at the amount, the seats named in the note.
    """
    quantity, unit_price, amount = Decimal(quantity), Decimal(unit_price), Decimal(amount)
    if quantity * unit_price == amount:
        return AdditionPricing(quantity, unit_price, False)
    if quantity != 0:
        per_unit = (amount / quantity).quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES))
        if per_unit * quantity == amount:
            return AdditionPricing(quantity, per_unit.normalize(), True, "prorated")
    return AdditionPricing(Decimal(1), amount, True, f"prorated, {quantity.normalize()} × {unit_price.normalize()}")
