"""The audit trail."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Row, Select, func, select

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.tenancy import AuditEvent

EXPORT_COLUMNS = (
    "id",
    "at",
    "username",
    "partner_id",
    "distributor_id",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "detail",
)


class AuditDAO(BaseDAO[AuditEvent]):
    """Append-only audit events."""

    model_cls = AuditEvent

    @staticmethod
    def _filtered(partner_id: int | None, filters: dict) -> Select:
        """Events of one partner (or of all with None) matching the filters, newest first."""
        query = select(AuditEvent)
        if partner_id is not None:
            query = query.where(AuditEvent.partner_id == partner_id)
        for name in ("username", "object_type", "object_id", "outcome"):
            if filters.get(name):
                query = query.where(getattr(AuditEvent, name) == filters[name])
        action = filters.get("action")
        if action and action.endswith("*"):
            query = query.where(AuditEvent.action.startswith(action[:-1], autoescape=True))
        elif action:
            query = query.where(AuditEvent.action == action)
        if filters.get("since"):
            query = query.where(AuditEvent.at >= filters["since"])
        if filters.get("until"):
            query = query.where(AuditEvent.at < filters["until"])
        return query

    @classmethod
    def page(cls, partner_id: int | None, filters: dict, page: int, page_size: int) -> tuple[int, list[AuditEvent]]:
        """The total and one page of matching events, newest first."""
        query = cls._filtered(partner_id, filters)
        total = session().scalar(select(func.count()).select_from(query.subquery()))
        rows = session().scalars(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
        return total, list(rows)

    @classmethod
    def stream(cls, partner_id: int | None, filters: dict, batch: int = 1000) -> Iterator[Row]:
        """Every matching event as a plain row, oldest first, read in batches by id (keyset) so
        memory stays flat however long the log is."""
        columns = [getattr(AuditEvent, name) for name in EXPORT_COLUMNS]
        last = 0
        while True:
            query = cls._filtered(partner_id, filters).with_only_columns(*columns)
            rows = list(session().execute(query.where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)))
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1].id
