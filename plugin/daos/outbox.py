"""The billing push's queries: eligibility, the outbox and its transitions, runs, the lease, catalog cache.

Eligible (docs/billing.md): the customer has an active mapping, the subscription an active mapping,
the period ends on or after the From Date, and the transaction is not pushed. A charge whose
period starts after its subscription's end date is never eligible (a cancelled subscription is
not billed after its end). DAOs only flush; the push command commits per batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, delete, func, or_, select, update

from msphub_psa import clock
from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import CHUNK, insert_rows
from msphub_psa.domain.billing import net_amount, signed_amount
from msphub_psa.models.directory import PsaAgreement
from msphub_psa.models.hub import BillingTransaction as Tx
from msphub_psa.models.hub import Product, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.sync import CatalogSync, SyncItem, SyncLease, SyncRun, SyncTransition

ACTIVE_MAPPING = and_(
    SubscriptionMapping.subscription_id == Tx.subscription_id,
    SubscriptionMapping.ended_at.is_(None),
    SubscriptionMapping.active.is_(True),
)
"""A transaction's subscription's active mapping (the join condition)."""

PUSHED, PENDING, SENDING, FAILED, SKIPPED = "pushed", "pending", "sending", "failed", "skipped"
MOVING, REMOVING, BLOCKED = "moving", "removing", "blocked"
ABANDONED = "The worker stopped before the run finished (its lease expired); it ended at its last heartbeat."


@dataclass(frozen=True)
class Target:
    """Where an eligible transaction goes: its agreement's ConnectWise id."""

    transaction_id: int
    customer_id: int
    subscription_id: int
    kind: str
    agreement_remote_id: int


def _mapped_join(query):
    """Join transactions with their active customer and subscription mappings and the agreement."""
    return (
        query.join(Subscription, Subscription.id == Tx.subscription_id)
        .join(CustomerMapping, and_(CustomerMapping.customer_id == Tx.customer_id, CustomerMapping.ended_at.is_(None)))
        .join(
            SubscriptionMapping,
            ACTIVE_MAPPING,
        )
        .join(PsaAgreement, PsaAgreement.id == SubscriptionMapping.agreement_id)
    )


def _targets():
    """Transactions with their mappings and the columns of a ``Target``."""
    return _mapped_join(
        select(Tx.id, Tx.customer_id, Tx.subscription_id, Tx.kind, PsaAgreement.remote_id).select_from(Tx)
    )


def _eligible_where():
    """The From Date and cancelled-subscription conditions."""
    return (
        Tx.period_end >= SubscriptionMapping.from_date,
        or_(Tx.kind == "credit", Subscription.end_date.is_(None), Tx.period_start <= Subscription.end_date),
    )


def _not_pushed():
    """No outbox row of the transaction is pushed."""
    pushed = select(SyncItem.id).where(SyncItem.transaction_id == Tx.id, SyncItem.state == PUSHED)
    return ~pushed.exists()


class OutboxDAO:
    """Eligibility and the outbox rows."""

    @staticmethod
    def eligible(partner_id: int, transaction_ids: list[int] | None = None) -> dict[int, Target]:
        """Eligible, not pushed transactions of the partner (or of some ids), with their target."""
        query = _targets().where(Tx.partner_id == partner_id, *_eligible_where(), _not_pushed())
        if transaction_ids is not None:
            query = query.where(Tx.id.in_(transaction_ids))
        return {row[0]: Target(*row) for row in session().execute(query)}

    @staticmethod
    def targets(partner_id: int, transaction_ids: list[int]) -> dict[int, Target]:
        """``eligible`` for transactions whose outbox row the caller holds pending or skipped (a batch, a chunk).

        No "not pushed" test: a transaction has one outbox row (unique), and that row is not pushed. Driven
        by the transaction ids (primary key), so its cost follows the batch, not the partner's history.
        """
        if not transaction_ids:
            return {}
        query = _targets().where(Tx.id.in_(transaction_ids), Tx.partner_id == partner_id, *_eligible_where())
        return {row[0]: Target(*row) for row in session().execute(query)}

    @staticmethod
    def items(partner_id: int, states: tuple[str, ...]) -> list[SyncItem]:
        """The partner's outbox rows in these states, by transaction id."""
        return list(
            session().scalars(
                select(SyncItem)
                .where(SyncItem.partner_id == partner_id, SyncItem.state.in_(states))
                .order_by(SyncItem.transaction_id)
            )
        )

    @staticmethod
    def ids_after(partner_id: int, state: str, after: int, limit: int) -> list[int]:
        """A chunk of the ids of the partner's rows in one state: ids above ``after``, ascending.

        Rows are created in transaction order, so id order is transaction order for new rows.
        """
        return list(
            session().scalars(
                select(SyncItem.id)
                .where(SyncItem.partner_id == partner_id, SyncItem.state == state, SyncItem.id > after)
                .order_by(SyncItem.id)
                .limit(limit)
            )
        )

    @staticmethod
    def blocked_with(partner_id: int, codes: frozenset[str]) -> list[SyncItem]:
        """The partner's rows blocked by one of these checks, by id."""
        query = select(SyncItem).where(
            SyncItem.partner_id == partner_id, SyncItem.state == BLOCKED, SyncItem.last_error_code.in_(codes)
        )
        return list(session().scalars(query.order_by(SyncItem.id)))

    @staticmethod
    def agreement_ids(partner_id: int, skip_codes: frozenset[str] = frozenset()) -> list[int]:
        """The distinct target agreements (PSA ids) of the partner's pending rows and of its blocked rows but those
        blocked by one of ``skip_codes`` (one query)."""
        blocked = and_(
            SyncItem.state == BLOCKED,
            or_(SyncItem.last_error_code.is_(None), SyncItem.last_error_code.not_in(skip_codes)),
        )
        query = (
            select(SyncItem.agreement_remote_id)
            .where(
                SyncItem.partner_id == partner_id,
                or_(SyncItem.state == PENDING, blocked),
                SyncItem.agreement_remote_id.is_not(None),
            )
            .distinct()
        )
        return sorted(session().scalars(query))

    @staticmethod
    def get_many(item_ids: list[int], lock: bool = False) -> list[SyncItem]:
        """Some rows by id, ascending (FOR UPDATE on PostgreSQL when ``lock``; one query)."""
        if not item_ids:
            return []
        query = select(SyncItem).where(SyncItem.id.in_(item_ids)).order_by(SyncItem.id)
        return list(session().scalars(query.with_for_update() if lock else query))

    @staticmethod
    def eligible_new(partner_id: int, after: int, limit: int) -> list[Target]:
        """A chunk of eligible transactions that have no outbox row yet: ids above ``after``, ascending."""
        has_row = select(SyncItem.id).where(SyncItem.transaction_id == Tx.id).exists()
        query = _targets().where(Tx.partner_id == partner_id, Tx.id > after, *_eligible_where(), ~has_row)
        return [Target(*row) for row in session().execute(query.order_by(Tx.id).limit(limit))]

    @staticmethod
    def follow_page(partner_id: int, states: tuple[str, ...], after: int, limit: int) -> list:
        """A chunk of (id, transaction_id, state, agreement_remote_id) of rows in these states, ids above ``after``."""
        return list(
            session().execute(
                select(SyncItem.id, SyncItem.transaction_id, SyncItem.state, SyncItem.agreement_remote_id)
                .where(SyncItem.partner_id == partner_id, SyncItem.state.in_(states), SyncItem.id > after)
                .order_by(SyncItem.id)
                .limit(limit)
            )
        )

    @staticmethod
    def check_page(partner_id: int, states: tuple[str, ...], after: int, limit: int) -> list:
        """A chunk of rows in these states, ids above ``after``, with what the pre-flight checks read (one query, no
        ORM objects): the row's ``item_id``, ``state``, ``last_error_code``, ``agreement_remote_id``, the transaction's
        ``id``, ``kind``, ``quantity``, ``unit_price``, ``amount``, ``period_start``, ``period_end``, its
        product's ``product_id`` and ``billing_frequency``, and its subscription's active mapping's ``mapped`` (False:
        none) and ``mismatch_accepted``."""
        page = (  # the chunk first, then its joins: never the joins of every row after ``after`` (stale statistics)
            select(SyncItem.id)
            .where(SyncItem.partner_id == partner_id, SyncItem.state.in_(states), SyncItem.id > after)
            .order_by(SyncItem.id)
            .limit(limit)
            .subquery()
        )
        query = (
            select(
                SyncItem.id.label("item_id"),
                SyncItem.state,
                SyncItem.last_error_code,
                SyncItem.agreement_remote_id,
                Tx.id,
                Tx.kind,
                Tx.quantity,
                Tx.unit_price,
                Tx.amount,
                Tx.period_start,
                Tx.period_end,
                Product.id.label("product_id"),
                Product.billing_frequency,
                SubscriptionMapping.id.is_not(None).label("mapped"),
                SubscriptionMapping.mismatch_accepted,
            )
            .join(page, page.c.id == SyncItem.id)
            .join(Tx, Tx.id == SyncItem.transaction_id)
            .join(Subscription, Subscription.id == Tx.subscription_id)
            .join(Product, Product.id == Subscription.product_id)
            .outerjoin(SubscriptionMapping, ACTIVE_MAPPING)
            .order_by(SyncItem.id)
        )
        return list(session().execute(query))

    @staticmethod
    def created_rows(transaction_ids: list[int]) -> list:
        """(id, partner_id, state) of the rows of some transactions (for ``record_created``)."""
        if not transaction_ids:
            return []
        return list(
            session().execute(
                select(SyncItem.id, SyncItem.partner_id, SyncItem.state).where(
                    SyncItem.transaction_id.in_(transaction_ids)
                )
            )
        )

    @staticmethod
    def item_ids(partner_id: int, state: str) -> list[int]:
        """Ids of the partner's rows in one state, in transaction order (the move step, an approved preview)."""
        return list(
            session().scalars(
                select(SyncItem.id)
                .where(SyncItem.partner_id == partner_id, SyncItem.state == state)
                .order_by(SyncItem.transaction_id)
            )
        )

    @staticmethod
    def add_pending(rows: list[dict]) -> None:
        """Insert new pending rows (plain dicts)."""
        insert_rows(SyncItem, rows)
        session().flush()

    @staticmethod
    def get(item_id: int, lock: bool = False) -> SyncItem | None:
        """One row (FOR UPDATE on PostgreSQL when ``lock``)."""
        query = select(SyncItem).where(SyncItem.id == item_id)
        return session().scalar(query.with_for_update() if lock else query)

    @staticmethod
    def of_subscription(subscription_id: int, lock: bool = False) -> list[SyncItem]:
        """A subscription's rows by transaction (FOR UPDATE on PostgreSQL when ``lock``)."""
        query = select(SyncItem).where(SyncItem.subscription_id == subscription_id).order_by(SyncItem.transaction_id)
        return list(session().scalars(query.with_for_update() if lock else query))

    @staticmethod
    def in_partner(partner_id: int, item_id: int) -> SyncItem | None:
        """A row of the partner, or None (another tenant's id is unknown)."""
        return session().scalar(select(SyncItem).where(SyncItem.id == item_id, SyncItem.partner_id == partner_id))

    @staticmethod
    def set_state(
        item: SyncItem,
        state: str,
        event: str,
        *,
        by_run: int | None,
        actor: str = "system",
        detail: str | None = None,
        flush: bool = True,
        **values,
    ) -> None:
        """Move a row to ``state`` (already checked by the domain) and record the transition
        (``flush=False``: a batch flushes once at its end)."""
        session().add(
            SyncTransition(
                item_id=item.id,
                partner_id=item.partner_id,
                from_state=item.state,
                to_state=state,
                event=event,
                run_id=by_run,
                actor=actor,
                detail=detail,
            )
        )
        item.state = state
        for key, value in values.items():
            setattr(item, key, value)
        if flush:
            session().flush()

    @staticmethod
    def record_created(rows: list, run_id: int | None) -> None:
        """Record the creation of new rows as transitions (none → pending)."""
        insert_rows(
            SyncTransition,
            [
                {
                    "item_id": r.id,
                    "partner_id": r.partner_id,
                    "from_state": None,
                    "to_state": r.state,
                    "event": "created",
                    "run_id": run_id,
                    "actor": "system",
                    "at": clock.now(),
                }
                for r in rows
            ],
        )
        session().flush()

    @staticmethod
    def transitions(item_id: int) -> list[SyncTransition]:
        """A row's transitions, oldest first."""
        return list(
            session().scalars(
                select(SyncTransition).where(SyncTransition.item_id == item_id).order_by(SyncTransition.id)
            )
        )

    @staticmethod
    def state_counts(partner_id: int) -> dict[str, int]:
        """Rows per state."""
        rows = session().execute(
            select(SyncItem.state, func.count()).where(SyncItem.partner_id == partner_id).group_by(SyncItem.state)
        )
        return {state: count for state, count in rows}

    @staticmethod
    def failed_page(partner_id: int, limit: int = 50) -> list[tuple[SyncItem, Tx]]:
        """The partner's failed rows with their transactions (newest failures first)."""
        query = (
            select(SyncItem, Tx)
            .join(Tx, Tx.id == SyncItem.transaction_id)
            .where(SyncItem.partner_id == partner_id, SyncItem.state == FAILED)
            .order_by(SyncItem.updated_at.desc())
            .limit(limit)
        )
        return list(session().execute(query))


class PushDataDAO:
    """What the payloads need: transactions with their products."""

    @staticmethod
    def transactions(transaction_ids: list[int]) -> dict[int, tuple[Tx, Product]]:
        """Transactions with their subscription's product."""
        if not transaction_ids:
            return {}
        query = (
            select(Tx, Product)
            .join(Subscription, Subscription.id == Tx.subscription_id)
            .join(Product, Product.id == Subscription.product_id)
            .where(Tx.id.in_(transaction_ids))
        )
        return {tx.id: (tx, product) for tx, product in session().execute(query)}

    @staticmethod
    def fits(transaction_ids: list[int]) -> dict[int, tuple[str | None, bool]]:
        """{transaction: (its product's billing frequency, whether its mapping accepts a billing cycle mismatch)}
        through the subscription's active mapping, 1,000 ids a query."""
        result: dict[int, tuple[str | None, bool]] = {}
        for start in range(0, len(transaction_ids), CHUNK):
            query = (
                select(Tx.id, Product.billing_frequency, SubscriptionMapping.mismatch_accepted)
                .join(Subscription, Subscription.id == Tx.subscription_id)
                .join(Product, Product.id == Subscription.product_id)
                .join(
                    SubscriptionMapping,
                    ACTIVE_MAPPING,
                )
                .where(Tx.id.in_(transaction_ids[start : start + CHUNK]))
            )
            result.update(
                {tx_id: (frequency, bool(accepted)) for tx_id, frequency, accepted in session().execute(query)}
            )
        return result

    @staticmethod
    def products_of(transaction_ids: list[int]) -> list[Product]:
        """The distinct products of some transactions (any number of ids: queried in chunks)."""
        found: dict[int, Product] = {}
        for start in range(0, len(transaction_ids), CHUNK):
            query = (
                select(Product)
                .join(Subscription, Subscription.product_id == Product.id)
                .join(Tx, Tx.subscription_id == Subscription.id)
                .where(Tx.id.in_(transaction_ids[start : start + CHUNK]))
                .distinct()
            )
            found.update((p.id, p) for p in session().scalars(query))
        return sorted(found.values(), key=lambda p: p.id)

    @staticmethod
    def pending_products(partner_id: int, blocked_codes: frozenset[str] = frozenset()) -> list[Product]:
        """The distinct products of the partner's pending outbox rows, and of its rows blocked with one of
        ``blocked_codes`` (the catalog's checks, made again by the catalog step; one query)."""
        waiting = SyncItem.state == PENDING
        if blocked_codes:
            waiting = or_(waiting, and_(SyncItem.state == BLOCKED, SyncItem.last_error_code.in_(blocked_codes)))
        query = (
            select(Product)
            .join(Subscription, Subscription.product_id == Product.id)
            .join(SyncItem, SyncItem.subscription_id == Subscription.id)
            .where(SyncItem.partner_id == partner_id, waiting)
            .distinct()
        )
        return sorted(session().scalars(query), key=lambda p: p.id)

    @staticmethod
    def distributor_product_keys(distributor_id: int) -> list[tuple[str, str, str]]:
        """(product id, term, frequency) of all the distributor's products (catalog identity)."""
        return [
            tuple(row)
            for row in session().execute(
                select(Product.product_id, Product.billing_term, Product.billing_frequency).where(
                    Product.distributor_id == distributor_id
                )
            )
        ]


class CatalogSyncDAO:
    """The per-partner cache of ConnectWise catalog items (or refusals) per hub product."""

    @staticmethod
    def for_products(partner_id: int, product_ids: list[int]) -> dict[int, CatalogSync]:
        """Cached rows of some products."""
        if not product_ids:
            return {}
        rows = session().scalars(
            select(CatalogSync).where(CatalogSync.partner_id == partner_id, CatalogSync.product_id.in_(product_ids))
        )
        return {row.product_id: row for row in rows}

    @staticmethod
    def record(partner_id: int, product_id: int, **values) -> CatalogSync:
        """Create or update the product's row."""
        row = session().scalar(
            select(CatalogSync).where(CatalogSync.partner_id == partner_id, CatalogSync.product_id == product_id)
        )
        if row is None:
            row = CatalogSync(partner_id=partner_id, product_id=product_id, **values)
            session().add(row)
        else:
            for key, value in {**values, "synced_at": clock.now()}.items():
                setattr(row, key, value)
        session().flush()
        return row

    @staticmethod
    def refused(partner_id: int) -> list[CatalogSync]:
        """Products ConnectWise refused."""
        return list(
            session().scalars(
                select(CatalogSync).where(CatalogSync.partner_id == partner_id, CatalogSync.status == "refused")
            )
        )


class SyncRunDAO:
    """Run records."""

    @staticmethod
    def create(**values) -> SyncRun:
        """A new run."""
        run = SyncRun(**values)
        session().add(run)
        session().flush()
        return run

    @staticmethod
    def get(run_id: int) -> SyncRun | None:
        """One run."""
        return session().get(SyncRun, run_id)

    @staticmethod
    def delete(run_id: int) -> None:
        """Delete a run record that did nothing (no row, transition or call refers to it)."""
        session().execute(delete(SyncRun).where(SyncRun.id == run_id).execution_options(synchronize_session=False))

    @staticmethod
    def in_partner(partner_id: int, run_id: int) -> SyncRun | None:
        """A run of the partner, or None."""
        return session().scalar(select(SyncRun).where(SyncRun.id == run_id, SyncRun.partner_id == partner_id))

    @staticmethod
    def recent(partner_id: int, limit: int = 20) -> list[SyncRun]:
        """The partner's latest runs, newest first."""
        return list(
            session().scalars(
                select(SyncRun).where(SyncRun.partner_id == partner_id).order_by(SyncRun.id.desc()).limit(limit)
            )
        )

    @staticmethod
    def abandon(run_id: int | None) -> bool:
        """Mark a run whose lease expired while running as abandoned (compare-and-set), ended at its last
        heartbeat; False when it was not running."""
        if run_id is None:
            return False
        done = session().execute(
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.status == "running")
            .values(
                status="abandoned",
                finished_at=func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at),
                error=ABANDONED,
            )
            .execution_options(synchronize_session=False)
        )
        session().flush()
        return done.rowcount == 1


class SyncLeaseDAO:
    """One push per partner at a time: a database row lease with an expiry."""

    @staticmethod
    def ensure(partner_id: int) -> SyncLease:
        """The partner's lease row (created free on first need)."""
        row = session().scalar(select(SyncLease).where(SyncLease.partner_id == partner_id))
        if row is None:
            row = SyncLease(partner_id=partner_id)
            session().add(row)
            session().flush()
        return row

    @staticmethod
    def acquire(partner_id: int, token: str, seconds: float) -> tuple[bool, int | None]:
        """Take the lease when free or expired (compare-and-set); (taken, the previous holder's run id)."""
        now = clock.now()
        lease = session().scalar(select(SyncLease).where(SyncLease.partner_id == partner_id))
        previous = lease.run_id if lease is not None else None
        taken = (
            session()
            .execute(
                update(SyncLease)
                .where(SyncLease.partner_id == partner_id, or_(SyncLease.holder.is_(None), SyncLease.expires_at < now))
                .values(holder=token, expires_at=now + dt.timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            )
            .rowcount
            == 1
        )
        return taken, previous

    @staticmethod
    def renew(partner_id: int, token: str, seconds: float, run_id: int | None = None) -> bool:
        """Extend our lease; False when it is no longer ours."""
        values = {"expires_at": clock.now() + dt.timedelta(seconds=seconds)}
        if run_id is not None:
            values["run_id"] = run_id
        return (
            session()
            .execute(
                update(SyncLease)
                .where(SyncLease.partner_id == partner_id, SyncLease.holder == token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            .rowcount
            == 1
        )

    @staticmethod
    def release(partner_id: int, token: str, run_id: int | None = None) -> None:
        """Free our lease (with ``run_id``: naming that run as the lease's last one)."""
        values: dict = {"holder": None, "expires_at": None}
        if run_id is not None:
            values["run_id"] = run_id
        session().execute(
            update(SyncLease)
            .where(SyncLease.partner_id == partner_id, SyncLease.holder == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def is_held(partner_id: int) -> bool:
        """True while a run holds an unexpired lease."""
        return (
            session().scalar(
                select(SyncLease.id).where(
                    SyncLease.partner_id == partner_id,
                    SyncLease.holder.is_not(None),
                    SyncLease.expires_at >= clock.now(),
                )
            )
            is not None
        )

    @staticmethod
    def expire(partner_id: int, run_id: int) -> None:
        """Free the partner's lease when it is still the run's and has expired (a late renewal then fails)."""
        session().execute(
            update(SyncLease)
            .where(SyncLease.partner_id == partner_id, SyncLease.run_id == run_id, SyncLease.expires_at < clock.now())
            .values(holder=None, expires_at=None)
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def expired_runs() -> list[int]:
        """Ids of runs still ``running`` whose lease has expired or moved on (their worker died)."""
        live = and_(SyncLease.run_id == SyncRun.id, SyncLease.holder.is_not(None), SyncLease.expires_at >= clock.now())
        query = (
            select(SyncRun.id)
            .outerjoin(SyncLease, SyncLease.partner_id == SyncRun.partner_id)
            .where(SyncRun.status == "running", or_(SyncLease.id.is_(None), ~live))
            .order_by(SyncRun.id)
        )
        return list(session().scalars(query))

    @staticmethod
    def partners_with_stale_sending() -> list[int]:
        """Partners with rows in ``sending`` or ``removing``, but those whose run is still ``running`` under a live
        lease (it finishes them, or the tick resumes it once the lease has expired).

        For the worker's start.
        """
        live = (
            select(SyncLease.partner_id)
            .join(SyncRun, SyncRun.id == SyncLease.run_id)
            .where(SyncLease.holder.is_not(None), SyncLease.expires_at >= clock.now(), SyncRun.status == "running")
        )
        query = select(SyncItem.partner_id).where(
            SyncItem.state.in_((SENDING, REMOVING)), SyncItem.partner_id.not_in(live)
        )
        return list(session().scalars(query.distinct()))


def _money(rows) -> Decimal:
    """Net of (kind, amount) rows."""
    return net_amount((kind, Decimal(amount)) for kind, amount in rows)


class SyncFiguresDAO:
    """The Reconciliation Center's Pending push and Failed figures, and each subscription's status."""

    @staticmethod
    def pending_push(partner_id: int, since: dt.date | None = None) -> tuple[int, Decimal]:
        """Count and net of eligible transactions not pushed, not failed and not blocked (billing month from
        ``since``)."""
        failed = (
            select(SyncItem.id).where(SyncItem.transaction_id == Tx.id, SyncItem.state.in_((FAILED, BLOCKED))).exists()
        )
        query = _mapped_join(select(Tx.kind, Tx.amount).select_from(Tx)).where(
            Tx.partner_id == partner_id, *_eligible_where(), _not_pushed(), ~failed
        )
        if since is not None:
            query = query.where(Tx.period_start >= since)
        rows = session().execute(query).all()
        return len(rows), _money(rows)

    @staticmethod
    def blocked(partner_id: int, since: dt.date | None = None) -> list[tuple]:
        """(item id, transaction id, kind, amount, agreement, customer, code, message) of the partner's blocked
        rows, by transaction (billing month from ``since``)."""
        query = (
            select(
                SyncItem.id,
                Tx.id,
                Tx.kind,
                Tx.amount,
                SyncItem.agreement_remote_id,
                SyncItem.customer_id,
                SyncItem.last_error_code,
                SyncItem.last_error_message,
            )
            .join(SyncItem, SyncItem.transaction_id == Tx.id)
            .where(SyncItem.partner_id == partner_id, SyncItem.state == BLOCKED)
            .order_by(Tx.id)
        )
        if since is not None:
            query = query.where(Tx.period_start >= since)
        return list(session().execute(query))

    @staticmethod
    def failed(partner_id: int, since: dt.date | None = None) -> tuple[int, Decimal]:
        """Count and net of transactions whose push failed."""
        query = (
            select(Tx.kind, Tx.amount)
            .join(SyncItem, SyncItem.transaction_id == Tx.id)
            .where(SyncItem.partner_id == partner_id, SyncItem.state == FAILED)
        )
        if since is not None:
            query = query.where(Tx.period_start >= since)
        rows = session().execute(query).all()
        return len(rows), _money(rows)

    @staticmethod
    def pushed_by_month(partner_id: int, since: dt.date) -> dict[dt.date, Decimal]:
        """Net pushed per billing month (month of the period start) from ``since``."""
        query = (
            select(Tx.period_start, Tx.kind, Tx.amount)
            .join(SyncItem, SyncItem.transaction_id == Tx.id)
            .where(SyncItem.partner_id == partner_id, SyncItem.state == PUSHED, Tx.period_start >= since)
        )
        result: dict[dt.date, Decimal] = {}
        for start, kind, amount in session().execute(query):
            month = start.replace(day=1)
            result[month] = result.get(month, Decimal(0)) + signed_amount(kind, Decimal(amount))
        return result


def subscription_sync_status(partner_id: int, subscription_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Each subscription's sync status from the outbox: (status, reason).

    ``failed`` (with ConnectWise's code and message of its latest failure) when any row failed;
    else ``moving`` when pushed rows wait to move to the new agreement (moving or removing);
    else ``pending`` when any row waits (pending, sending or blocked; the reason says why it waits, e.g.
    its product was refused, or the pre-flight check that blocks it); else ``synced`` when rows exist
    and all are pushed (skipped rows aside); else ``none`` (nothing to push yet). Subscriptions of other
    partners answer ``none``.
    """
    result = {sub_id: ("none", None) for sub_id in subscription_ids}
    if not subscription_ids:
        return result
    rows = (
        session()
        .execute(
            select(
                SyncItem.subscription_id,
                SyncItem.state,
                SyncItem.last_error_code,
                SyncItem.last_error_message,
                SyncItem.reason,
            )
            .where(SyncItem.partner_id == partner_id, SyncItem.subscription_id.in_(subscription_ids))
            .order_by(SyncItem.updated_at)
        )
        .all()
    )
    by_sub: dict[int, list] = {}
    for row in rows:
        by_sub.setdefault(row[0], []).append(row)
    for sub_id, items in by_sub.items():
        result[sub_id] = _status_of(items)
    return result


def _status_of(items: list) -> tuple[str, str | None]:
    """The status of one subscription's rows (ordered oldest update first)."""
    failed = [r for r in items if r[1] == FAILED]
    if failed:
        last = failed[-1]
        return "failed", f"{last[2]}: {last[3]}" if last[2] else last[3]
    moving = [r for r in items if r[1] in (MOVING, REMOVING)]
    if moving:
        return "moving", (
            f"{len(moving)} transaction(s) already pushed wait to be removed from the old agreement "
            "and pushed to the new one at the next push."
        )
    waiting = [r for r in items if r[1] in (PENDING, SENDING, BLOCKED)]
    if waiting:
        reasons = [r for r in waiting if r[3]]
        return "pending", (
            f"{reasons[-1][2]}: {reasons[-1][3]}"
            if reasons and reasons[-1][2]
            else (reasons[-1][3] if reasons else None)
        )
    if any(r[1] == PUSHED for r in items):
        return "synced", None
    skipped = [r for r in items if r[1] == SKIPPED]
    return ("none", skipped[-1][4]) if skipped else ("none", None)
