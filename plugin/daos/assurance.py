"""Revenue assurance's queries: the pushed rows to compare, the findings kept across read-backs, the runs."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import CHUNK
from msphub_psa.daos.outbox import PUSHED, CatalogSyncDAO, PushDataDAO
from msphub_psa.models.assurance import AssuranceFinding, AssuranceRun
from msphub_psa.models.sync import SyncItem

OPEN = "open"
ACTIVE = ("open", "recreating")
"""Finding statuses that still count as drift."""


class AssuranceDAO:
    """Pushed rows, findings and read-back runs of a partner."""

    @staticmethod
    def pushed_chunks(partner_id: int):
        """The partner's pushed rows with their transaction, product and catalog row, ``CHUNK`` rows a query."""
        after = 0
        while True:
            items = list(
                session().scalars(
                    select(SyncItem)
                    .where(SyncItem.partner_id == partner_id, SyncItem.state == PUSHED, SyncItem.id > after)
                    .order_by(SyncItem.id)
                    .limit(CHUNK)
                )
            )
            if not items:
                return
            data = PushDataDAO.transactions([item.transaction_id for item in items])
            products = sorted({product.id for _tx, product in data.values()})
            catalog = CatalogSyncDAO.for_products(partner_id, products)
            yield [(item, *data[item.transaction_id], catalog.get(data[item.transaction_id][1].id)) for item in items]
            after = items[-1].id

    @staticmethod
    def known_transactions(partner_id: int) -> set[int]:
        """Every transaction id the partner's outbox has a row for."""
        return set(session().scalars(select(SyncItem.transaction_id).where(SyncItem.partner_id == partner_id)))

    @staticmethod
    def by_key(partner_id: int) -> dict[str, AssuranceFinding]:
        """The partner's findings by key."""
        rows = session().scalars(select(AssuranceFinding).where(AssuranceFinding.partner_id == partner_id))
        return {row.key: row for row in rows}

    @staticmethod
    def accepted(partner_id: int) -> dict[int, dict]:
        """Per transaction, the PSA's values a person accepted (the latest acceptance)."""
        rows = session().scalars(
            select(AssuranceFinding)
            .where(AssuranceFinding.partner_id == partner_id, AssuranceFinding.status == "accepted")
            .order_by(AssuranceFinding.resolved_at)
        )
        return {row.transaction_id: row.held for row in rows if row.transaction_id is not None and row.held}

    @staticmethod
    def add(**values) -> AssuranceFinding:
        """A new finding."""
        row = AssuranceFinding(**values)
        session().add(row)
        return row

    @staticmethod
    def get(partner_id: int, finding_id: int, lock: bool = False) -> AssuranceFinding | None:
        """One of the partner's findings."""
        query = select(AssuranceFinding).where(
            AssuranceFinding.partner_id == partner_id, AssuranceFinding.id == finding_id
        )
        return session().scalar(query.with_for_update() if lock else query)

    @staticmethod
    def page(partner_id: int, codes: list[str], statuses: list[str], page: int, page_size: int):
        """(findings, total) filtered by kind and status, largest money first."""
        where = [AssuranceFinding.partner_id == partner_id]
        if codes:
            where.append(AssuranceFinding.code.in_(codes))
        if statuses:
            where.append(AssuranceFinding.status.in_(statuses))
        total = session().scalar(select(func.count()).select_from(AssuranceFinding).where(*where)) or 0
        rows = session().scalars(
            select(AssuranceFinding)
            .where(*where)
            .order_by(AssuranceFinding.amount.desc(), AssuranceFinding.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return list(rows), total

    @staticmethod
    def drift(partner_id: int) -> dict[str, tuple[int, Decimal]]:
        """Open findings per kind: (count, money at stake)."""
        rows = session().execute(
            select(AssuranceFinding.code, func.count(), func.coalesce(func.sum(AssuranceFinding.amount), 0))
            .where(AssuranceFinding.partner_id == partner_id, AssuranceFinding.status.in_(ACTIVE))
            .group_by(AssuranceFinding.code)
        )
        return {code: (count, Decimal(total)) for code, count, total in rows}

    @staticmethod
    def create_run(**values) -> AssuranceRun:
        """A read-back run."""
        run = AssuranceRun(**values)
        session().add(run)
        session().flush()
        return run

    @staticmethod
    def run(run_id: int) -> AssuranceRun | None:
        """One run."""
        return session().get(AssuranceRun, run_id)

    @staticmethod
    def latest_run(partner_id: int) -> AssuranceRun | None:
        """The partner's latest read-back."""
        return session().scalar(
            select(AssuranceRun).where(AssuranceRun.partner_id == partner_id).order_by(AssuranceRun.id.desc()).limit(1)
        )
