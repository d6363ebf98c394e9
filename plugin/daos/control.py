"""Queries of billing sync control: settings and schedule slots, preview rows, prepared previews.

Preview rows use the outbox's own eligibility (``msphub_psa.daos.outbox``: the same joins and
conditions as ``OutboxDAO.eligible``), minus the rows a run does not push (``failed`` waits for
Retry failed, ``sending`` is looked up first), so a preview and the push cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import BigInteger, and_, case, cast, func, select, update

from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows
from msphub_psa.daos.outbox import FAILED, PUSHED, SENDING, _eligible_where, _mapped_join, _not_pushed
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction as Tx
from msphub_psa.models.hub import Customer, Partner, Product, Subscription
from msphub_psa.models.integration import Integration
from msphub_psa.models.reconciliation import SubscriptionMapping
from msphub_psa.models.sync import SyncItem, SyncPreview, SyncPreviewGroup, SyncPreviewItem, SyncRun, SyncSettings
from msphub_psa.models.tenancy import PartnerFeature

AWAITING = "awaiting_approval"


class PreviewRow(NamedTuple):
    """One transaction as a preview shows it (plain values; also the payload builder's input)."""

    id: int
    kind: str
    period_start: dt.date
    period_end: dt.date
    quantity: object
    unit_price: object
    unit_cost: object
    amount: object
    customer_id: int
    customer_name: str
    product_pk: int
    product_code: str
    product_title: str
    agreement_id: int
    agreement_remote_id: int
    agreement_name: str
    company_name: str | None
    billing_frequency: str | None = None
    """With ``mismatch_accepted``, the row's fit (``PushDataDAO.fits``), where the query read it (the live preview)."""
    mismatch_accepted: bool | None = None


class Bucket(NamedTuple):
    """Plain charges (``_plain``) of one customer, agreement, product and mapping, counted and summed by the
    database (``amount_units``: the sum in ten-thousandths, exact on every backend); ``first_id`` is one of them.

    Its line stands for each of them: ``representative``."""

    def representative(self) -> PreviewRow:
        """A plain charge of this bucket as its line needs it (its own figures play no part in a plain charge's
        outcome: one unit at 1 for a day of 2000, with the id of one of them)."""
        day = dt.date(2000, 1, 1)
        return PreviewRow(
            self.first_id,
            "charge",
            day,
            day,
            Decimal(1),
            Decimal(1),
            Decimal(0),
            Decimal(1),
            self.customer_id,
            self.customer_name,
            self.product_pk,
            self.product_code,
            self.product_title,
            self.agreement_id,
            self.agreement_remote_id,
            self.agreement_name,
            self.company_name,
            self.billing_frequency,
            self.mismatch_accepted,
        )

    customer_id: int
    customer_name: str
    company_name: str | None
    agreement_id: int
    agreement_remote_id: int
    agreement_name: str
    product_pk: int
    product_code: str
    product_title: str
    billing_frequency: str | None
    mismatch_accepted: bool
    count: int
    amount_units: int
    first_id: int


def _plain():
    """A charge whose own figures pass every check and whose values a JSON number carries exactly (a whole quantity
    above zero, unit price not negative, the period in order, amount = quantity × unit price; ``Numeric(14, 4)``
    values have at most 14 digits): its line depends only on its product, agreement and mapping, not on its
    figures. A whole quantity keeps quantity × unit price at 4 decimals, so both sides compared in ten-thousandths
    (rounded: SQLite computes in floating point, far below half a ten-thousandth off at 14 digits) are equal
    exactly when the Decimal values are."""
    return and_(
        Tx.kind == "charge",
        Tx.quantity > 0,
        Tx.quantity == func.round(Tx.quantity),
        Tx.unit_price >= 0,
        Tx.period_end >= Tx.period_start,
        func.round(Tx.amount * 10000) == func.round(Tx.quantity * Tx.unit_price * 10000),
    )


class StoredLine(NamedTuple):
    """One line of a prepared preview as stored when it was prepared, with what its JSON names of the transaction."""

    group_no: int
    transaction_id: int
    kind: str
    period_start: dt.date
    period_end: dt.date
    product_pk: int
    product_code: str
    product_title: str
    status: str
    quantity: str | None
    unit_price: str | None
    amount: str | None
    description: str | None
    error: str | None
    check_block: dict | None


_ROW_COLUMNS = (
    Tx.id,
    Tx.kind,
    Tx.period_start,
    Tx.period_end,
    Tx.quantity,
    Tx.unit_price,
    Tx.unit_cost,
    Tx.amount,
    Tx.customer_id,
    Customer.name,
    Product.id,
    Product.product_id,
    Product.title,
    PsaAgreement.id,
    PsaAgreement.remote_id,
    PsaAgreement.name,
    PsaCompany.name,
)


_LIVE_COLUMNS = (*_ROW_COLUMNS, Product.billing_frequency, SubscriptionMapping.mismatch_accepted)
"""A row with its fit: its product's billing frequency and whether its mapping accepts a cycle mismatch."""


def fits_of(rows: list[PreviewRow]) -> dict[int, tuple[str | None, bool]]:
    """``PushDataDAO.fits`` of rows read with their fit (``_LIVE_COLUMNS``), without another query."""
    return {row.id: (row.billing_frequency, bool(row.mismatch_accepted)) for row in rows}


def _waiting_elsewhere():
    """The transaction has a row a run does not push now (failed: Retry failed; sending: looked up first)."""
    return select(SyncItem.id).where(SyncItem.transaction_id == Tx.id, SyncItem.state.in_((FAILED, SENDING))).exists()


def _with_names(query):
    """Join product, customer and the agreement's company for display."""
    return (
        query.join(Product, Product.id == Subscription.product_id)
        .join(Customer, Customer.id == Tx.customer_id)
        .outerjoin(PsaCompany, PsaCompany.id == PsaAgreement.company_id)
    )


class PreviewRowsDAO:
    """What a push would create now, and what a stored preview covers."""

    @staticmethod
    def eligible(partner_id: int) -> list[PreviewRow]:
        """Eligible, not pushed transactions a run would push now (not failed, not sending), by id."""
        query = _with_names(_mapped_join(select(*_ROW_COLUMNS).select_from(Tx)))
        query = query.where(Tx.partner_id == partner_id, *_eligible_where(), _not_pushed(), ~_waiting_elsewhere())
        return [PreviewRow(*row) for row in session().execute(query.order_by(Tx.id))]

    @staticmethod
    def _eligible_query(partner_id: int, *columns):
        """The eligible rows' query (``eligible``'s joins and conditions) with these columns."""
        query = _with_names(_mapped_join(select(*columns).select_from(Tx)))
        return query.where(Tx.partner_id == partner_id, *_eligible_where(), _not_pushed(), ~_waiting_elsewhere())

    @staticmethod
    def plain_buckets(partner_id: int) -> list[Bucket]:
        """The eligible plain charges (``_plain``), counted and summed per customer, agreement, product and
        mapping's acceptance of a cycle mismatch, by the database (one query)."""
        units = func.sum(cast(func.round(Tx.amount * 10000), BigInteger))
        keys = (
            Tx.customer_id.label("customer_id"),
            PsaAgreement.id.label("agreement_id"),
            Product.id.label("product_pk"),
            SubscriptionMapping.mismatch_accepted.label("accepted"),
            case((_plain(), 1), else_=0).label("plain"),
        )
        totals = PreviewRowsDAO._eligible_query(
            partner_id, *keys, func.count().label("n"), units.label("units"), func.min(Tx.id).label("first_id")
        )
        # plain or not is a grouping key, never a condition: PostgreSQL cannot estimate the condition (it takes
        # a row or so for 100,000) and would join every table in nested loops; the other buckets are dropped here
        grouped = totals.group_by(*keys).subquery()
        query = (
            select(
                grouped.c.customer_id,
                Customer.name,
                PsaCompany.name,
                grouped.c.agreement_id,
                PsaAgreement.remote_id,
                PsaAgreement.name,
                grouped.c.product_pk,
                Product.product_id,
                Product.title,
                Product.billing_frequency,
                grouped.c.accepted,
                grouped.c.n,
                grouped.c.units,
                grouped.c.first_id,
                grouped.c.plain,
            )
            .join(Customer, Customer.id == grouped.c.customer_id)
            .join(PsaAgreement, PsaAgreement.id == grouped.c.agreement_id)
            .outerjoin(PsaCompany, PsaCompany.id == PsaAgreement.company_id)
            .join(Product, Product.id == grouped.c.product_pk)
        )
        rows = session().execute(query)
        return [
            Bucket(*row[:10], bool(row[10]), int(row[11]), int(row[12] or 0), int(row[13])) for row in rows if row[14]
        ]

    @staticmethod
    def eligible_not_plain(partner_id: int) -> list[PreviewRow]:
        """The eligible rows that are not plain charges (credits, prorations, figures that do not add up), by id."""
        query = PreviewRowsDAO._eligible_query(partner_id, *_LIVE_COLUMNS).where(~_plain())
        return [PreviewRow(*row) for row in session().execute(query.order_by(Tx.id))]

    @staticmethod
    def first_of_groups(partner_id: int, groups: list[tuple[int, int]], lines: int) -> list[PreviewRow]:
        """The first ``lines`` eligible rows (by id) of each (customer, agreement) group of ``groups`` (one query)."""
        if not groups or lines <= 0:
            return []
        number = func.row_number().over(partition_by=(Tx.customer_id, PsaAgreement.id), order_by=Tx.id)
        inner = PreviewRowsDAO._eligible_query(partner_id, *_LIVE_COLUMNS, number.label("n")).where(
            Tx.customer_id.in_(sorted({g[0] for g in groups})), PsaAgreement.id.in_(sorted({g[1] for g in groups}))
        )
        ranked = inner.subquery()
        query = select(*[c for c in ranked.c if c.key != "n"]).where(ranked.c.n <= lines).order_by(ranked.c.id)
        wanted = set(groups)
        rows = [PreviewRow(*row) for row in session().execute(query)]
        return [row for row in rows if (row.customer_id, row.agreement_id) in wanted]

    @staticmethod
    def of_preview(preview_id: int, selected_only: bool = False) -> list[PreviewRow]:
        """The transactions a stored preview covers (with the agreement recorded then), by id."""
        query = (
            select(*_ROW_COLUMNS)
            .select_from(SyncPreviewItem)
            .join(Tx, Tx.id == SyncPreviewItem.transaction_id)
            .join(Subscription, Subscription.id == Tx.subscription_id)
            .join(PsaAgreement, PsaAgreement.id == SyncPreviewItem.agreement_id)
        )
        query = _with_names(query).where(SyncPreviewItem.preview_id == preview_id)
        if selected_only:
            query = query.where(SyncPreviewItem.selected.is_(True))
        return [PreviewRow(*row) for row in session().execute(query.order_by(Tx.id))]

    @staticmethod
    def stored_lines(preview_id: int, first_group: int, last_group: int, lines: int) -> list[StoredLine]:
        """The first ``lines`` stored lines of each group of a prepared preview from position ``first_group`` to
        ``last_group`` (one query, on the index by preview, group and line number)."""
        item = SyncPreviewItem
        query = (
            select(
                item.group_no,
                item.transaction_id,
                Tx.kind,
                Tx.period_start,
                Tx.period_end,
                Product.id,
                Product.product_id,
                Product.title,
                item.status,
                item.quantity,
                item.unit_price,
                item.amount,
                item.description,
                item.error,
                item.check_block,
            )
            .select_from(item)
            .join(Tx, Tx.id == item.transaction_id)
            .join(Subscription, Subscription.id == Tx.subscription_id)
            .join(Product, Product.id == Subscription.product_id)
            .where(
                item.preview_id == preview_id,
                item.group_no.between(first_group, last_group),
                item.line_no < lines,
            )
            .order_by(item.group_no, item.line_no)
        )
        return [StoredLine(*row) for row in session().execute(query)]

    @staticmethod
    def sending(partner_id: int, limit: int) -> tuple[int, list[tuple]]:
        """(count, first rows) of the partner's rows in ``sending``: a run reads these first."""
        where = (SyncItem.partner_id == partner_id, SyncItem.state == SENDING)
        count = session().scalar(select(func.count()).select_from(SyncItem).where(*where))
        rows = (
            session()
            .execute(
                select(
                    SyncItem.id,
                    SyncItem.transaction_id,
                    SyncItem.reference,
                    SyncItem.record_kind,
                    SyncItem.agreement_remote_id,
                )
                .where(*where)
                .order_by(SyncItem.transaction_id)
                .limit(limit)
            )
            .all()
        )
        return count, [tuple(r) for r in rows]

    @staticmethod
    def first_push_done(partner_id: int) -> bool:
        """True once ConnectWise holds a record we pushed for the partner."""
        return (
            session().scalar(
                select(SyncItem.id).where(SyncItem.partner_id == partner_id, SyncItem.state == PUSHED).limit(1)
            )
            is not None
        )

    @staticmethod
    def agreement_ids(partner_id: int, ids: list[int]) -> set[int]:
        """Those of ``ids`` that are cached agreements of the partner."""
        if not ids:
            return set()
        return set(
            session().scalars(
                select(PsaAgreement.id).where(PsaAgreement.partner_id == partner_id, PsaAgreement.id.in_(ids))
            )
        )


class SyncSettingsDAO:
    """Per-partner sync settings and the schedule's slot claims."""

    @staticmethod
    def for_partner(partner_id: int) -> SyncSettings | None:
        """The partner's settings row, or None (defaults)."""
        return session().scalar(select(SyncSettings).where(SyncSettings.partner_id == partner_id))

    @staticmethod
    def create(partner_id: int, **values) -> SyncSettings:
        """A settings row with the defaults (and ``values``)."""
        row = SyncSettings(partner_id=partner_id, **values)
        session().add(row)
        session().flush()
        return row

    @staticmethod
    def scheduled_partners() -> list[tuple[int, str, SyncSettings | None, dt.datetime | None]]:
        """(partner id, timezone, settings or None, activated at) of partners whose feature is on and
        whose integration is active: the only ones a schedule may run for."""
        query = (
            select(Partner.id, Partner.timezone, SyncSettings, Integration.activated_at)
            .join(PartnerFeature, and_(PartnerFeature.partner_id == Partner.id, PartnerFeature.enabled.is_(True)))
            .join(Integration, and_(Integration.partner_id == Partner.id, Integration.status == "active"))
            .outerjoin(SyncSettings, SyncSettings.partner_id == Partner.id)
            .order_by(Partner.id)
        )
        return [tuple(row) for row in session().execute(query)]

    @staticmethod
    def claim_slot(partner_id: int, slot: dt.datetime) -> bool:
        """Claim a schedule slot (compare-and-set): True only for the first claimant of a later slot."""
        row = SyncSettings.__table__.c
        result = session().execute(
            update(SyncSettings)
            .where(row.partner_id == partner_id, (row.last_slot_at.is_(None)) | (row.last_slot_at < slot))
            .values(last_slot_at=slot)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    @staticmethod
    def release_slot(partner_id: int, slot: dt.datetime, previous: dt.datetime | None) -> None:
        """Give back a claimed slot (its run could not be enqueued)."""
        row = SyncSettings.__table__.c
        session().execute(
            update(SyncSettings)
            .where(row.partner_id == partner_id, row.last_slot_at == slot)
            .values(last_slot_at=previous)
            .execution_options(synchronize_session=False)
        )


class SyncPreviewDAO:
    """Prepared previews, their transactions and the partner's decision."""

    @staticmethod
    def create(**values) -> SyncPreview:
        """A new preview."""
        row = SyncPreview(**values)
        session().add(row)
        session().flush()
        return row

    @staticmethod
    def add_items(preview_id: int, items: list[dict]) -> None:
        """The transactions the preview covers (all selected), each with its line's place and outcome."""
        insert_rows(SyncPreviewItem, ({**item, "preview_id": preview_id, "selected": True} for item in items))
        session().flush()

    @staticmethod
    def add_groups(preview_id: int, groups: list[dict]) -> None:
        """The preview's groups in page order, with their totals."""
        insert_rows(SyncPreviewGroup, ({**group, "preview_id": preview_id} for group in groups))
        session().flush()

    @staticmethod
    def group_page(preview_id: int, first: int, count: int) -> list[SyncPreviewGroup]:
        """``count`` groups of a prepared preview from position ``first`` (0-based), in page order."""
        return list(
            session().scalars(
                select(SyncPreviewGroup)
                .where(
                    SyncPreviewGroup.preview_id == preview_id,
                    SyncPreviewGroup.position >= first,
                    SyncPreviewGroup.position < first + count,
                )
                .order_by(SyncPreviewGroup.position)
            )
        )

    @staticmethod
    def group_agreement_ids(preview_id: int) -> list[int]:
        """The agreement of every group of a prepared preview, in page order."""
        return list(
            session().scalars(
                select(SyncPreviewGroup.agreement_id)
                .where(SyncPreviewGroup.preview_id == preview_id)
                .order_by(SyncPreviewGroup.position)
            )
        )

    @staticmethod
    def in_partner(partner_id: int, preview_id: int, lock: bool = False) -> SyncPreview | None:
        """A preview of the partner, or None (another tenant's id is unknown)."""
        query = select(SyncPreview).where(SyncPreview.id == preview_id, SyncPreview.partner_id == partner_id)
        return session().scalar(query.with_for_update() if lock else query)

    @staticmethod
    def get(preview_id: int) -> SyncPreview | None:
        """One preview."""
        return session().get(SyncPreview, preview_id)

    @staticmethod
    def awaiting(partner_id: int) -> SyncPreview | None:
        """The partner's preview awaiting approval, or None (at most one: a partial unique index)."""
        return session().scalar(
            select(SyncPreview).where(SyncPreview.partner_id == partner_id, SyncPreview.status == AWAITING)
        )

    @staticmethod
    def expire_awaiting(partner_id: int, note: str) -> int:
        """Expire the partner's preview awaiting approval (superseded); how many."""
        result = session().execute(
            update(SyncPreview)
            .where(SyncPreview.partner_id == partner_id, SyncPreview.status == AWAITING)
            .values(status="expired", note=note)
            .execution_options(synchronize_session=False)
        )
        session().flush()
        return result.rowcount

    @staticmethod
    def decide(preview_id: int, status: str, **values) -> bool:
        """Move an awaiting preview to ``status`` (compare-and-set); False when it no longer awaits."""
        result = session().execute(
            update(SyncPreview)
            .where(SyncPreview.id == preview_id, SyncPreview.status == AWAITING)
            .values(status=status, **values)
            .execution_options(synchronize_session=False)
        )
        session().flush()
        return result.rowcount == 1

    @staticmethod
    def select_agreements(preview_id: int, agreement_ids: set[int] | None) -> int:
        """Choose the items of these agreements (None: all); return how many are chosen."""
        items = SyncPreviewItem.__table__.c
        chosen = True if agreement_ids is None else items.agreement_id.in_(sorted(agreement_ids))
        session().execute(
            update(SyncPreviewItem)
            .where(items.preview_id == preview_id)
            .values(selected=chosen)
            .execution_options(synchronize_session=False)
        )
        session().flush()
        return session().scalar(
            select(func.count())
            .select_from(SyncPreviewItem)
            .where(items.preview_id == preview_id, items.selected.is_(True))
        )

    @staticmethod
    def chosen_transactions(preview_id: int) -> set[int]:
        """Transaction ids the partner chose in a preview."""
        return set(
            session().scalars(
                select(SyncPreviewItem.transaction_id).where(
                    SyncPreviewItem.preview_id == preview_id, SyncPreviewItem.selected.is_(True)
                )
            )
        )

    @staticmethod
    def agreements_of(preview_id: int) -> set[int]:
        """Agreement ids a preview's transactions go to."""
        return set(
            session().scalars(
                select(SyncPreviewItem.agreement_id).where(SyncPreviewItem.preview_id == preview_id).distinct()
            )
        )

    @staticmethod
    def record_outcome(preview_id: int, run_id: int | None, note: str | None) -> None:
        """The run that pushed an approved preview, and what it says."""
        session().execute(
            update(SyncPreview)
            .where(SyncPreview.id == preview_id)
            .values(run_id=run_id, note=note)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def run_since(partner_id: int, at: dt.datetime) -> bool:
        """True when a push of the partner started at or after ``at`` (it may have created catalog items since)."""
        query = select(SyncRun.id).where(SyncRun.partner_id == partner_id, SyncRun.started_at >= at).limit(1)
        return session().scalar(query) is not None

    @staticmethod
    def approved_for_job(partner_id: int, job_id: str | None) -> SyncPreview | None:
        """The partner's approved preview whose push job this is, or None."""
        if not job_id:
            return None
        return session().scalar(
            select(SyncPreview).where(
                SyncPreview.partner_id == partner_id, SyncPreview.job_id == job_id, SyncPreview.status == "approved"
            )
        )

    @staticmethod
    def set_job(preview_id: int, job_id: str) -> None:
        """The push job of an approved preview."""
        session().execute(
            update(SyncPreview)
            .where(SyncPreview.id == preview_id)
            .values(job_id=job_id)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def recent(partner_id: int, limit: int = 10) -> list[SyncPreview]:
        """The partner's latest previews, newest first."""
        return list(
            session().scalars(
                select(SyncPreview)
                .where(SyncPreview.partner_id == partner_id)
                .order_by(SyncPreview.id.desc())
                .limit(limit)
            )
        )


def outbox_states(transaction_ids: list[int], chunk: int = 5000) -> dict[int, tuple[str, int | None]]:
    """{transaction id: (outbox state, run id)} of those transactions that have a row (chunked IN lists)."""
    found: dict[int, tuple[str, int | None]] = {}
    for start in range(0, len(transaction_ids), chunk):
        part = transaction_ids[start : start + chunk]
        query = select(SyncItem.transaction_id, SyncItem.state, SyncItem.run_id).where(
            SyncItem.transaction_id.in_(part)
        )
        for tx_id, state, run_id in session().execute(query):
            found[tx_id] = (state, run_id)
    return found
