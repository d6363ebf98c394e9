"""The per-partner ConnectWise directory cache and its refresh state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, exists, func, insert, or_, select, update

from msphub_psa import clock
from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.reconciliation import CustomerMapping, ReconciliationState
from msphub_psa.psa.records import Agreement, Company


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern for ``text`` with %, _ and \\ escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class ReconciliationStateDAO(BaseDAO[ReconciliationState]):
    """Directory refresh state and running-totals watermark, one row per partner."""

    model_cls = ReconciliationState

    @staticmethod
    def for_partner(partner_id: int, lock: bool = False) -> ReconciliationState | None:
        """The partner's state row (locked FOR UPDATE on PostgreSQL when ``lock``), or None."""
        query = select(ReconciliationState).where(ReconciliationState.partner_id == partner_id)
        return session().scalar(query.with_for_update() if lock else query)

    @classmethod
    def ensure(cls, partner_id: int, lock: bool = False) -> ReconciliationState:
        """The partner's state row, created (flushed) when missing."""
        return cls.for_partner(partner_id, lock) or cls.create(
            partner_id=partner_id, refresh_status="never", revenue_watermark=0
        )


def _company_values(partner_id: int, company: Company, now) -> dict:
    """Cache columns of one PSA company."""
    return {
        "partner_id": partner_id,
        "remote_id": company.id,
        "identifier": (company.identifier or "")[:60],
        "name": (company.name or "")[:200],
        "status": company.status,
        "types": ", ".join(company.types)[:200] or None,
        "deleted": company.deleted,
        "remote_updated_at": company.last_updated,
        "cached_at": now,
    }


def _agreement_values(partner_id: int, agreement: Agreement, now) -> dict:
    """Cache columns of one PSA agreement."""
    return {
        "partner_id": partner_id,
        "remote_id": agreement.id,
        "name": (agreement.name or "")[:200],
        "remote_company_id": agreement.company_id,
        "type_name": agreement.type_name,
        "agreement_status": agreement.status,
        "start_date": agreement.start_date,
        "end_date": agreement.end_date,
        "no_ending_date": agreement.no_ending_date,
        "bill_start_date": agreement.bill_start_date,
        "billing_cycle": agreement.billing_cycle,
        "cancelled": agreement.cancelled,
        "date_cancelled": agreement.date_cancelled,
        "deleted": False,
        "remote_updated_at": agreement.last_updated,
        "cached_at": now,
    }


def _upsert(model, partner_id: int, rows: list[dict]) -> tuple[int, int]:
    """Insert or update cache rows by (partner, cw id); return (inserted, updated)."""
    if not rows:
        return 0, 0
    remote_ids = [row["remote_id"] for row in rows]
    existing = dict(
        session()
        .execute(
            select(model.remote_id, model.id).where(model.partner_id == partner_id, model.remote_id.in_(remote_ids))
        )
        .all()
    )
    updates = [{**row, "row_id": existing[row["remote_id"]]} for row in rows if row["remote_id"] in existing]
    inserts = [row for row in rows if row["remote_id"] not in existing]
    table = model.__table__
    if updates:  # one executemany by primary key (Core: no ORM bulk bookkeeping per row)
        session().execute(update(table).where(table.c.id == bindparam("row_id")), updates)
    if inserts:
        session().execute(insert(table), inserts)
    return len(inserts), len(updates)


class PsaCompanyDAO(BaseDAO[PsaCompany]):
    """Cached ConnectWise companies."""

    model_cls = PsaCompany

    @staticmethod
    def upsert(partner_id: int, companies: Sequence[Any]) -> tuple[int, int]:
        """Store a page of ``connectwise.Company`` records; return (inserted, updated)."""
        now = clock.now()
        return _upsert(PsaCompany, partner_id, [_company_values(partner_id, c, now) for c in companies])

    @staticmethod
    def mark_missing_deleted(partner_id: int, seen_remote_ids: set[int]) -> int:
        """After a full read: companies ConnectWise no longer lists are marked deleted."""
        ids = [
            row_id
            for row_id, remote_id in session().execute(
                select(PsaCompany.id, PsaCompany.remote_id).where(
                    PsaCompany.partner_id == partner_id, PsaCompany.deleted.is_(False)
                )
            )
            if remote_id not in seen_remote_ids
        ]
        for start in range(0, len(ids), 500):
            session().execute(
                update(PsaCompany).where(PsaCompany.id.in_(ids[start : start + 500])).values(deleted=True)
            )
        return len(ids)

    @staticmethod
    def in_partner(partner_id: int, company_id: int) -> PsaCompany | None:
        """A cached company of this partner by local id, or None."""
        return session().scalar(
            select(PsaCompany).where(PsaCompany.id == company_id, PsaCompany.partner_id == partner_id)
        )

    @staticmethod
    def by_cw_id(partner_id: int, remote_id: int) -> PsaCompany | None:
        """A cached company of this partner by ConnectWise id, or None."""
        return session().scalar(
            select(PsaCompany).where(PsaCompany.remote_id == remote_id, PsaCompany.partner_id == partner_id)
        )

    @staticmethod
    def match_rows(partner_id: int) -> list[tuple[int, str, bool]]:
        """(id, name, deleted) of every cached company: the input of name matching."""
        return [
            tuple(row)
            for row in session().execute(
                select(PsaCompany.id, PsaCompany.name, PsaCompany.deleted).where(PsaCompany.partner_id == partner_id)
            )
        ]

    @staticmethod
    def count(partner_id: int) -> int:
        """How many companies the cache holds (deleted ones too)."""
        return session().scalar(select(func.count(PsaCompany.id)).where(PsaCompany.partner_id == partner_id)) or 0

    @staticmethod
    def page(partner_id: int, search: str, offset: int, limit: int, include_mapped: bool) -> tuple[list, int]:
        """A page of live companies by name (unmapped only unless ``include_mapped``), and the total."""
        mapped = exists().where(CustomerMapping.company_id == PsaCompany.id, CustomerMapping.ended_at.is_(None))
        where = [PsaCompany.partner_id == partner_id, PsaCompany.deleted.is_(False)]
        if not include_mapped:
            where.append(~mapped)
        if search:
            pattern = like_pattern(search)
            where.append(
                or_(
                    func.lower(PsaCompany.name).like(pattern, escape="\\"),
                    func.lower(PsaCompany.identifier).like(pattern, escape="\\"),
                )
            )
        total = session().scalar(select(func.count(PsaCompany.id)).where(*where))
        rows = session().scalars(
            select(PsaCompany)
            .where(*where)
            .order_by(func.lower(PsaCompany.name), PsaCompany.name, PsaCompany.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total or 0


class PsaAgreementDAO(BaseDAO[PsaAgreement]):
    """Cached ConnectWise agreements."""

    model_cls = PsaAgreement

    @staticmethod
    def upsert(partner_id: int, agreements: Sequence[Any]) -> tuple[int, int]:
        """Store a page of ``connectwise.Agreement`` records; return (inserted, updated)."""
        now = clock.now()
        return _upsert(PsaAgreement, partner_id, [_agreement_values(partner_id, a, now) for a in agreements])

    @staticmethod
    def mark_deleted(partner_id: int, remote_ids: list[int]) -> None:
        """Agreements the PSA no longer has (a read by id found none) are marked deleted."""
        if remote_ids:
            session().execute(
                update(PsaAgreement)
                .where(PsaAgreement.partner_id == partner_id, PsaAgreement.remote_id.in_(remote_ids))
                .values(deleted=True, cached_at=clock.now())
                .execution_options(synchronize_session=False)
            )

    @staticmethod
    def link_companies(partner_id: int) -> None:
        """Point each cached agreement at the cached company of its ConnectWise company id."""
        company = (
            select(PsaCompany.id)
            .where(PsaCompany.partner_id == partner_id, PsaCompany.remote_id == PsaAgreement.remote_company_id)
            .scalar_subquery()
        )
        session().execute(
            update(PsaAgreement)
            .where(PsaAgreement.partner_id == partner_id)
            .values(company_id=company)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def mark_missing_deleted(partner_id: int, seen_remote_ids: set[int]) -> int:
        """After a full read: agreements ConnectWise no longer lists are marked deleted."""
        ids = [
            row_id
            for row_id, remote_id in session().execute(
                select(PsaAgreement.id, PsaAgreement.remote_id).where(
                    PsaAgreement.partner_id == partner_id, PsaAgreement.deleted.is_(False)
                )
            )
            if remote_id not in seen_remote_ids
        ]
        for start in range(0, len(ids), 500):
            session().execute(
                update(PsaAgreement).where(PsaAgreement.id.in_(ids[start : start + 500])).values(deleted=True)
            )
        return len(ids)

    @staticmethod
    def in_partner(partner_id: int, agreement_id: int) -> PsaAgreement | None:
        """A cached agreement of this partner by id, or None."""
        return session().scalar(
            select(PsaAgreement).where(PsaAgreement.id == agreement_id, PsaAgreement.partner_id == partner_id)
        )

    @staticmethod
    def live_for_companies(partner_id: int, company_ids: list[int]) -> list[PsaAgreement]:
        """The not-deleted cached agreements of these companies, by name."""
        if not company_ids:
            return []
        return list(
            session().scalars(
                select(PsaAgreement)
                .where(
                    PsaAgreement.partner_id == partner_id,
                    PsaAgreement.company_id.in_(company_ids),
                    PsaAgreement.deleted.is_(False),
                )
                .order_by(PsaAgreement.name, PsaAgreement.id)
            )
        )

    @staticmethod
    def live_rows_for_companies(partner_id: int, company_ids: Iterable[int], in_sql: int = 500) -> list[Row]:
        """The not-deleted cached agreements of these companies, by name, as rows (no ORM objects) with the
        columns eligibility reads: ``id``, ``name``, ``company_id``, ``cancelled``, ``agreement_status``,
        ``start_date``, ``end_date``, ``no_ending_date``, ``billing_cycle``, ``bill_start_date``.

        Up to ``in_sql`` companies are filtered in SQL; more read the partner's live agreements (one statement
        whatever the size) and are filtered here.
        """
        wanted = set(company_ids)
        if not wanted:
            return []
        query = (
            select(
                PsaAgreement.id,
                PsaAgreement.name,
                PsaAgreement.company_id,
                PsaAgreement.cancelled,
                PsaAgreement.agreement_status,
                PsaAgreement.start_date,
                PsaAgreement.end_date,
                PsaAgreement.no_ending_date,
                PsaAgreement.billing_cycle,
                PsaAgreement.bill_start_date,
            )
            .where(PsaAgreement.partner_id == partner_id, PsaAgreement.deleted.is_(False))
            .order_by(PsaAgreement.name, PsaAgreement.id)
        )
        if len(wanted) <= in_sql:
            query = query.where(PsaAgreement.company_id.in_(sorted(wanted)))
        return [row for row in session().execute(query) if row.company_id in wanted]

    @staticmethod
    def count(partner_id: int) -> int:
        """How many agreements the cache holds."""
        return session().scalar(select(func.count(PsaAgreement.id)).where(PsaAgreement.partner_id == partner_id)) or 0


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Lists of up to ``size`` items, consuming ``items`` lazily."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = ["PsaAgreementDAO", "PsaCompanyDAO", "ReconciliationStateDAO", "chunked", "like_pattern"]
