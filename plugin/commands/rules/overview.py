"""Read the Product Defaults page: default rule, custom rules with their counts, list status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from msphub_psa import permissions
from msphub_psa.commands.base import BaseCommand, transaction
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import PsaListRefreshDAO
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor
from msphub_psa.models.directory import PsaListRefresh
from msphub_psa.models.rules import ProductDefaultRule, ProductRule


@dataclass
class RuleView:
    """One custom rule as the page, API and CLI show it."""

    row: ProductRule
    rule: engine.Rule
    count: int
    new: frozenset[str]
    descriptions: list[str] = field(default_factory=list)


@dataclass
class Overview:
    """Everything the Product Defaults page shows."""

    partner_id: int
    default: ProductDefaultRule
    default_count: int
    default_new: frozenset[str]
    rules: list[RuleView]
    total_products: int
    lists: engine.CwLists
    refresh: PsaListRefresh | None
    can_write: bool
    extra: dict[str, Any] = field(default_factory=dict)


class RulesOverviewCommand(BaseCommand):
    """The partner's rules in priority order, each with the products it actually classifies."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor = actor
        self.partner_id = partner_id
        self.partner = None

    def validate(self) -> None:
        """Tenant, read permission, feature and active integration."""
        self.partner = common.scope(self.actor, self.partner_id, permissions.READ)

    @transaction
    def run(self) -> Overview:
        """Count with the engine over the distributor's products (default rule created on first need)."""
        self.validate()
        partner_id = self.partner.id
        default = common.default_rule(self.actor, partner_id)
        rows = common.ProductRuleDAO.for_partner(partner_id)
        rules = [common.to_domain(row) for row in rows]
        products = common.products_of(self.partner)
        counted = engine.counts(products, rules)
        lists = common.cw_lists(partner_id)
        views = [
            RuleView(
                row,
                rule,
                counted[rule.id],
                new_names(rule.attributes, lists),
                [engine.describe(c) for c in rule.conditions],
            )
            for row, rule in zip(rows, rules, strict=True)
        ]
        return Overview(
            partner_id,
            default,
            counted[engine.DEFAULT_KEY],
            new_names(common.attributes_of(default), lists),
            views,
            len(products),
            lists,
            PsaListRefreshDAO.for_partner(partner_id),
            self.actor.can(permissions.WRITE, permissions.RULES),
        )


def new_names(attributes: engine.Attributes, lists: engine.CwLists) -> frozenset[str]:
    """Names ConnectWise lacks; a stored subcategory now listed only elsewhere counts as new here."""
    try:
        return engine.resolve_attributes(attributes, lists).new
    except engine.RuleValidationError:
        return frozenset({"subcategory"})
