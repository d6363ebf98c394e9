"""Running totals of unsynchronized revenue (docs/billing.md "The figures on the Reconciliation Center").

``psa_revenue_month`` holds, per customer and billing month (the month of the period start),
the net (charges minus credits) of transactions **not pushed**, and of those whose
subscription has no active mapping. Transactions are immutable and append-only, so new
ones are folded in past a watermark (the highest transaction id already counted); a
mapping change recomputes the rows of the one customer it touches. Unsynchronized revenue
is then: for an unmapped customer all its not-pushed net, for a mapped one its
not-pushed net of unmapped subscriptions (docs/billing.md: "customer OR subscription not mapped").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, and_, case, cast, delete, exists, func, select, update
from sqlalchemy.sql import Select

from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows
from msphub_psa.models.hub import BillingTransaction as Tx
from msphub_psa.models.reconciliation import CustomerMapping, ReconciliationState, RevenueMonth, SubscriptionMapping
from msphub_psa.models.sync import SyncItem


def _month_of(column):
    """First day of the column's month, per dialect."""
    if session().get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def _signed_amount():
    """A charge's amount, or minus a credit's magnitude (``domain.billing.signed_amount`` in SQL)."""
    return case((Tx.kind == "credit", -func.abs(Tx.amount)), else_=Tx.amount)


def _not_pushed(query: Select) -> Select:
    """Keep only transactions not yet pushed to ConnectWise (no outbox row of theirs is ``pushed``).

    The billing push calls :meth:`RevenueTotalsDAO.recompute_customers` for the customers whose
    rows it marked pushed, at the end of each run.
    """
    pushed = select(SyncItem.id).where(SyncItem.transaction_id == Tx.id, SyncItem.state == "pushed").exists()
    return query.where(~pushed)


def _aggregate(where) -> Select:
    """(customer id, month, net not pushed, net not pushed of unmapped subscriptions) grouped."""
    signed = _signed_amount()
    unmapped = ~exists().where(
        SubscriptionMapping.subscription_id == Tx.subscription_id, SubscriptionMapping.ended_at.is_(None)
    )
    month = _month_of(Tx.period_start)
    query = select(
        Tx.customer_id, month.label("month"), func.sum(signed), func.sum(case((unmapped, signed), else_=0))
    ).where(*where)
    return _not_pushed(query).group_by(Tx.customer_id, month)


def _as_date(value) -> dt.date:
    """SQLite returns the month as text; PostgreSQL as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class RevenueTotalsDAO:
    """Keeps ``psa_revenue_month`` current and reads the figures from it."""

    @staticmethod
    def fold_new(state: ReconciliationState) -> int:
        """Add transactions past the partner's watermark to its totals; return the new watermark.

        The watermark is claimed first with a compare-and-set UPDATE (the transaction's first
        write; on PostgreSQL the caller also holds the row FOR UPDATE), so two concurrent folds
        never count a transaction twice: the loser sees the winner's watermark and adds nothing.
        """
        newest = session().scalar(select(func.max(Tx.id))) or 0
        old = state.revenue_watermark
        if newest <= old:
            return old
        claimed = (
            session()
            .execute(
                update(ReconciliationState)
                .where(ReconciliationState.id == state.id, ReconciliationState.revenue_watermark == old)
                .values(revenue_watermark=newest)
                .execution_options(synchronize_session=False)
            )
            .rowcount
        )
        session().refresh(state)
        if claimed != 1:
            return state.revenue_watermark
        rows = session().execute(_aggregate([Tx.partner_id == state.partner_id, Tx.id > old, Tx.id <= newest])).all()
        RevenueTotalsDAO._add(state.partner_id, rows)
        session().flush()
        return newest

    @staticmethod
    def _add(partner_id: int, rows: list, replaced: bool = False) -> None:
        """Add aggregated (customer, month, net, unmapped net) rows onto existing totals (none when ``replaced``:
        the caller has just deleted these customers' rows)."""
        if not rows:
            return
        customers = [] if replaced else list({row[0] for row in rows})
        existing = {}
        for start in range(0, len(customers), 500):
            existing.update(
                {
                    (r.customer_id, r.month): r
                    for r in session().execute(
                        select(
                            RevenueMonth.id,
                            RevenueMonth.customer_id,
                            RevenueMonth.month,
                            RevenueMonth.net_unpushed,
                            RevenueMonth.net_unmapped,
                        ).where(RevenueMonth.customer_id.in_(customers[start : start + 500]))
                    )
                }
            )
        updates, inserts = [], []
        for customer_id, month, net, unmapped in rows:
            key, net, unmapped = (customer_id, _as_date(month)), Decimal(net or 0), Decimal(unmapped or 0)
            if key in existing:
                old = existing[key]
                updates.append(
                    {"id": old.id, "net_unpushed": old.net_unpushed + net, "net_unmapped": old.net_unmapped + unmapped}
                )
            else:
                inserts.append(
                    {
                        "partner_id": partner_id,
                        "customer_id": customer_id,
                        "month": key[1],
                        "net_unpushed": net,
                        "net_unmapped": unmapped,
                    }
                )
        if updates:
            session().execute(update(RevenueMonth), updates)
        insert_rows(RevenueMonth, inserts)

    @staticmethod
    def recompute_customers(state: ReconciliationState, customer_ids: list[int]) -> None:
        """Rebuild the totals of some customers from their transactions up to the watermark."""
        if not customer_ids:
            return
        session().execute(
            delete(RevenueMonth)
            .where(RevenueMonth.customer_id.in_(customer_ids))
            .execution_options(synchronize_session=False)
        )
        rows = session().execute(_aggregate([Tx.customer_id.in_(customer_ids), Tx.id <= state.revenue_watermark])).all()
        RevenueTotalsDAO._add(state.partner_id, rows, replaced=True)
        session().flush()

    @staticmethod
    def _unsynchronized():
        """Per totals row: all of it for an unmapped customer, its unmapped-subscription part otherwise."""
        return case((CustomerMapping.id.is_(None), RevenueMonth.net_unpushed), else_=RevenueMonth.net_unmapped)

    @staticmethod
    def _joined(columns, partner_id: int, since: dt.date | None) -> Select:
        """Totals rows of a partner (from ``since``) joined with the customer's active mapping."""
        query = (
            select(*columns)
            .select_from(RevenueMonth)
            .outerjoin(
                CustomerMapping,
                and_(CustomerMapping.customer_id == RevenueMonth.customer_id, CustomerMapping.ended_at.is_(None)),
            )
        )
        query = query.where(RevenueMonth.partner_id == partner_id)
        return query.where(RevenueMonth.month >= since) if since else query

    @classmethod
    def unsynchronized_total(cls, partner_id: int, since: dt.date | None) -> Decimal:
        """Unsynchronized revenue of the partner from month ``since`` (None: all)."""
        value = session().scalar(cls._joined([func.sum(cls._unsynchronized())], partner_id, since))
        return Decimal(value or 0)

    @classmethod
    def unsynchronized_by_month(cls, partner_id: int, since: dt.date | None) -> dict[dt.date, Decimal]:
        """Unsynchronized revenue per billing month."""
        rows = (
            session()
            .execute(
                cls._joined([RevenueMonth.month, func.sum(cls._unsynchronized())], partner_id, since).group_by(
                    RevenueMonth.month
                )
            )
            .all()
        )
        return {_as_date(month): Decimal(value or 0) for month, value in rows}

    @classmethod
    def unsynchronized_by_customer(
        cls, partner_id: int, customer_ids: list[int], since: dt.date | None
    ) -> dict[int, Decimal]:
        """Unsynchronized revenue of some customers."""
        if not customer_ids:
            return {}
        query = cls._joined([RevenueMonth.customer_id, func.sum(cls._unsynchronized())], partner_id, since)
        rows = (
            session()
            .execute(query.where(RevenueMonth.customer_id.in_(customer_ids)).group_by(RevenueMonth.customer_id))
            .all()
        )
        return {customer_id: Decimal(value or 0) for customer_id, value in rows}
