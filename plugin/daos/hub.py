"""Reads of the marketplace slice: the seam where MSP Hub's real tables plug in."""

from __future__ import annotations

from sqlalchemy import LargeBinary, and_, cast, false, func, not_, or_, select, true

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.hub import (
    BillingTransaction,
    Customer,
    Distributor,
    Partner,
    Product,
    Subscription,
)
from msphub_psa.models.tenancy import PartnerFeature


class DistributorDAO(BaseDAO[Distributor]):
    """Distributors."""

    model_cls = Distributor


class PartnerDAO(BaseDAO[Partner]):
    """Partners (tenants)."""

    model_cls = Partner

    @staticmethod
    def list_for_distributor(distributor_id: int | None) -> list[Partner]:
        """Partners of one distributor (all partners for None), by name."""
        query = select(Partner).order_by(Partner.name)
        if distributor_id is not None:
            query = query.where(Partner.distributor_id == distributor_id)
        return list(session().scalars(query))

    @staticmethod
    def ids_of_distributor(distributor_id: int):
        """A subquery of the partner ids of one distributor."""
        return select(Partner.id).where(Partner.distributor_id == distributor_id).scalar_subquery()


class CustomerDAO(BaseDAO[Customer]):
    """Customers of partners."""

    model_cls = Customer

    @staticmethod
    def names_of_pilot() -> list[str]:
        """Customer names of the first partner whose feature is on (the demo's pilot), by id."""
        pilot = (
            select(PartnerFeature.partner_id)
            .where(PartnerFeature.enabled.is_(True))
            .order_by(PartnerFeature.partner_id)
            .limit(1)
            .scalar_subquery()
        )
        return list(session().scalars(select(Customer.name).where(Customer.partner_id == pilot).order_by(Customer.id)))


class ProductDAO(BaseDAO[Product]):
    """Distributor catalog products."""

    model_cls = Product


class SubscriptionDAO(BaseDAO[Subscription]):
    """Customer subscriptions."""

    model_cls = Subscription


class BillingTransactionDAO(BaseDAO[BillingTransaction]):
    """MSP Hub billing lines (read only)."""

    model_cls = BillingTransaction


# --- products a partner's rules classify (Configure Product Defaults) ------------------

WINDOW = ("publisher", "item_type", "product_id", "title")
"""The fields the Matching Products window shows and searches."""
_RULE_COLUMNS = (
    Product.id,
    Product.publisher,
    Product.item_type,
    Product.product_id,
    Product.title,
    Product.billing_term,
    Product.billing_frequency,
)


_ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
"""What ``str.strip()`` removes from ASCII text (``trim`` in SQL strips exactly these)."""


def _regular(column, dialect: str):
    """True where the field is ASCII only: there ``lower(trim(x, <ASCII whitespace>))`` is exactly the
    engine's normalisation (NFC and casefold are identities on ASCII). Byte length = character length is
    the cheapest ASCII test in both databases (a character-class GLOB or regex costs 3-4 times more)."""
    text = func.coalesce(column, "")
    if dialect == "postgresql":
        return func.octet_length(text) == func.char_length(text)
    return func.length(cast(text, LargeBinary)) == func.length(text)


def _like_escape(value: str) -> str:
    """Escape LIKE wildcards with a backslash."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _exact(column, operator: str, value, dialect: str):
    """A canonical condition as SQL, exact on ASCII fields (see :func:`_regular`)."""
    trim = func.btrim if dialect == "postgresql" else func.trim
    folded = func.lower(trim(func.coalesce(column, ""), _ASCII_SPACE))
    if operator == "in":
        ascii_values = sorted(v for v in value if v.isascii())
        return folded.in_(ascii_values) if ascii_values else false()
    if not value.isascii():
        return true() if operator == "not_equals" else false()
    if operator == "equals":
        return folded == value
    if operator == "not_equals":
        return folded != value
    pattern = _like_escape(value) + "%"
    if operator == "starts_with":
        return folded.like(pattern, escape="\\")
    # ``value`` is trimmed, so it lies inside x exactly when it lies inside trim(x); and LIKE folds
    # ASCII case in SQLite (ILIKE in PostgreSQL): no per-row lower/trim needed (twice as fast).
    raw = func.coalesce(column, "")
    return (raw.ilike if dialect == "postgresql" else raw.like)("%" + pattern, escape="\\")


class RuleProductDAO:
    """The products a partner's rules classify: its distributor's ``hub_product`` rows."""

    @staticmethod
    def rows(distributor_id: int) -> list:
        """Every product of the distributor as light rows (id and the rule fields), by id."""
        query = select(*_RULE_COLUMNS).where(Product.distributor_id == distributor_id).order_by(Product.id)
        return list(session().execute(query))

    @staticmethod
    def by_ids(ids: list[int]) -> list:
        """Light rows of these products, by id."""
        return list(session().execute(select(*_RULE_COLUMNS).where(Product.id.in_(ids)).order_by(Product.id)))

    @staticmethod
    def window(distributor_id: int, conditions: list, search: str, python_filter, page: int, page_size: int):
        """(total, rows of one page) of the products meeting ``conditions`` and ``search``.

        ``conditions`` are (field, operator, canonical value); rows whose tested fields are
        ASCII are filtered in SQL (same result as the engine there), the others
        by ``python_filter(rows) -> ids`` (the engine itself), then paged together in SQL.
        """
        dialect = session().get_bind().dialect.name
        fields = {field for field, _op, _value in conditions} | (set(WINDOW) if search else set())
        regular = and_(true(), *(_regular(getattr(Product, f), dialect) for f in sorted(fields)))
        exact = [_exact(getattr(Product, f), op, value, dialect) for f, op, value in conditions]
        if search:
            exact.append(or_(*(_exact(getattr(Product, f), "contains", search, dialect) for f in WINDOW)))
        mine = Product.distributor_id == distributor_id
        odd = list(session().execute(select(*_RULE_COLUMNS).where(mine, not_(regular))))
        odd_ids = python_filter(odd) if odd else []
        where = and_(mine, or_(and_(regular, *exact), *_chunked_in(Product.id, odd_ids)))
        query = (
            select(*_RULE_COLUMNS, func.count().over().label("total"))
            .where(where)
            .order_by(Product.publisher, Product.title, Product.id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
        rows = list(session().execute(query))
        if rows or page == 1:  # one scan: the total rides on every row of the page
            return (rows[0].total if rows else 0), rows
        return session().scalar(select(func.count()).select_from(Product).where(where)), rows


def _chunked_in(column, ids: list[int], size: int = 1000) -> list:
    """``column IN (...)`` clauses of at most ``size`` ids each (none for no ids)."""
    return [column.in_(ids[i : i + size]) for i in range(0, len(ids), size)]
