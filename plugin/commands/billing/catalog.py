"""Catalog sync: every product of an eligible transaction exists in the PSA's catalog.

Identity, description and classification follow docs/billing.md and the partner's rules. An item
is looked up by identifier before any create and adopted when found (a classification that
differs from our rules is recorded, not changed: that needs the partner's consent). Category,
subcategory and type names the rules give and the PSA lacks are created first. A product
the PSA refuses is recorded with the PSA's code and message; its transactions wait.
Outcomes are cached per partner and product (``psa_catalog_sync``), so a product costs calls once
(a refusal too, for the push: Retry failed forgets it, so the next push tries the product again).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.settings import effective_settings
from msphub_psa.commands.directory import system_actor
from msphub_psa.commands.rules.common import attributes_of, default_rule, domain_rules
from msphub_psa.daos.base import session
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.outbox import CatalogSyncDAO, PushDataDAO
from msphub_psa.domain import billing, checks
from msphub_psa.domain import rules as engine
from msphub_psa.domain.errors import PayloadError
from msphub_psa.psa import errors as psa
from msphub_psa.psa.port import LIST_KINDS, PsaClient
from msphub_psa.psa.records import CatalogItem, ListEntry, Named, NewCatalogItem

log = logging.getLogger(__name__)
READ_FRESH_FOR = dt.timedelta(minutes=30)
"""How long what a prepared preview read of the catalog stands in for the read of its approved push."""


@dataclass
class CatalogRead:
    """What a catalog read found, kept by a prepared preview for its approved push (``CatalogSync(seen=...)``):
    the items of the identifiers whose item was ours and active (``items``), the identifiers nothing matched, whose
    item the preview planned to create (``absent``), and the categories, subcategories and types as read
    (``lists``, None when they were not read). Identifiers the read found taken by another product's item, or
    inactive, are not kept: the push looks at them again."""

    at: dt.datetime
    items: dict[str, list[CatalogItem]] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    lists: dict[str, list[ListEntry]] | None = None

    def fresh(self, now: dt.datetime) -> bool:
        """Young enough to stand in for a new read."""
        return now - self.at <= READ_FRESH_FOR

    def known(self, identifiers: set[str]) -> dict[str, list[CatalogItem]]:
        """What the read found for those of ``identifiers`` it can answer (ours and active, or nothing)."""
        found = {i: list(self.items[i]) for i in identifiers if i in self.items}
        return {**found, **{i: [] for i in identifiers if i in self.absent}}

    def as_dict(self) -> dict:
        """JSON form (``psa_sync_preview.catalog_read``)."""
        return {
            "at": self.at.isoformat(),
            "items": {key: [asdict(item) for item in items] for key, items in self.items.items()},
            "absent": sorted(self.absent),
            "lists": None if self.lists is None else {k: [asdict(e) for e in v] for k, v in self.lists.items()},
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> CatalogRead | None:
        """Back from the JSON form (None stays None)."""
        if not data:
            return None

        def named(value: dict | None) -> Named | None:
            return None if value is None else Named(**value)

        items = {
            key: [
                CatalogItem(
                    **{
                        **item,
                        "category": named(item.get("category")),
                        "subcategory": named(item.get("subcategory")),
                        "type": named(item.get("type")),
                    }
                )
                for item in found
            ]
            for key, found in data.get("items", {}).items()
        }
        lists = data.get("lists")
        return cls(
            at=dt.datetime.fromisoformat(data["at"]),
            items=items,
            absent=set(data.get("absent", [])),
            lists=None if lists is None else {k: [ListEntry(**e) for e in v] for k, v in lists.items()},
        )


@dataclass
class CatalogPlan:
    """What the sync found or would do, per product (for ``--dry-run`` and the run record)."""

    adopt: list[dict] = field(default_factory=list)
    create: list[dict] = field(default_factory=list)
    new_lists: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    cached: int = 0

    def as_dict(self) -> dict:
        """JSON form."""
        return {
            "adopt": self.adopt,
            "create": self.create,
            "new_lists": sorted(set(self.new_lists)),
            "refused": self.refused,
            "cached": self.cached,
        }


def _product_view(product) -> engine.Product:
    """The rule engine's view of a hub product."""
    return engine.Product(
        product.publisher,
        product.item_type,
        product.product_id,
        product.title,
        product.billing_term,
        product.billing_frequency,
    )


class CatalogSync:
    """Ensures catalog items for products; ``create_once`` is the push's exactly-once helper."""

    def __init__(
        self,
        partner_id: int,
        client: PsaClient,
        create_once: Callable,
        dry_run: bool = False,
        retry_refused: bool = True,
        on_record: Callable[[], None] | None = None,
        seen: CatalogRead | None = None,
    ):
        self.partner_id, self.client, self.create_once, self.dry_run = partner_id, client, create_once, dry_run
        self.seen = seen  # an approved preview's fresh read: what it answers is not read again
        self.found: dict[str, list[CatalogItem]] = {}  # what the catalog holds at each identifier (read or seen)
        self.keys: dict[int, str] = {}  # hub product id -> its catalog identifier
        self.result: dict[int, int | None] = {}  # hub product id -> its item (None: refused, blocked or to create)
        self.retry_refused = retry_refused  # False (the push): a refusal holds until Retry failed forgets it
        self.on_record = on_record or (lambda: None)  # the push's heartbeat, in each outcome's transaction
        self.plan = CatalogPlan()
        self.blocks: dict[int, checks.Block] = {}  # product -> why its charges cannot go (the catalog's checks)
        self._lists: dict[str, list] | None = None
        self.create_lists = True  # Sync Settings: the rules' missing names may be created (read with the rules)

    def ensure(self, transaction_ids: list[int]) -> dict[int, int | None]:
        """{hub product id: catalog item id, or None when refused} for the products of these transactions."""
        return self._ensure(PushDataDAO.products_of(transaction_ids))

    def ensure_pending(self) -> dict[int, int | None]:
        """The same for the products of the partner's pending outbox rows (the push's step; one query)."""
        return self._ensure(PushDataDAO.pending_products(self.partner_id, checks.CATALOG_CODES))

    def _ensure(self, products: list) -> dict[int, int | None]:
        """Cached outcomes first; look up, adopt or create the others; every item read again (one batched read)
        for the catalog's checks."""
        if not products:
            return {}
        cached = CatalogSyncDAO.for_products(self.partner_id, [p.id for p in products])
        identifiers = self._identifiers()
        keys = {p.id: identifiers[(p.product_id, p.billing_term, p.billing_frequency)] for p in products}
        todo = [p for p in products if not self._reuse(cached.get(p.id))]
        attrs = self._classifications(todo) if todo else {}
        self.create_lists = effective_settings(self.partner_id).create_list_values
        session().rollback()  # reads only; nothing open across the calls that follow
        wanted = set(keys.values())
        known = self.seen.known(wanted) if self.seen is not None else {}
        unknown = sorted(wanted - set(known))
        found = {**(self.client.find_catalog_items(unknown) if unknown else {}), **known}
        self.found, self.keys = found, keys
        if self.seen is not None and self.seen.lists is not None and self._lists is None:
            self._lists = {kind: list(entries) for kind, entries in self.seen.lists.items()}
        result: dict[int, int | None] = {}
        self.result = result
        for product in products:
            row, items = cached.get(product.id), found.get(keys[product.id], [])
            if product in todo:
                result[product.id] = self._one(product, keys[product.id], attrs[product.id], items, row)
            else:
                result[product.id] = self._cached(product, row, items)
        return result

    def read(self, at: dt.datetime) -> CatalogRead:
        """What this sync read, for a push soon after: the items it found ours and active, the identifiers it found
        free and planned to create, the lists (a dry run's; call after ``ensure``)."""
        planned = {entry["product_id"] for entry in self.plan.create}
        read = CatalogRead(at=at, lists=None if self._lists is None else {k: list(v) for k, v in self._lists.items()})
        for product_id, remote_id in self.result.items():
            identifier = self.keys[product_id]
            if product_id in planned and not self.found.get(identifier):
                read.absent.add(identifier)
            elif remote_id and product_id not in self.blocks:
                ours = [i for i in self.found.get(identifier, []) if i.id == remote_id and not i.inactive]
                if ours:
                    read.items[identifier] = ours
        return read

    def _reuse(self, row) -> bool:
        """A cached outcome holds: synced, or refused for the push (a taken identifier is looked at again)."""
        if row is None:
            return False
        return row.status == "synced" or (not self.retry_refused and row.error_code not in checks.CATALOG_CODES)

    def _cached(self, product, row, items: list) -> int | None:
        """A cached outcome, with the catalog's check of the item as it is now (inactive: its charges wait)."""
        self.plan.cached += 1
        if row.status != "synced":
            return None
        item = next((i for i in items if i.id == row.remote_id), None)
        if item is not None and item.inactive:
            self.blocks[product.id] = checks.block("CatalogItemInactive", item=item.id, identifier=item.identifier)
        return row.remote_id

    def _identifiers(self) -> dict:
        """Catalog identifiers of the distributor's products (qualified where a product id repeats)."""
        partner = PartnerDAO.find_by_id(self.partner_id)
        return billing.catalog_identifiers(PushDataDAO.distributor_product_keys(partner.distributor_id))

    def _classifications(self, products: list) -> dict[int, engine.Attributes]:
        """The rules' attributes for each product (default rule created on first need)."""
        rules = domain_rules(self.partner_id)
        default = engine.DefaultRule(attributes_of(_default_row(self.partner_id)))
        return {p.id: engine.classify(_product_view(p), rules, default) for p in products}

    def _one(self, product, identifier: str, attrs: engine.Attributes, items: list, row) -> int | None:
        """Adopt our item, block on another product's, or create one; None (recorded) when refused or blocked."""
        try:
            return self._place(product, identifier, attrs, items, row)
        except (PayloadError, psa.Permanent) as err:
            return self._refuse(product, identifier, err)

    def _place(self, product, identifier: str, attrs: engine.Attributes, items: list, row) -> int | None:
        """ConnectWise finds identifiers equal ignoring case: an item is adopted only when it is ours (the identical
        identifier, or the item we adopted or created before), never another product's; none found: created."""
        known = {row.remote_id} if row is not None and row.remote_id else set()
        mine = sorted(
            (i for i in items if checks.ours(checks.ItemFacts(i.id, i.identifier), identifier, known)),
            key=lambda i: (i.identifier != identifier, i.id),
        )
        if items and not mine:
            facts = [checks.ItemFacts(i.id, i.identifier, i.inactive) for i in items]
            return self._taken(product, identifier, checks.catalog_block(identifier, facts, known))
        if mine:
            if mine[0].inactive:
                self.blocks[product.id] = checks.block("CatalogItemInactive", item=mine[0].id, identifier=identifier)
            return self._adopt(product, identifier, mine[0], attrs)
        missing = self._missing_lists(attrs)
        if missing and not self.create_lists:
            return self._block(product, identifier, checks.block("ClassificationMissing", missing=", ".join(missing)))
        if self.dry_run:
            self.plan.create.append(
                {"product_id": product.id, "identifier": identifier, "classification": attrs.__dict__}
            )
            self.plan.new_lists += missing
            return None
        return self._create(product, identifier, attrs)

    def _adopt(self, product, identifier: str, found, attrs: engine.Attributes) -> int:
        """Record an existing item; note where its classification differs from our rules."""
        theirs = {
            "category": getattr(found.category, "name", None),
            "subcategory": getattr(found.subcategory, "name", None),
            "type": getattr(found.type, "name", None),
            "product_class": found.product_class,
        }
        ours = {
            "category": attrs.category,
            "subcategory": attrs.subcategory,
            "type": attrs.type,
            "product_class": attrs.product_class,
        }
        differs = [
            f"{k}: ConnectWise {theirs[k]!r}, rules {ours[k]!r}"
            for k in ours
            if theirs[k] is not None and (theirs[k] or "").casefold() != (ours[k] or "").casefold()
        ]
        self.plan.adopt.append(
            {"product_id": product.id, "identifier": identifier, "remote_id": found.id, "differs": differs}
        )
        if not self.dry_run:
            self._record(
                product.id,
                identifier=identifier,
                remote_id=found.id,
                status="synced",
                outcome="adopted",
                error_code=None,
                error_message=None,
                differs="; ".join(differs) or None,
            )
        return found.id

    def _create(self, product, identifier: str, attrs: engine.Attributes) -> int:
        """Create the item (lists first), looked up by identifier again if the answer was lost."""
        category_id, subcategory_id, type_id = self._list_ids(attrs)
        item = NewCatalogItem(
            identifier=identifier,
            description=billing.catalog_description(product.title),
            customer_description=billing.customer_description(product.title),
            category_id=category_id,
            subcategory_id=subcategory_id,
            type_id=type_id,
            product_class=attrs.product_class,
        )
        created = self.create_once(lambda: self.client.create_catalog_item(item), lambda: self._exact(identifier))
        self.plan.create.append({"product_id": product.id, "identifier": identifier, "remote_id": created.id})
        self._record(
            product.id,
            identifier=identifier,
            remote_id=created.id,
            status="synced",
            outcome="created",
            error_code=None,
            error_message=None,
            differs=None,
        )
        return created.id

    def _exact(self, identifier: str):
        """The item whose identifier is exactly ours (a create's answer lost), never a case-insensitive twin."""
        items = self.client.find_catalog_items([identifier]).get(identifier, [])
        return next((i for i in sorted(items, key=lambda i: i.id) if i.identifier == identifier), None)

    def _taken(self, product, identifier: str, found: checks.Block | None) -> None:
        """Another product's item holds the identifier: block the charges (looked at again by every push)."""
        assert found is not None
        return self._block(product, identifier, found)

    def _block(self, product, identifier: str, found: checks.Block) -> None:
        """A catalog check blocks the product's charges (looked at again by every push)."""
        self.blocks[product.id] = found
        return self._refuse(product, identifier, psa.Permanent(found.message, code=found.code))

    def _refuse(self, product, identifier: str, err: Exception) -> None:
        """Record the PSA's refusal; the product's transactions wait."""
        code = getattr(err, "code", None) or type(err).__name__
        message = getattr(err, "message", None) or str(err)
        self.plan.refused.append({"product_id": product.id, "identifier": identifier, "code": code, "message": message})
        if not self.dry_run:
            self._record(
                product.id,
                identifier=identifier,
                remote_id=None,
                status="refused",
                outcome="refused",
                error_code=code,
                error_message=message,
                differs=None,
            )
        return None

    @transaction
    def _record(self, product_id: int, **values) -> None:
        """Store a product's catalog outcome, then the ``on_record`` hook (own short transaction)."""
        CatalogSyncDAO.record(self.partner_id, product_id, **values)
        self.on_record()

    # -- categories, subcategories, types ------------------------------------------------------

    def _lists_now(self) -> dict[str, list[ListEntry]]:
        """The PSA's lists, read once per sync."""
        if self._lists is None:
            self._lists = {kind: self.client.list_entries(kind) for kind in LIST_KINDS}
        return self._lists

    def _missing_lists(self, attrs: engine.Attributes) -> list[str]:
        """The rule's names the PSA's lists lack (``"category: Name"``), which a create would add first."""
        lists = self._lists_now()
        named = (("category", attrs.category), ("subcategory", attrs.subcategory), ("type", attrs.type))
        return [f"{kind}: {name}" for kind, name in named if not _named(lists[kind], name)]

    def _list_ids(self, attrs: engine.Attributes) -> tuple[int, int, int]:
        """Ids of the rule's category, subcategory (under it) and type, created where missing."""
        category = self._entry("category", attrs.category)
        subcategory = self._entry("subcategory", attrs.subcategory, category.id)
        kind = self._entry("type", attrs.type)
        return category.id, subcategory.id, kind.id

    def _entry(self, kind: str, name: str, category_id: int | None = None) -> ListEntry:
        """The active list entry of that name (a subcategory: under ``category_id``), created once where missing."""

        def among(entries: list[ListEntry]) -> ListEntry | None:
            return _named([e for e in entries if category_id is None or e.category_id in (None, category_id)], name)

        found = among(self._lists_now()[kind])
        if found is not None:
            return found
        created = self.create_once(
            lambda: self.client.create_list_entry(kind, name, category_id),
            lambda: among(self.client.list_entries(kind)),
        )
        self._lists_now()[kind].append(created)
        self.plan.new_lists.append(f"{kind}: {name}")
        return created


def _named(entries: list[ListEntry], name: str) -> ListEntry | None:
    """The active entry whose name matches (case, Unicode form and outer spaces ignored), or None."""
    wanted = engine.normalize(name)
    return next((e for e in entries if not e.inactive and engine.normalize(e.name) == wanted), None)


@transaction
def _default_row(partner_id: int):
    """The partner's default rule, created with the guide's values on first need."""
    return default_rule(system_actor(partner_id), partner_id)
