"""Product rules, the default rule and the cached ConnectWise procurement lists."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from msphub_psa.daos.base import BaseDAO, session
from msphub_psa.models.directory import PsaListEntry, PsaListRefresh
from msphub_psa.models.rules import ProductDefaultRule, ProductRule


class ProductRuleDAO(BaseDAO[ProductRule]):
    """A partner's custom rules."""

    model_cls = ProductRule

    @staticmethod
    def for_partner(partner_id: int) -> list[ProductRule]:
        """The partner's rules in priority order (ties by id)."""
        query = select(ProductRule).where(ProductRule.partner_id == partner_id)
        return list(session().scalars(query.order_by(ProductRule.priority, ProductRule.id)))

    @staticmethod
    def find_for_partner(partner_id: int, rule_id: int) -> ProductRule | None:
        """One rule of the partner, or None (also for another partner's rule)."""
        return session().scalar(
            select(ProductRule).where(ProductRule.id == rule_id, ProductRule.partner_id == partner_id)
        )

    @staticmethod
    def partner_of(rule_id: int) -> int | None:
        """The partner owning a rule, or None for an unknown id."""
        return session().scalar(select(ProductRule.partner_id).where(ProductRule.id == rule_id))

    @staticmethod
    def lock_partner_rules(partner_id: int) -> list[ProductRule]:
        """The partner's rules, locked for a renumbering (FOR UPDATE where supported)."""
        query = select(ProductRule).where(ProductRule.partner_id == partner_id).with_for_update()
        return list(session().scalars(query.order_by(ProductRule.priority, ProductRule.id)))

    @staticmethod
    def renumber(rules: list[ProductRule]) -> None:
        """Give the rules priorities 1..n in the given order (only the changed ones are written)."""
        for position, rule in enumerate(rules, start=1):
            if rule.priority != position:
                rule.priority = position
        session().flush()

    @staticmethod
    def count_for_partner(partner_id: int) -> int:
        """How many custom rules the partner has."""
        return session().scalar(select(func.count(ProductRule.id)).where(ProductRule.partner_id == partner_id))


class DefaultRuleDAO(BaseDAO[ProductDefaultRule]):
    """The partner's default rule (one row, created on first need)."""

    model_cls = ProductDefaultRule

    @staticmethod
    def for_partner(partner_id: int) -> ProductDefaultRule | None:
        """The stored default rule, or None before its first use."""
        return session().scalar(select(ProductDefaultRule).where(ProductDefaultRule.partner_id == partner_id))


class CwListDAO(BaseDAO[PsaListEntry]):
    """The cached ConnectWise categories, subcategories and product types of a partner."""

    model_cls = PsaListEntry

    @staticmethod
    def for_partner(partner_id: int) -> list[PsaListEntry]:
        """Every cached entry of the partner, by kind and name."""
        query = select(PsaListEntry).where(PsaListEntry.partner_id == partner_id)
        return list(session().scalars(query.order_by(PsaListEntry.kind, PsaListEntry.name, PsaListEntry.remote_id)))

    @staticmethod
    def replace(partner_id: int, entries: list[dict]) -> None:
        """Replace the partner's cached lists with ``entries`` (dicts of the columns)."""
        session().execute(delete(PsaListEntry).where(PsaListEntry.partner_id == partner_id))
        session().add_all(PsaListEntry(partner_id=partner_id, **entry) for entry in entries)
        session().flush()


class PsaListRefreshDAO(BaseDAO[PsaListRefresh]):
    """When the partner's lists were last refreshed."""

    model_cls = PsaListRefresh

    @staticmethod
    def for_partner(partner_id: int) -> PsaListRefresh | None:
        """The refresh state, or None when never requested."""
        return session().scalar(select(PsaListRefresh).where(PsaListRefresh.partner_id == partner_id))

    @classmethod
    def get_or_create(cls, partner_id: int) -> PsaListRefresh:
        """The refresh state, created as ``never`` when missing."""
        return cls.for_partner(partner_id) or cls.create(partner_id=partner_id, status="never")
