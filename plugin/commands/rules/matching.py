"""The Matching Products window of one rule: server-side search and paging."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from msphub_psa import permissions
from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.commands.rules import common
from msphub_psa.daos.hub import RuleProductDAO
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor

MAX_PAGE_SIZE = 200
MAX_SEARCH = 100


@dataclass(frozen=True)
class MatchingPage:
    """One page of the products meeting a rule's conditions."""

    rule: engine.Rule
    items: list[Any]
    claimed_by: list[Hashable | None]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.page_size))


class MatchingProductsCommand(BaseCommand):
    """Products meeting a rule's conditions (each flagged when a higher rule classifies it)."""

    def __init__(self, actor: Actor, rule_id: int, page: int = 1, page_size: int = 25, search: str = ""):
        self.actor, self.rule_id, self.page, self.page_size = actor, rule_id, page, page_size
        self.search = (search or "").strip()
        self.partner = self.row = None

    def validate(self) -> None:
        """Scope (read) and sane paging."""
        errors = {}
        if self.page < 1:
            errors["page"] = ["Page must be 1 or more."]
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            errors["page_size"] = [f"Page size must be between 1 and {MAX_PAGE_SIZE}."]
        if len(self.search) > MAX_SEARCH:
            errors["q"] = [f"Search at most {MAX_SEARCH} characters."]
        if errors:
            raise InvalidInputError("Invalid paging or search.", errors)
        self.partner, self.row = common.rule_scope(self.actor, self.rule_id, permissions.READ)

    def run(self) -> MatchingPage:
        """SQL where the fields are plain ASCII, the engine elsewhere; flags from the engine."""
        self.validate()
        rule = common.to_domain(self.row)
        conditions = [(c.field, *engine.canonical_condition(c)) for c in rule.conditions]
        search = engine.normalize(self.search)

        def odd_rows(rows: list) -> list[int]:
            hits = {item.product.id for item in engine.matching(rows, rule, [rule])}
            return [row.id for row in rows if row.id in hits and engine.search_matches(row, search)]

        total, items = RuleProductDAO.window(
            self.partner.distributor_id, conditions, search, odd_rows, self.page, self.page_size
        )
        rules = common.domain_rules(self.partner.id)
        keys = engine.assign(items, rules)
        claimed = [None if key == rule.id else key for key in keys]
        return MatchingPage(rule, items, claimed, total, self.page, self.page_size)
