"""Customer and subscription mappings, and the Reconciliation Center's lists of customers."""

from __future__ import annotations

from sqlalchemy import and_, case, exists, func, insert, or_, select, update

from msphub_psa import clock
from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.daos.directory import like_pattern
from msphub_psa.daos.outbox import subscription_sync_status as outbox_status
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction, Customer, Product, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import SyncItem

IN_SQL = 500
"""Up to this many ids are filtered in SQL (``IN``); a longer list reads the partner's rows and filters them in
memory: one statement whatever the size, and no bind-parameter limit (SQLite's is 32,766)."""


def _active_customer_mapping():
    """EXISTS an active mapping of the outer Customer row."""
    return exists().where(CustomerMapping.customer_id == Customer.id, CustomerMapping.ended_at.is_(None))


def _customer_search(search: str):
    """Customer name or external id contains ``search`` (case-insensitive)."""
    pattern = like_pattern(search)
    return or_(
        func.lower(Customer.name).like(pattern, escape="\\"),
        func.lower(Customer.external_id).like(pattern, escape="\\"),
    )


class CustomerMappingDAO(BaseDAO[CustomerMapping]):
    """Customer <-> company mappings (active rows and history)."""

    model_cls = CustomerMapping

    @staticmethod
    def active_for_customer(customer_id: int) -> CustomerMapping | None:
        """The customer's active mapping, or None."""
        return session().scalar(
            select(CustomerMapping).where(
                CustomerMapping.customer_id == customer_id, CustomerMapping.ended_at.is_(None)
            )
        )

    @staticmethod
    def active_for_company(company_id: int) -> CustomerMapping | None:
        """The active mapping holding this cached company, or None."""
        return session().scalar(
            select(CustomerMapping).where(CustomerMapping.company_id == company_id, CustomerMapping.ended_at.is_(None))
        )

    @staticmethod
    def in_partner(partner_id: int, mapping_id: int) -> CustomerMapping | None:
        """A mapping (active or ended) of this partner by id, or None."""
        return session().scalar(
            select(CustomerMapping).where(CustomerMapping.id == mapping_id, CustomerMapping.partner_id == partner_id)
        )

    @staticmethod
    def mapped_ids(partner_id: int) -> tuple[set[int], set[int]]:
        """(customer ids, company ids) of the partner's active mappings."""
        rows = (
            session()
            .execute(
                select(CustomerMapping.customer_id, CustomerMapping.company_id).where(
                    CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
                )
            )
            .all()
        )
        return {row[0] for row in rows}, {row[1] for row in rows}

    @staticmethod
    def end(mapping: CustomerMapping, by: str) -> None:
        """Close an active mapping (kept as history)."""
        mapping.ended_at, mapping.ended_by = clock.now(), by
        session().flush()

    @staticmethod
    def mapped_page(partner_id: int, search: str, offset: int, limit: int) -> tuple[list, int]:
        """A page of (mapping, customer, company) by customer name, and the total."""
        where = [CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)]
        if search:
            pattern = like_pattern(search)
            where.append(or_(_customer_search(search), func.lower(PsaCompany.name).like(pattern, escape="\\")))
        base = (
            select(CustomerMapping, Customer, PsaCompany)
            .join(Customer, Customer.id == CustomerMapping.customer_id)
            .join(PsaCompany, PsaCompany.id == CustomerMapping.company_id)
            .where(*where)
        )
        total = session().scalar(select(func.count()).select_from(base.subquery()))
        rows = (
            session()
            .execute(base.order_by(func.lower(Customer.name), Customer.name, Customer.id).offset(offset).limit(limit))
            .all()
        )
        return [tuple(row) for row in rows], total or 0


class ReconciliationCustomerDAO:
    """The partner's customers as the Reconciliation Center lists and counts them."""

    @staticmethod
    def in_partner(partner_id: int, customer_id: int) -> Customer | None:
        """A customer of this partner by id, or None."""
        return session().scalar(select(Customer).where(Customer.id == customer_id, Customer.partner_id == partner_id))

    @staticmethod
    def unmapped_page(partner_id: int, search: str, offset: int, limit: int) -> tuple[list[Customer], int]:
        """A page of unmapped customers by name, and the total."""
        where = [Customer.partner_id == partner_id, ~_active_customer_mapping()]
        if search:
            where.append(_customer_search(search))
        total = session().scalar(select(func.count(Customer.id)).where(*where))
        rows = session().scalars(
            select(Customer)
            .where(*where)
            .order_by(func.lower(Customer.name), Customer.name, Customer.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total or 0

    @staticmethod
    def match_rows(partner_id: int) -> list[tuple[int, str]]:
        """(id, name) of every customer of the partner: the input of name matching."""
        return [
            tuple(row)
            for row in session().execute(select(Customer.id, Customer.name).where(Customer.partner_id == partner_id))
        ]

    @staticmethod
    def names(customer_ids: list[int]) -> dict[int, str]:
        """Customer names by id."""
        if not customer_ids:
            return {}
        return dict(session().execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all())

    @staticmethod
    def counts(partner_id: int) -> dict[str, int]:
        """Customers, mapped customers, subscriptions and mapped subscriptions of the partner (one query)."""

        def count(column, *where):
            return select(func.count(column)).where(*where).scalar_subquery()

        row = (
            session()
            .execute(
                select(
                    count(Customer.id, Customer.partner_id == partner_id),
                    count(
                        CustomerMapping.id, CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
                    ),
                    count(Subscription.id, Subscription.partner_id == partner_id),
                    count(
                        SubscriptionMapping.id,
                        SubscriptionMapping.partner_id == partner_id,
                        SubscriptionMapping.ended_at.is_(None),
                    ),
                )
            )
            .one()
        )
        return {
            "customers": row[0],
            "mapped_customers": row[1],
            "subscriptions": row[2],
            "mapped_subscriptions": row[3],
        }


class SubscriptionMappingDAO(BaseDAO[SubscriptionMapping]):
    """Subscription -> agreement mappings (the Products / Subscriptions tab writes them)."""

    model_cls = SubscriptionMapping

    @staticmethod
    def insert_new(partner_id: int, rows: list[dict]) -> dict[int, int]:
        """Insert new active mappings in one statement (an executemany) and read their ids back in another:
        {subscription id: mapping id}. Ours are the partner's active mappings of these subscriptions above the
        highest id before the insert (a subscription has one active mapping at most)."""
        if not rows:
            return {}
        before = session().scalar(select(func.max(SubscriptionMapping.id))) or 0
        session().execute(insert(SubscriptionMapping.__table__), rows)
        wanted = {row["subscription_id"] for row in rows}
        found = session().execute(
            select(SubscriptionMapping.subscription_id, SubscriptionMapping.id).where(
                SubscriptionMapping.partner_id == partner_id,
                SubscriptionMapping.ended_at.is_(None),
                SubscriptionMapping.id > before,
            )
        )
        return {sid: mid for sid, mid in found if sid in wanted}

    @staticmethod
    def end_for_customer(customer_id: int, by: str) -> int:
        """End every active subscription mapping of a customer; return how many."""
        result = session().execute(
            update(SubscriptionMapping)
            .where(SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None))
            .values(active=False, ended_at=clock.now(), ended_by=by)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    @staticmethod
    def counts_by_customer(customer_ids: list[int]) -> dict[int, tuple[int, int]]:
        """{customer id: (mapped subscriptions, subscriptions)} for these customers (one query)."""
        if not customer_ids:
            return {}
        mapped = exists().where(
            SubscriptionMapping.subscription_id == Subscription.id, SubscriptionMapping.ended_at.is_(None)
        )
        rows = (
            session()
            .execute(
                select(Subscription.customer_id, func.count(Subscription.id), func.sum(case((mapped, 1), else_=0)))
                .where(Subscription.customer_id.in_(customer_ids))
                .group_by(Subscription.customer_id)
            )
            .all()
        )
        return {row[0]: (int(row[2] or 0), int(row[1])) for row in rows}

    @staticmethod
    def active_count(customer_id: int) -> int:
        """Active subscription mappings of one customer."""
        return (
            session().scalar(
                select(func.count(SubscriptionMapping.id)).where(
                    SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None)
                )
            )
            or 0
        )


# --- Products / Subscriptions tab -------------------------------------------------

SYNC_NOT_MAPPED = "not_mapped"
SYNC_PENDING = "pending"


def subscription_sync_status(partner_id: int, subscription_ids: list[int]) -> dict[int, dict]:
    """{subscription id: {"status", "reason"}}: the ONE place a subscription's sync status is decided.

    Unmapped subscriptions are ``not_mapped``; mapped ones take the outbox's status
    (``pending`` / ``synced`` / ``failed`` with ConnectWise's reason), and ``pending`` while the
    outbox has no row for them yet (the next push creates it).
    """
    if not subscription_ids:
        return {}
    mapped = set(
        session().scalars(
            select(SubscriptionMapping.subscription_id).where(
                SubscriptionMapping.partner_id == partner_id,
                SubscriptionMapping.subscription_id.in_(subscription_ids),
                SubscriptionMapping.ended_at.is_(None),
            )
        )
    )
    pushed = outbox_status(partner_id, sorted(mapped))
    result = {}
    for sid in subscription_ids:
        status, reason = pushed.get(sid, ("none", None)) if sid in mapped else (SYNC_NOT_MAPPED, None)
        result[sid] = {
            "status": SYNC_PENDING if status == "none" else status,
            "reason": reason or ("Waiting for the next push." if status == "none" else None),
        }
    return result


def transaction_push_states(subscription_id: int) -> list[tuple]:
    """(id, period start, period end, kind, amount, outbox state, agreement's ConnectWise id, ConnectWise
    record id, that agreement's cached name) of a subscription's transactions.

    A transaction without an outbox row yet is ``pending`` (not pushed).
    """
    return [row[:-1] for row in _push_states([subscription_id])]


def transaction_push_states_of(subscription_ids: list[int]) -> dict[int, list[tuple]]:
    """{subscription id: its ``transaction_push_states`` rows} for several subscriptions (one query)."""
    found: dict[int, list[tuple]] = {sid: [] for sid in subscription_ids}
    for row in _push_states(subscription_ids) if subscription_ids else []:
        found[row[-1]].append(row[:-1])
    return found


def _push_states(subscription_ids: list[int]) -> list[tuple]:
    """The rows of ``transaction_push_states`` with the subscription id last."""
    rows = (
        session()
        .execute(
            select(
                BillingTransaction.id,
                BillingTransaction.period_start,
                BillingTransaction.period_end,
                BillingTransaction.kind,
                BillingTransaction.amount,
                func.coalesce(SyncItem.state, "pending"),
                SyncItem.agreement_remote_id,
                SyncItem.remote_record_id,
                PsaAgreement.name,
                BillingTransaction.subscription_id,
            )
            .outerjoin(SyncItem, SyncItem.transaction_id == BillingTransaction.id)
            .outerjoin(
                PsaAgreement,
                and_(
                    PsaAgreement.partner_id == SyncItem.partner_id,
                    PsaAgreement.remote_id == SyncItem.agreement_remote_id,
                ),
            )
            .where(BillingTransaction.subscription_id.in_(subscription_ids))
            .order_by(BillingTransaction.period_start, BillingTransaction.id)
        )
        .all()
    )
    return [tuple(row) for row in rows]


class SubscriptionRowsDAO:
    """The partner's subscriptions as the Products / Subscriptions tab reads them."""

    @staticmethod
    def for_customer(customer_id: int) -> list[tuple]:
        """(subscription, billing frequency, active mapping or None, its agreement or None) by name (one query)."""
        query = (
            select(Subscription, Product.billing_frequency, SubscriptionMapping, PsaAgreement)
            .join(Product, Product.id == Subscription.product_id)
            .outerjoin(
                SubscriptionMapping,
                and_(SubscriptionMapping.subscription_id == Subscription.id, SubscriptionMapping.ended_at.is_(None)),
            )
            .outerjoin(PsaAgreement, PsaAgreement.id == SubscriptionMapping.agreement_id)
            .where(Subscription.customer_id == customer_id)
            .order_by(func.lower(Subscription.name), Subscription.id)
        )
        return [tuple(row) for row in session().execute(query).all()]

    @staticmethod
    def with_frequency(partner_id: int, subscription_ids: list[int]) -> dict[int, tuple[Subscription, str]]:
        """{id: (subscription, billing frequency)} of these ids that belong to the partner."""
        if not subscription_ids:
            return {}
        rows = (
            session()
            .execute(
                select(Subscription, Product.billing_frequency)
                .join(Product, Product.id == Subscription.product_id)
                .where(Subscription.partner_id == partner_id, Subscription.id.in_(subscription_ids))
            )
            .all()
        )
        return {row[0].id: (row[0], row[1]) for row in rows}

    @staticmethod
    def unmapped_of_mapped_customers(partner_id: int, customer_ids: list[int] | None = None) -> list[tuple]:
        """(subscription row, frequency, company id) of unmapped subscriptions whose customer is mapped, by id.

        The subscription row has ``id``, ``customer_id`` and ``start_date`` (no ORM object). Two plain reads
        joined here rather than one join in SQL: a refresh reads mappings it wrote in the same transaction,
        which the planner has no statistics for yet (PostgreSQL chose a nested loop over both sides and took
        seconds). Up to ``IN_SQL`` named customers are filtered in SQL, more in memory (one read either way).
        """
        mapped = select(CustomerMapping.customer_id, CustomerMapping.company_id).where(
            CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
        )
        unmapped = ~exists().where(
            SubscriptionMapping.subscription_id == Subscription.id, SubscriptionMapping.ended_at.is_(None)
        )
        query = (
            select(Subscription.id, Subscription.customer_id, Subscription.start_date, Product.billing_frequency)
            .join(Product, Product.id == Subscription.product_id)
            .where(Subscription.partner_id == partner_id, unmapped)
            .order_by(Subscription.id)
        )
        wanted = None if customer_ids is None else set(customer_ids)
        if wanted is not None and len(wanted) <= IN_SQL:
            if not wanted:
                return []
            mapped = mapped.where(CustomerMapping.customer_id.in_(sorted(wanted)))
            query = query.where(Subscription.customer_id.in_(sorted(wanted)))
        companies = dict(session().execute(mapped).all())
        if not companies:
            return []
        return [
            (row, row.billing_frequency, companies[row.customer_id])
            for row in session().execute(query)
            if row.customer_id in companies and (wanted is None or row.customer_id in wanted)
        ]

    @staticmethod
    def unmapped_page(partner_id: int, search: str, offset: int, limit: int) -> tuple[list[tuple], int]:
        """A page of the partner's unmapped subscriptions across customers, and the total (two queries).

        Rows are (subscription, frequency, customer, active customer mapping or None, its company or None),
        by customer name then subscription name; ``search`` matches subscription name or id, customer name
        or id, and company name.
        """
        unmapped = ~exists().where(
            SubscriptionMapping.subscription_id == Subscription.id, SubscriptionMapping.ended_at.is_(None)
        )
        where = [Subscription.partner_id == partner_id, unmapped]
        if search:
            pattern = like_pattern(search)
            where.append(
                or_(
                    func.lower(Subscription.name).like(pattern, escape="\\"),
                    func.lower(Subscription.external_id).like(pattern, escape="\\"),
                    func.lower(PsaCompany.name).like(pattern, escape="\\"),
                    _customer_search(search),
                )
            )
        base = (
            select(Subscription, Product.billing_frequency, Customer, CustomerMapping, PsaCompany)
            .join(Product, Product.id == Subscription.product_id)
            .join(Customer, Customer.id == Subscription.customer_id)
            .outerjoin(
                CustomerMapping,
                and_(CustomerMapping.customer_id == Customer.id, CustomerMapping.ended_at.is_(None)),
            )
            .outerjoin(PsaCompany, PsaCompany.id == CustomerMapping.company_id)
            .where(*where)
        )
        total = session().scalar(select(func.count()).select_from(base.subquery()))
        order = (func.lower(Customer.name), Customer.id, func.lower(Subscription.name), Subscription.id)
        rows = session().execute(base.order_by(*order).offset(offset).limit(limit)).all()
        return [tuple(row) for row in rows], total or 0


class SubscriptionMappingHistoryDAO:
    """Active and ended subscription mappings (history) and lookups by subscription."""

    @staticmethod
    def active_for_subscription(subscription_id: int) -> SubscriptionMapping | None:
        """The subscription's active mapping, or None."""
        return session().scalar(
            select(SubscriptionMapping).where(
                SubscriptionMapping.subscription_id == subscription_id, SubscriptionMapping.ended_at.is_(None)
            )
        )

    @staticmethod
    def active_subscription_ids(subscription_ids: list[int]) -> dict[int, SubscriptionMapping]:
        """{subscription id: active mapping} among these ids."""
        if not subscription_ids:
            return {}
        rows = session().scalars(
            select(SubscriptionMapping).where(
                SubscriptionMapping.subscription_id.in_(subscription_ids), SubscriptionMapping.ended_at.is_(None)
            )
        )
        return {m.subscription_id: m for m in rows}

    @staticmethod
    def end(mapping: SubscriptionMapping, by: str) -> None:
        """Close an active mapping (kept as history)."""
        mapping.active, mapping.ended_at, mapping.ended_by = False, clock.now(), by
        session().flush()

    @staticmethod
    def history(subscription_id: int) -> list[SubscriptionMapping]:
        """Every mapping of a subscription, newest first."""
        return list(
            session().scalars(
                select(SubscriptionMapping)
                .where(SubscriptionMapping.subscription_id == subscription_id)
                .order_by(SubscriptionMapping.created_at.desc(), SubscriptionMapping.id.desc())
            )
        )
