"""The per-partner ConnectWise directory cache and its refresh state."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, func, or_, select, update

from plugin import clock
from plugin.daos.base import BaseDAO, session
from plugin.daos.bulk import insert_rows

from plugin.models.psa import CustomerMapping, CwAgreement, CwCompany, ReconciliationState


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
            partner_id=partner_id, refresh_status="never", revenue_watermark=0)


def _company_values(partner_id: int, company: Any) -> dict:
    """Cache columns of one ``connectwise.Company``."""
    return {"partner_id": partner_id, "cw_id": company.id, "identifier": (company.identifier or "")[:60],
            "name": (company.name or "")[:200], "status": company.status,
            "types": ", ".join(company.types)[:200] or None, "deleted": company.deleted,
            "cw_last_updated": company.last_updated, "cached_at": clock.now()}


def _agreement_values(partner_id: int, agreement: Any) -> dict:
    """Cache columns of one ``connectwise.Agreement``."""
    return {"partner_id": partner_id, "cw_id": agreement.id, "name": (agreement.name or "")[:200],
            "cw_company_id": agreement.company.id if agreement.company else None,
            "type_name": agreement.type.name if agreement.type else None,
            "agreement_status": agreement.agreement_status, "start_date": agreement.start_date,
            "end_date": agreement.end_date, "no_ending_date": agreement.no_ending_date,
            "bill_start_date": agreement.bill_start_date, "billing_cycle": agreement.billing_cycle,
            "cancelled": agreement.cancelled, "date_cancelled": agreement.date_cancelled, "deleted": False,
            "cw_last_updated": agreement.last_updated, "cached_at": clock.now()}


def _upsert(model, partner_id: int, rows: list[dict]) -> tuple[int, int]:
    """Insert or update cache rows by (partner, cw id); return (inserted, updated)."""
    if not rows:
        return 0, 0
    cw_ids = [row["cw_id"] for row in rows]
    existing = dict(session().execute(
        select(model.cw_id, model.id).where(model.partner_id == partner_id, model.cw_id.in_(cw_ids))).all())
    updates = [{**row, "id": existing[row["cw_id"]]} for row in rows if row["cw_id"] in existing]
    inserts = [row for row in rows if row["cw_id"] not in existing]
    if updates:
        session().execute(update(model), updates)
    insert_rows(model, inserts)
    session().flush()
    return len(inserts), len(updates)


class CwCompanyDAO(BaseDAO[CwCompany]):
    """Cached ConnectWise companies."""

    model_cls = CwCompany

    @staticmethod
    def upsert(partner_id: int, companies: Sequence[Any]) -> tuple[int, int]:
        """Store a page of ``connectwise.Company`` records; return (inserted, updated)."""
        return _upsert(CwCompany, partner_id, [_company_values(partner_id, c) for c in companies])

    @staticmethod
    def mark_missing_deleted(partner_id: int, seen_cw_ids: set[int]) -> int:
        """After a full read: companies ConnectWise no longer lists are marked deleted."""
        ids = [row_id for row_id, cw_id in session().execute(
            select(CwCompany.id, CwCompany.cw_id).where(CwCompany.partner_id == partner_id,
                                                        CwCompany.deleted.is_(False))) if cw_id not in seen_cw_ids]
        for start in range(0, len(ids), 500):
            session().execute(update(CwCompany).where(CwCompany.id.in_(ids[start:start + 500])).values(deleted=True))
        return len(ids)

    @staticmethod
    def in_partner(partner_id: int, company_id: int) -> CwCompany | None:
        """A cached company of this partner by local id, or None."""
        return session().scalar(select(CwCompany).where(CwCompany.id == company_id,
                                                        CwCompany.partner_id == partner_id))

    @staticmethod
    def by_cw_id(partner_id: int, cw_id: int) -> CwCompany | None:
        """A cached company of this partner by ConnectWise id, or None."""
        return session().scalar(select(CwCompany).where(CwCompany.cw_id == cw_id,
                                                        CwCompany.partner_id == partner_id))

    @staticmethod
    def match_rows(partner_id: int) -> list[tuple[int, str, bool]]:
        """(id, name, deleted) of every cached company: the input of name matching."""
        return [tuple(row) for row in session().execute(
            select(CwCompany.id, CwCompany.name, CwCompany.deleted).where(CwCompany.partner_id == partner_id))]

    @staticmethod
    def count(partner_id: int) -> int:
        """How many companies the cache holds (deleted ones too)."""
        return session().scalar(select(func.count(CwCompany.id)).where(CwCompany.partner_id == partner_id)) or 0

    @staticmethod
    def page(partner_id: int, search: str, offset: int, limit: int, include_mapped: bool) -> tuple[list, int]:
        """A page of live companies by name (unmapped only unless ``include_mapped``), and the total."""
        mapped = exists().where(CustomerMapping.company_id == CwCompany.id, CustomerMapping.ended_at.is_(None))
        where = [CwCompany.partner_id == partner_id, CwCompany.deleted.is_(False)]
        if not include_mapped:
            where.append(~mapped)
        if search:
            pattern = like_pattern(search)
            where.append(or_(func.lower(CwCompany.name).like(pattern, escape="\\"),
                             func.lower(CwCompany.identifier).like(pattern, escape="\\")))
        total = session().scalar(select(func.count(CwCompany.id)).where(*where))
        rows = session().scalars(select(CwCompany).where(*where).order_by(func.lower(CwCompany.name), CwCompany.name, CwCompany.id)
                                 .offset(offset).limit(limit))
        return list(rows), total or 0


class CwAgreementDAO(BaseDAO[CwAgreement]):
    """Cached ConnectWise agreements."""

    model_cls = CwAgreement

    @staticmethod
    def upsert(partner_id: int, agreements: Sequence[Any]) -> tuple[int, int]:
        """Store a page of ``connectwise.Agreement`` records; return (inserted, updated)."""
        return _upsert(CwAgreement, partner_id, [_agreement_values(partner_id, a) for a in agreements])

    @staticmethod
    def link_companies(partner_id: int) -> None:
        """Point each cached agreement at the cached company of its ConnectWise company id."""
        company = select(CwCompany.id).where(CwCompany.partner_id == partner_id,
                                             CwCompany.cw_id == CwAgreement.cw_company_id).scalar_subquery()
        session().execute(update(CwAgreement).where(CwAgreement.partner_id == partner_id)
                          .values(company_id=company).execution_options(synchronize_session=False))

    @staticmethod
    def mark_missing_deleted(partner_id: int, seen_cw_ids: set[int]) -> int:
        """After a full read: agreements ConnectWise no longer lists are marked deleted."""
        ids = [row_id for row_id, cw_id in session().execute(
            select(CwAgreement.id, CwAgreement.cw_id).where(CwAgreement.partner_id == partner_id,
                                                            CwAgreement.deleted.is_(False))) if cw_id not in seen_cw_ids]
        for start in range(0, len(ids), 500):
            session().execute(update(CwAgreement).where(CwAgreement.id.in_(ids[start:start + 500]))
                              .values(deleted=True))
        return len(ids)

    @staticmethod
    def in_partner(partner_id: int, agreement_id: int) -> CwAgreement | None:
        """A cached agreement of this partner by id, or None."""
        return session().scalar(select(CwAgreement).where(CwAgreement.id == agreement_id,
                                                          CwAgreement.partner_id == partner_id))

    @staticmethod
    def live_for_companies(partner_id: int, company_ids: list[int]) -> list[CwAgreement]:
        """The not-deleted cached agreements of these companies, by name."""
        if not company_ids:
            return []
        return list(session().scalars(select(CwAgreement).where(
            CwAgreement.partner_id == partner_id, CwAgreement.company_id.in_(company_ids),
            CwAgreement.deleted.is_(False)).order_by(CwAgreement.name, CwAgreement.id)))

    @staticmethod
    def count(partner_id: int) -> int:
        """How many agreements the cache holds."""
        return session().scalar(select(func.count(CwAgreement.id)).where(CwAgreement.partner_id == partner_id)) or 0


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


__all__ = ["CwAgreementDAO", "CwCompanyDAO", "ReconciliationStateDAO", "chunked", "like_pattern"]
