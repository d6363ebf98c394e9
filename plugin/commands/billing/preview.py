"""Billing sync preview and approval: what a push would create now, prepared previews, approve or discard.

A preview never writes to the PSA or to the outbox. It takes the rows a push would push
(``PreviewRowsDAO.eligible``: the outbox's eligibility, without failed and sending rows), builds each
record as the push does (``delivery.record_of``, checked by the PSA's adapter), and asks the catalog sync what
it would create (a dry run: it reads the PSA's catalog). Rows left in ``sending`` are listed as the records a push
would look up first. Totals are always complete; the groups (customer → agreement) and their lines
are paged. The live preview has the database count and sum the plain charges (``live_summary``: one line built per
customer, agreement, product and mapping) and builds the lines of the page only.

A *prepared* preview (``psa_sync_preview``) stores the transactions it covers, computed once: its totals, its
groups in page order with their totals (``psa_sync_preview_group``) and each transaction's line outcome, so a page
of it is read (``stored_page``: a few queries whatever its size), never recomputed; and what its catalog step read
(``CatalogRead``), which its approved push reuses while fresh. Approving it (all, or the groups of some agreements)
enqueues a push of exactly those transactions that are still eligible
(``PushBillingCommand(only_transactions=...)``); the others stay pending. Discard drops it; a newer preview
expires it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy.exc import IntegrityError

from msphub_psa import clock
from msphub_psa.commands.access import partner_today
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.billing.catalog import CatalogRead, CatalogSync
from msphub_psa.commands.billing.common import sync_scope
from msphub_psa.commands.billing.delivery import record_of
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preflight import (
    Checker,
    block_json,
    candidate_of,
    facts_from_json,
    facts_json,
    read_agreements,
)
from msphub_psa.commands.billing.settings import approval_required
from msphub_psa.commands.exceptions import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from msphub_psa.commands.psa_client import check_record, psa_for, record_name
from msphub_psa.daos.base import session
from msphub_psa.daos.control import (
    AWAITING,
    Bucket,
    PreviewRow,
    PreviewRowsDAO,
    StoredLine,
    SyncPreviewDAO,
    fits_of,
)
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.daos.outbox import CatalogSyncDAO, PushDataDAO
from msphub_psa.domain import billing, checks
from msphub_psa.domain.actor import Actor
from msphub_psa.jobqueue import QueueUnavailable, enqueue_push
from msphub_psa.psa import errors as psa
from msphub_psa.psa.records import CHARGE, Charge
from msphub_psa.ratelimit import RateLimitTimeout

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
MAX_PAGE_SIZE, MAX_LINES, LOOKUPS_SHOWN = 200, 500, 50


def money(value: Decimal) -> str:
    """Money as text: two decimals, more only where the value has them."""
    value = Decimal(value)
    return str(value.quantize(CENT) if value == value.quantize(CENT) else value.normalize())


class _Product(NamedTuple):
    """What ``record_of`` reads of a product."""

    title: str
    product_id: str


# -- the catalog dry run ---------------------------------------------------------------------------


@dataclass
class CatalogView:
    """What the catalog sync would do, and each product's status: exists, create, refused or unknown."""

    products: dict[str, dict] = field(default_factory=dict)
    create: list[dict] = field(default_factory=list)
    new_lists: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    differs: list[dict] = field(default_factory=list)
    psa_calls: int = 0
    error: str | None = None
    agreements: dict[str, dict] = field(default_factory=dict)
    read: CatalogRead | None = field(default=None, repr=False)
    """What the dry run read of the catalog (not part of the JSON: a prepared preview stores it apart)."""

    def product(self, product_pk: int) -> dict:
        """One product's entry ({identifier, status, remote_id})."""
        return self.products.get(str(product_pk), {"identifier": None, "status": "unknown", "remote_id": None})

    def as_dict(self) -> dict:
        """JSON form (also what a prepared preview stores)."""
        return {
            "products": self.products,
            "create": self.create,
            "new_lists": self.new_lists,
            "refused": self.refused,
            "differs": self.differs,
            "psa_calls": self.psa_calls,
            "error": self.error,
            "agreements": self.agreements,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> CatalogView:
        """Back from the stored form."""
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})


def require_preview(partner_id: int, preview_id: int) -> None:
    """:raises NotFoundError: the preview is not the partner's (or does not exist)."""
    if SyncPreviewDAO.in_partner(partner_id, preview_id) is None:
        raise NotFoundError(f"Preview {preview_id} not found.")


def read_catalog(partner_id: int, username: str, rows: list[PreviewRow]) -> CatalogView:
    """The catalog sync's dry run for the products of ``rows`` (reads the PSA; writes nothing)."""
    first_tx = {}
    titles = {}
    for row in rows:
        first_tx.setdefault(row.product_pk, row.id)
        titles[row.product_pk] = row.product_title
    view = CatalogView()
    if not first_tx:
        return view
    client = None
    try:
        client = psa_for(IntegrationDAO.for_partner(partner_id))
        session().rollback()
        sync = CatalogSync(partner_id, client, _no_create, dry_run=True)
        ids = sync.ensure(sorted(first_tx.values()))
    except (psa.PsaError, RateLimitTimeout) as err:
        session().rollback()
        view.error = f"The PSA's catalog could not be read: {err}"
        view.psa_calls = client.call_count if client is not None else 0
        return view
    view.psa_calls = client.call_count
    view.read = sync.read(clock.now())
    _fill_catalog(view, partner_id, sync.plan, ids, titles)
    for product_pk, found in sync.blocks.items():
        view.products.setdefault(str(product_pk), view.product(product_pk))["block"] = block_json(found)
    return view


def read_checks(partner_id: int, rows: list[PreviewRow], view: CatalogView, fits: dict | None = None) -> Checker:
    """The pre-flight checker for ``rows`` (their fits read, unless given): their agreements re-read from the PSA
    (batched; the cache updated), kept in ``view`` for a prepared preview. When the PSA cannot be asked, the
    agreements are not checked."""
    fits = PushDataDAO.fits([row.id for row in rows]) if fits is None else fits
    checker = Checker(today=partner_today(partner_id), fits=fits)
    session().rollback()
    ids = sorted({row.agreement_remote_id for row in rows})
    client = None
    try:
        client = psa_for(IntegrationDAO.for_partner(partner_id))
        session().rollback()
        checker.agreements = read_agreements(partner_id, client, ids)
    except (psa.PsaError, RateLimitTimeout) as err:
        session().rollback()
        view.error = view.error or f"The PSA's agreements could not be read: {err}"
    finally:
        if client is not None:
            view.psa_calls += client.call_count
            client.close()
    view.agreements = facts_json(checker.agreements)
    return checker


def stored_checker(partner_id: int, view: CatalogView, rows: list[PreviewRow]) -> Checker:
    """The checker of a prepared preview: the agreements as read when it was prepared (no PSA call)."""
    fits = PushDataDAO.fits([row.id for row in rows])
    return Checker(today=partner_today(partner_id), agreements=facts_from_json(view.agreements), fits=fits)


def _fill_catalog(view: CatalogView, partner_id: int, plan, ids: dict, titles: dict) -> None:
    """Each product's status from the dry run's plan and the catalog cache."""
    cached = CatalogSyncDAO.for_products(partner_id, list(ids))
    session().rollback()
    for pk, remote_id in ids.items():
        row = cached.get(pk)
        view.products[str(pk)] = {
            "identifier": row.identifier if row else None,
            "status": "exists" if remote_id else "unknown",
            "remote_id": remote_id,
        }
    for entry in plan.adopt:
        view.products[str(entry["product_id"])]["identifier"] = entry["identifier"]
        if entry["differs"]:
            view.differs.append({**entry, "title": titles.get(entry["product_id"])})
    for entry, status in [(e, "create") for e in plan.create] + [(e, "refused") for e in plan.refused]:
        view.products[str(entry["product_id"])] = {
            "identifier": entry["identifier"],
            "status": status,
            "remote_id": None,
        }
    view.create = [{**e, "title": titles.get(e["product_id"])} for e in plan.create]
    view.refused = [{**e, "title": titles.get(e["product_id"])} for e in plan.refused]
    view.new_lists = sorted(set(plan.new_lists))


# -- lines, groups and totals ------------------------------------------------------------------------


def _no_create(create, find, uncertain: bool = False):
    """A dry run creates nothing."""
    raise AssertionError("a dry run never creates")


def line_of(row: PreviewRow, catalog: CatalogView, checker: Checker | None = None) -> dict:
    """One record a push would create for ``row``, built as the push builds it and checked by the PSA's adapter
    and the pre-flight checks (a blocked line names its check: code, message, fix)."""
    line = _built_line(row, catalog)
    found = (checker or Checker()).first_block(candidate_of(row, row.agreement_remote_id, row.product_pk))
    if found is not None and line["status"] != "error":
        line.update(status="blocked", error=found.message, check=block_json(found), amount=_signed(row))
    return line


def _signed(row: PreviewRow) -> str:
    """The row's own amount as text (a blocked line shows what it would have carried)."""
    return money(abs(Decimal(row.amount)) * (-1 if row.kind == billing.Kind.CREDIT else 1))


def _built_line(row: PreviewRow, catalog: CatalogView) -> dict:
    """The line as the push would build the record (no pre-flight check)."""
    entry = catalog.product(row.product_pk)
    kind = record_name(row.kind)
    line = {
        "transaction_id": row.id,
        "reference": billing.reference(row.id),
        "kind": kind,
        "product": row.product_title,
        "product_id": row.product_code,
        "catalog": entry,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "quantity": None,
        "unit_price": None,
        "amount": None,
        "description": None,
        "status": "ok",
        "error": None,
        "check": None,
    }
    try:
        record = record_of(
            row, _Product(row.product_title, row.product_code), entry.get("remote_id") or 0, billing.reference(row.id)
        )
        check_record(record)
    except psa.Permanent as err:
        return {**line, "status": "error", "error": err.message}
    if isinstance(record, Charge):
        amount = Decimal(record.quantity) * Decimal(record.unit_price)
        line.update(
            quantity=str(record.quantity),
            unit_price=str(record.unit_price),
            amount=money(amount),
            description=record.description,
        )
        if entry.get("block"):
            line.update(status="blocked", error=entry["block"]["message"], check=entry["block"])
        elif entry["status"] == "refused":
            line.update(
                status="blocked",
                error="The PSA refused this product's catalog item; the charge waits.",
                check=block_json(checks.block("ProductRefused")),
            )
    else:
        line.update(amount=money(record.amount), description=record.description)
    return line


def _blank_totals() -> dict:
    """Zero totals."""
    return {
        "transactions": 0,
        "additions": 0,
        "adjustments": 0,
        "charges": Decimal(0),
        "credits": Decimal(0),
        "blocked": 0,
        "blocked_amount": Decimal(0),
        "blocked_causes": Counter(),
        "errors": 0,
    }


def _add(totals: dict, line: dict) -> None:
    """Fold one line into totals (blocked and refused lines are counted, not summed: they are not pushed)."""
    totals["transactions"] += 1
    if line["status"] == "error":
        totals["errors"] += 1
    elif line["status"] == "blocked":
        totals["blocked"] += 1
        totals["blocked_amount"] += Decimal(line["amount"] or 0)
        totals["blocked_causes"][line["check"]["code"]] += 1
    elif line["kind"] == record_name(CHARGE):
        totals["additions"] += 1
        totals["charges"] += Decimal(line["amount"])
    else:
        totals["adjustments"] += 1
        totals["credits"] += Decimal(line["amount"])


def _totals_json(totals: dict) -> dict:
    """Totals with money as text, the net, and the blocked rows by cause ("12 transactions blocked: ...")."""
    causes = totals["blocked_causes"]
    return {
        **totals,
        "blocked_amount": money(totals["blocked_amount"]),
        "blocked_causes": dict(sorted(causes.items())),
        "blocked_summary": checks.summary(causes),
        "charges": money(totals["charges"]),
        "credits": money(totals["credits"]),
        "net": money(totals["charges"] + totals["credits"]),
    }


@dataclass
class Layout:
    """Every line of a preview, grouped (customer → agreement) in page order, with the totals (complete)."""

    totals: dict
    groups: dict[tuple[int, int], dict]
    members: dict[tuple[int, int], list[tuple[PreviewRow, dict]]]
    ordered: list[tuple[int, int]]


def layout(rows: list[PreviewRow], catalog: CatalogView, checker: Checker | None = None) -> Layout:
    """Each row's line (built and checked once), its group, the group totals and the overall totals."""
    groups: dict[tuple[int, int], dict] = {}
    members: dict[tuple[int, int], list[tuple[PreviewRow, dict]]] = {}
    overall = _blank_totals()
    for row in rows:
        key = (row.customer_id, row.agreement_id)
        if key not in groups:
            groups[key] = {
                "customer_id": row.customer_id,
                "customer_name": row.customer_name,
                "company_name": row.company_name,
                "agreement_id": row.agreement_id,
                "agreement_remote_id": row.agreement_remote_id,
                "agreement_name": row.agreement_name,
                **_blank_totals(),
            }
            members[key] = []
        line = line_of(row, catalog, checker)
        _add(groups[key], line)
        _add(overall, line)
        members[key].append((row, line))
    ordered = sorted(
        groups,
        key=lambda k: (groups[k]["customer_name"].casefold(), k[0], groups[k]["agreement_name"].casefold(), k[1]),
    )
    overall.update(customers=len({k[0] for k in groups}), agreements=len(groups))
    return Layout(_totals_json(overall), groups, members, ordered)


def summarize(
    rows: list[PreviewRow],
    catalog: CatalogView,
    page: int = 1,
    page_size: int = 20,
    lines: int = 20,
    selected: set[int] | None = None,
    checker: Checker | None = None,
) -> dict:
    """Totals (complete), and one page of customer → agreement groups with their first ``lines`` lines."""
    laid = layout(rows, catalog, checker)
    shown = laid.ordered[(page - 1) * page_size : page * page_size]
    result = [
        {
            **_totals_json(laid.groups[k]),
            "line_count": len(laid.members[k]),
            "selected": selected is None or k[1] in selected,
            "lines": [line for _row, line in laid.members[k][:lines]],
        }
        for k in shown
    ]
    return _page_json(laid.totals, page, page_size, result, [k[1] for k in laid.ordered])


def live_summary(
    buckets: list[Bucket],
    samples: dict[int, PreviewRow],
    others: list[PreviewRow],
    catalog: CatalogView,
    checker: Checker,
    page: int,
    page_size: int,
    first_rows,
) -> dict:
    """What ``summarize`` gives over every eligible row, from the database's count and sum of the plain charges
    (one line built per bucket: a plain charge's line depends only on its product, agreement and mapping) and a line
    for every other row; lines built for the page only (``first_rows(groups)``: the first rows of those groups)."""
    groups: dict[tuple[int, int], dict] = {}
    counts: Counter = Counter()
    overall = _blank_totals()

    def group_of(key: tuple[int, int], names: tuple) -> dict:
        if key not in groups:
            groups[key] = {
                "customer_id": key[0],
                "customer_name": names[0],
                "company_name": names[1],
                "agreement_id": key[1],
                "agreement_remote_id": names[2],
                "agreement_name": names[3],
                **_blank_totals(),
            }
        return groups[key]

    for bucket in buckets:
        key = (bucket.customer_id, bucket.agreement_id)
        names = (bucket.customer_name, bucket.company_name, bucket.agreement_remote_id, bucket.agreement_name)
        line = line_of(samples[bucket.first_id], catalog, checker)
        amount = Decimal(bucket.amount_units) / 10000
        for totals in (group_of(key, names), overall):
            _add_many(totals, line, bucket.count, amount)
        counts[key] += bucket.count
    for row in others:
        key = (row.customer_id, row.agreement_id)
        line = line_of(row, catalog, checker)
        names = (row.customer_name, row.company_name, row.agreement_remote_id, row.agreement_name)
        _add(group_of(key, names), line)
        _add(overall, line)
        counts[key] += 1
    ordered = sorted(
        groups,
        key=lambda k: (groups[k]["customer_name"].casefold(), k[0], groups[k]["agreement_name"].casefold(), k[1]),
    )
    overall.update(customers=len({k[0] for k in groups}), agreements=len(groups))
    shown = ordered[(page - 1) * page_size : page * page_size]
    lines: dict[tuple[int, int], list[dict]] = {k: [] for k in shown}
    for row in first_rows(shown):
        lines[(row.customer_id, row.agreement_id)].append(line_of(row, catalog, checker))
    result = [{**_totals_json(groups[k]), "line_count": counts[k], "selected": True, "lines": lines[k]} for k in shown]
    return _page_json(_totals_json(overall), page, page_size, result, [k[1] for k in ordered])


def _add_many(totals: dict, line: dict, count: int, amount: Decimal) -> None:
    """Fold ``count`` plain charges whose line is ``line`` and whose amounts sum to ``amount`` into totals (as
    ``_add`` of each: a plain charge's line carries its own amount, blocked or not)."""
    totals["transactions"] += count
    if line["status"] == "error":
        totals["errors"] += count
    elif line["status"] == "blocked":
        totals["blocked"] += count
        totals["blocked_amount"] += amount
        totals["blocked_causes"][line["check"]["code"]] += count
    else:
        totals["additions"] += count
        totals["charges"] += amount


def _page_json(totals: dict, page: int, page_size: int, result: list[dict], agreement_ids: list[int]) -> dict:
    """The totals and one page of groups, as the page, the REST API and the CLI read them."""
    return {
        "totals": totals,
        "groups": {
            "page": page,
            "page_size": page_size,
            "total": len(agreement_ids),
            "result": result,
            "agreement_ids": agreement_ids,
        },
    }


def stored_layout(laid: Layout) -> tuple[list[dict], list[dict]]:
    """What a prepared preview stores beside its transactions: (groups in page order with their totals, each
    transaction's item with its group's position, its place in the group and its line's outcome)."""
    groups, items = [], []
    for position, key in enumerate(laid.ordered):
        members = laid.members[key]
        groups.append(
            {
                "position": position,
                "customer_id": key[0],
                "agreement_id": key[1],
                "line_count": len(members),
                "summary": _totals_json(laid.groups[key]),
            }
        )
        for line_no, (row, line) in enumerate(members):
            items.append(
                {
                    "transaction_id": row.id,
                    "agreement_id": row.agreement_id,
                    "group_no": position,
                    "line_no": line_no,
                    "status": line["status"],
                    "quantity": line["quantity"],
                    "unit_price": line["unit_price"],
                    "amount": line["amount"],
                    "description": line["description"],
                    "error": line["error"],
                    "check_block": line["check"],
                }
            )
    return groups, items


def stored_page(
    preview, page: int, page_size: int, lines: int, selected: set[int] | None, catalog: CatalogView
) -> dict:
    """A page of a prepared preview read as it was stored: its totals, the page's groups (one query) and their first
    ``lines`` lines (one query), the order of every group's agreement (one query). Nothing is recomputed."""
    first = (page - 1) * page_size
    shown = SyncPreviewDAO.group_page(preview.id, first, page_size)
    found: dict[int, list[dict]] = {}
    if shown and lines:
        for line in PreviewRowsDAO.stored_lines(preview.id, first, first + len(shown) - 1, lines):
            found.setdefault(line.group_no, []).append(_stored_line(line, catalog))
    result = [
        {
            **group.summary,
            "line_count": group.line_count,
            "selected": selected is None or group.agreement_id in selected,
            "lines": found.get(group.position, []),
        }
        for group in shown
    ]
    return _page_json(preview.totals, page, page_size, result, SyncPreviewDAO.group_agreement_ids(preview.id))


def _stored_line(line: StoredLine, catalog: CatalogView) -> dict:
    """One line of a prepared preview, as the preview showed it when it was prepared."""
    return {
        "transaction_id": line.transaction_id,
        "reference": billing.reference(line.transaction_id),
        "kind": record_name(line.kind),
        "product": line.product_title,
        "product_id": line.product_code,
        "catalog": catalog.product(line.product_pk),
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "amount": line.amount,
        "description": line.description,
        "status": line.status,
        "error": line.error,
        "check": line.check_block,
    }


def lookups_json(partner_id: int) -> dict:
    """Rows left in ``sending``: a push reads ConnectWise for each before creating anything."""
    count, rows = PreviewRowsDAO.sending(partner_id, LOOKUPS_SHOWN)
    return {
        "count": count,
        "result": [
            {"item_id": r[0], "transaction_id": r[1], "reference": r[2], "kind": r[3], "agreement_remote_id": r[4]}
            for r in rows
        ],
    }


def preview_meta(preview) -> dict:
    """A prepared preview's own fields."""

    def at(value):
        return value.isoformat() if value else None

    return {
        "id": preview.id,
        "status": preview.status,
        "source": preview.source,
        "prepared_by": preview.prepared_by,
        "prepared_at": at(preview.prepared_at),
        "approved_by": preview.approved_by,
        "approved_at": at(preview.approved_at),
        "discarded_by": preview.discarded_by,
        "discarded_at": at(preview.discarded_at),
        "job_id": preview.job_id,
        "run_id": preview.run_id,
        "selection": preview.selection,
        "note": preview.note,
        "totals": preview.totals,
    }


def awaiting_json(partner_id: int) -> dict | None:
    """The partner's preview awaiting approval, briefly (the status JSON and the banners), or None."""
    preview = SyncPreviewDAO.awaiting(partner_id)
    if preview is None:
        return None
    totals = preview.totals or {}
    return {
        "id": preview.id,
        "source": preview.source,
        "prepared_by": preview.prepared_by,
        "prepared_at": preview.prepared_at.isoformat() if preview.prepared_at else None,
        "transactions": totals.get("transactions", 0),
        "net": totals.get("net", "0.00"),
        "url": f"/psa/sync/preview/?preview={preview.id}",
    }


# -- commands ----------------------------------------------------------------------------------------


def _paging(page: int, page_size: int, lines: int) -> tuple[int, int, int]:
    """Bounded paging values."""
    return max(int(page), 1), min(max(int(page_size), 1), MAX_PAGE_SIZE), min(max(int(lines), 0), MAX_LINES)


class PreviewCommand(BaseCommand):
    """What a push would do now (dry run; a Partner Viewer may run it): nothing is stored."""

    def __init__(
        self, actor: Actor, partner_id: int | None = None, page: int = 1, page_size: int = 20, lines: int = 20
    ):
        self.actor, self.partner_id = actor, partner_id
        self.page, self.page_size, self.lines = _paging(page, page_size, lines)

    def validate(self) -> None:
        """Tenant, integration, read permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id)

    def run(self) -> dict:
        """The plain charges counted and summed by the database, the other rows read; the catalog's dry run and the
        agreements' checks over one row per bucket and those; totals, the page of groups (its lines read and built
        for the page only), the look-ups."""
        self.validate()
        buckets = PreviewRowsDAO.plain_buckets(self.partner_id)
        others = PreviewRowsDAO.eligible_not_plain(self.partner_id)
        samples = {b.first_id: b.representative() for b in buckets}
        rows = sorted([*samples.values(), *others], key=lambda row: row.id)
        lookups, required = lookups_json(self.partner_id), approval_required(self.partner_id)
        session().rollback()
        catalog = read_catalog(self.partner_id, self.actor.username, rows)
        checker = read_checks(self.partner_id, rows, catalog, fits_of(rows)) if rows else Checker()

        def first_rows(groups: list[tuple[int, int]]) -> list[PreviewRow]:
            found = PreviewRowsDAO.first_of_groups(self.partner_id, groups, self.lines)
            checker.fits.update(fits_of(found))
            session().rollback()
            return found

        summary = live_summary(buckets, samples, others, catalog, checker, self.page, self.page_size, first_rows)
        return {
            "id": None,
            "status": "live",
            "generated_at": clock.now().isoformat(),
            "approval_required": required,
            **summary,
            "catalog": catalog.as_dict(),
            "lookups": lookups,
            "awaiting_approval": awaiting_json(self.partner_id),
        }


class PreparePreviewCommand(BaseCommand):
    """Prepare and store a preview awaiting approval (Preview, Sync now with approval, the schedule).

    A newer preview expires the one awaiting approval. With nothing to push, nothing is stored.
    """

    def __init__(self, actor: Actor, partner_id: int | None = None, source: str = "manual"):
        self.actor, self.partner_id, self.source = actor, partner_id, source

    def validate(self) -> None:
        """Tenant, integration, write permission."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)

    def run(self) -> int | None:
        """The new preview's id (None when nothing would be pushed)."""
        self.validate()
        rows = PreviewRowsDAO.eligible(self.partner_id)
        lookups = PreviewRowsDAO.sending(self.partner_id, 0)[0]
        session().rollback()
        catalog = read_catalog(self.partner_id, self.actor.username, rows)
        checker = read_checks(self.partner_id, rows, catalog) if rows else Checker()
        return self._store(rows, catalog, layout(rows, catalog, checker), lookups)

    @transaction
    def _store(self, rows: list[PreviewRow], catalog: CatalogView, laid: Layout, lookups: int) -> int | None:
        """Expire the awaiting preview, store the new one with its groups, its transactions and their lines' outcome
        (so a page of it is read, not recomputed), audit."""
        totals = laid.totals
        self.validate()
        expired = SyncPreviewDAO.expire_awaiting(self.partner_id, "Superseded by a newer preview.")
        if not rows:
            if expired:
                audit(
                    self.actor,
                    "sync.preview",
                    "partner",
                    self.partner_id,
                    partner_id=self.partner_id,
                    source=self.source,
                    transactions=0,
                    expired=expired,
                )
            return None
        try:
            preview = SyncPreviewDAO.create(
                partner_id=self.partner_id,
                source=self.source,
                prepared_by=self.actor.username,
                status=AWAITING,
                totals=totals,
                catalog=catalog.as_dict(),
                lookups=lookups,
                lines_stored=True,
                catalog_read=catalog.read.as_dict() if catalog.read is not None else None,
            )
        except IntegrityError as exc:
            raise ConflictError("Another preview was prepared at the same moment; reload the page.") from exc
        groups, items = stored_layout(laid)
        SyncPreviewDAO.add_groups(preview.id, groups)
        SyncPreviewDAO.add_items(preview.id, items)
        audit(
            self.actor,
            "sync.preview",
            "sync_preview",
            preview.id,
            partner_id=self.partner_id,
            source=self.source,
            transactions=totals["transactions"],
            net=totals["net"],
            expired=expired,
        )
        return preview.id


class PreviewDetailCommand(BaseCommand):
    """A prepared preview: its record, totals, a page of groups with lines (no ConnectWise call)."""

    def __init__(
        self,
        actor: Actor,
        preview_id: int,
        partner_id: int | None = None,
        page: int = 1,
        page_size: int = 20,
        lines: int = 20,
    ):
        self.actor, self.preview_id, self.partner_id = actor, preview_id, partner_id
        self.page, self.page_size, self.lines = _paging(page, page_size, lines)

    def validate(self) -> None:
        """Tenant, integration, read permission; another partner's preview is not found."""
        self.partner_id = sync_scope(self.actor, self.partner_id)
        self.preview = SyncPreviewDAO.in_partner(self.partner_id, self.preview_id)
        if self.preview is None:
            raise NotFoundError(f"Preview {self.preview_id} not found.")

    def run(self) -> dict:
        """The preview as JSON."""
        self.validate()
        chosen = (self.preview.selection or {}).get("agreement_ids")
        selected = None if chosen is None else set(chosen)
        view = CatalogView.from_dict(self.preview.catalog)
        if self.preview.lines_stored:
            summary = stored_page(self.preview, self.page, self.page_size, self.lines, selected, view)
        else:  # prepared before its lines were stored (psa_0006): computed from its transactions
            rows = PreviewRowsDAO.of_preview(self.preview.id)
            checker = stored_checker(self.partner_id, view, rows)
            summary = summarize(rows, view, self.page, self.page_size, self.lines, selected=selected, checker=checker)
        result = {
            **preview_meta(self.preview),
            **summary,
            "catalog": view.as_dict(),
            "lookups": lookups_json(self.partner_id),
            "approval_required": approval_required(self.partner_id),
            "awaiting_approval": awaiting_json(self.partner_id),
        }
        session().rollback()
        return result


class ApprovePreviewCommand(BaseCommand):
    """Approve a preview awaiting approval (all, or the groups of some agreements): push exactly those."""

    def __init__(
        self, actor: Actor, preview_id: int, partner_id: int | None = None, agreement_ids: list[int] | None = None
    ):
        self.actor, self.preview_id, self.partner_id, self.agreement_ids = actor, preview_id, partner_id, agreement_ids

    def validate(self) -> None:
        """Tenant, integration, write permission; the preview awaits approval; the agreements are in it.

        :raises NotFoundError: another partner's preview or agreement.
        :raises ConflictError: the preview was already approved, discarded or expired.
        :raises InvalidInputError: an empty choice, or an agreement with nothing in this preview.
        """
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        self.preview = _awaiting_preview(self.partner_id, self.preview_id)
        if self.agreement_ids is None:
            return
        if not self.agreement_ids:
            raise InvalidInputError("Choose at least one agreement to push.", {"agreement_ids": ["At least one."]})
        known = PreviewRowsDAO.agreement_ids(self.partner_id, self.agreement_ids)
        for agreement_id in self.agreement_ids:
            if agreement_id not in known:
                raise NotFoundError(f"Agreement {agreement_id} not found.")
        outside = sorted(set(self.agreement_ids) - SyncPreviewDAO.agreements_of(self.preview.id))
        if outside:
            raise InvalidInputError(
                "This preview has nothing for some of the chosen agreements.",
                {"agreement_ids": [f"Agreement {a} is not in this preview." for a in outside]},
            )

    def run(self) -> dict:
        """Approve (committed), then enqueue the push of the chosen transactions; 503 reopens the preview.

        :raises UnavailableError: the job queue does not answer (the preview awaits approval again).
        """
        chosen = self._approve()
        try:
            job, _created = enqueue_push(self.partner_id, self.actor.username, preview_id=self.preview_id)
        except QueueUnavailable as exc:
            _reopen(self.preview_id, "The job queue did not answer; the preview awaits approval again.")
            raise UnavailableError("The job queue does not answer; the push could not be started.") from exc
        _set_job(self.preview_id, job.id)
        return {"job_id": job.id, "preview_id": self.preview_id, "transactions": chosen}

    def run_inline(self) -> dict:
        """Approve, then push here (the CLI's ``--inline``)."""
        chosen = self._approve()
        return {**push_approved(self.partner_id, self.preview_id, self.actor.username), "transactions": chosen}

    @transaction
    def _approve(self) -> int:
        """Record the choice and the approval (compare-and-set), audit; how many transactions were chosen."""
        self.validate()
        chosen_ids = None if self.agreement_ids is None else set(self.agreement_ids)
        chosen = SyncPreviewDAO.select_agreements(self.preview.id, chosen_ids)
        selection = None if chosen_ids is None else {"agreement_ids": sorted(chosen_ids)}
        if not SyncPreviewDAO.decide(
            self.preview.id, "approved", approved_by=self.actor.username, approved_at=clock.now(), selection=selection
        ):
            raise ConflictError("This preview was decided meanwhile; reload the page.")
        audit(
            self.actor,
            "sync.preview.approve",
            "sync_preview",
            self.preview.id,
            partner_id=self.partner_id,
            transactions=chosen,
            agreement_ids=selection and selection["agreement_ids"],
        )
        return chosen


class DiscardPreviewCommand(BaseCommand):
    """Discard a preview awaiting approval: nothing of it is pushed (its rows stay pending)."""

    def __init__(self, actor: Actor, preview_id: int, partner_id: int | None = None):
        self.actor, self.preview_id, self.partner_id = actor, preview_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, write permission; the preview awaits approval."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        self.preview = _awaiting_preview(self.partner_id, self.preview_id)

    @transaction
    def run(self) -> dict:
        """Mark it discarded, audit."""
        self.validate()
        if not SyncPreviewDAO.decide(
            self.preview.id, "discarded", discarded_by=self.actor.username, discarded_at=clock.now()
        ):
            raise ConflictError("This preview was decided meanwhile; reload the page.")
        audit(self.actor, "sync.preview.discard", "sync_preview", self.preview.id, partner_id=self.partner_id)
        return {"id": self.preview.id, "status": "discarded"}


def _awaiting_preview(partner_id: int, preview_id: int):
    """The partner's preview, which must await approval.

    :raises NotFoundError: / ConflictError:
    """
    preview = SyncPreviewDAO.in_partner(partner_id, preview_id)
    if preview is None:
        raise NotFoundError(f"Preview {preview_id} not found.")
    if preview.status != AWAITING:
        raise ConflictError(f"Preview {preview_id} is {preview.status.replace('_', ' ')}; prepare a new preview.")
    return preview


@transaction
def _reopen(preview_id: int, note: str) -> None:
    """An approved preview whose push could not start awaits approval again (expired if a newer one awaits)."""
    preview = SyncPreviewDAO.get(preview_id)
    if preview is None or preview.status != "approved":
        return
    if SyncPreviewDAO.awaiting(preview.partner_id) is None:
        preview.status, preview.approved_by, preview.approved_at, preview.selection = AWAITING, None, None, None
    else:
        preview.status = "expired"
    preview.note = note
    session().flush()


@transaction
def _set_job(preview_id: int, job_id: str) -> None:
    """Remember the push job of an approved preview."""
    SyncPreviewDAO.set_job(preview_id, job_id)


@transaction
def _approved_transactions(partner_id: int, preview_id: int) -> tuple[set[int] | None, CatalogRead | None]:
    """The chosen transactions of an approved preview of the partner (or None), and what its catalog step read
    while that can stand in for the push's own read (else None: the push reads the catalog): fresh, and no push of
    the partner started since (a run killed while creating an item leaves it unrecorded: only a read finds it)."""
    preview = SyncPreviewDAO.in_partner(partner_id, preview_id)
    if preview is None or preview.status != "approved":
        return None, None
    read = CatalogRead.from_dict(preview.catalog_read)
    if read is not None and (not read.fresh(clock.now()) or SyncPreviewDAO.run_since(partner_id, read.at)):
        read = None
    return SyncPreviewDAO.chosen_transactions(preview_id), read


def push_approved(partner_id: int, preview_id: int, requested_by: str, job_id: str | None = None) -> dict:
    """Push an approved preview's chosen transactions (the push job's body for a preview); record the outcome.
    While the preview is fresh, its catalog read stands in for the push's: what it saw ours and active is not read
    again, and an item it planned to create is created (exactly once, as always) without reading first."""
    chosen, seen = _approved_transactions(partner_id, preview_id)
    if chosen is None:
        return {"status": "skipped", "error": f"Preview {preview_id} is not approved."}
    push = PushBillingCommand(partner_id, requested_by, job_id, only_transactions=chosen, catalog_seen=seen)
    result = push.run(wait=True)
    if result.run_id is None:  # another push held the lease all along: nothing was pushed
        _reopen(preview_id, "Another push was running; the preview awaits approval again.")
    else:
        _record_outcome(preview_id, result, len(chosen))
    return result.as_dict()


@transaction
def _record_outcome(preview_id: int, result, chosen: int) -> None:
    """The run, and what it says about the approved transactions."""
    gone = result.counts.get("ineligible", 0)
    note = (
        (
            f"{gone} of the {chosen} approved transaction(s) were no longer eligible (unmapped, before the From "
            "Date, or already pushed) and were not pushed."
        )
        if gone
        else None
    )
    SyncPreviewDAO.record_outcome(preview_id, result.run_id, note)
