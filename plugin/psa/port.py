"""The protocol of a partner's PSA client: what the billing sync, the catalog and the directory call.

Every call may raise :mod:`msphub_psa.psa.errors`; none raises anything else of the adapter's. Writes are never
retried by the adapter (the push decides, reading first when an outcome is unknown); reads may be.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from typing import Protocol

from msphub_psa.psa.records import (
    Agreement,
    AgreementInvoice,
    CatalogItem,
    Charge,
    Company,
    Credit,
    ListEntry,
    NewCatalogItem,
    Record,
)

LIST_KINDS = ("category", "subcategory", "type")
"""The procurement lists a catalog item is classified by."""


class PsaClient(Protocol):
    """One partner's PSA, on its credentials."""

    kind: str
    """The PSA's name in the plugin (``connectwise``)."""

    @property
    def call_count(self) -> int:
        """Requests made so far (every attempt counts)."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before the ``attempt``-th try of a transient failure."""

    def close(self) -> None:
        """Release the connections."""

    # -- the ledger: our charges and credits on agreements ----------------------------------------------------

    def check(self, record: Charge | Credit) -> None:
        """Refuse, before any call, a record this PSA cannot take as it is (no call is made).

        :raises Permanent: (code ``PayloadError``) saying why.
        """

    def create_charge(self, agreement_id: int, charge: Charge) -> Record:
        """Create a charge (one call, never retried)."""

    def create_credit(self, agreement_id: int, credit: Credit) -> Record:
        """Create a credit (one call, never retried)."""

    def find_ours(self, agreement_id: int, kind: str, reference: str) -> list[Record]:
        """The agreement's records of ``kind`` carrying ``reference`` (one call)."""

    def get_record(self, agreement_id: int, kind: str, record_id: int) -> Record:
        """One record by id; :class:`~msphub_psa.psa.errors.NotFound` when gone."""

    def remove(self, agreement_id: int, kind: str, record_id: int) -> None:
        """Delete one record (the caller has checked it is ours)."""

    def iter_records(self, agreement_id: int, kind: str) -> Iterator[Record]:
        """Every record of ``kind`` on the agreement, ours or not, lazily: one call per page of up to 1,000."""

    def iter_agreement_invoices(self, agreement_ids: list[int]) -> Iterator[AgreementInvoice]:
        """The agreement invoices of these agreements, in as few calls as the PSA allows."""

    # -- the catalog ----------------------------------------------------------------------------------------

    def find_catalog_item(self, identifier: str) -> CatalogItem | None:
        """The catalog item with this identifier, if any."""

    def find_catalog_items(self, identifiers: Iterable[str]) -> dict[str, list[CatalogItem]]:
        """Each identifier -> every catalog item the PSA holds as equal to it (as the PSA compares identifiers:
        ConnectWise ignores case), active or not, batched; ``[]`` where none."""

    def create_catalog_item(self, item: NewCatalogItem) -> CatalogItem:
        """Create a catalog item (never retried)."""

    def list_entries(self, kind: str) -> list[ListEntry]:
        """Every entry of one procurement list (``LIST_KINDS``)."""

    def create_list_entry(self, kind: str, name: str, category_id: int | None = None) -> ListEntry:
        """Create a category, a subcategory (of ``category_id``) or a product type."""

    # -- the directory -------------------------------------------------------------------------------------

    def iter_companies(self, updated_since: dt.datetime | None = None) -> Iterator[Company]:
        """Every company (changed since ``updated_since``), page by page."""

    def iter_agreements(self, updated_since: dt.datetime | None = None) -> Iterator[Agreement]:
        """Every agreement (changed since ``updated_since``), page by page."""

    def get_agreements(self, ids: Iterable[int]) -> dict[int, Agreement]:
        """Agreements by id, as they are now, in as few calls as the PSA allows (batched reads, never one call
        per agreement); ids the PSA does not have are absent."""

    def get_companies(self, ids: Iterable[int]) -> dict[int, Company]:
        """Companies by id (deleted ones included), batched like ``get_agreements``."""
