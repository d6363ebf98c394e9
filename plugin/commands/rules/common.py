"""What the rule commands share: scope checks, conversions and the one error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from msphub_psa import permissions
from msphub_psa.commands.access import partner_of, require_active_integration, require_permission, visible_partner
from msphub_psa.commands.base import audit
from msphub_psa.commands.exceptions import InvalidInputError, NotFoundError
from msphub_psa.daos.hub import PartnerDAO, RuleProductDAO
from msphub_psa.daos.rules import CwListDAO, DefaultRuleDAO, ProductRuleDAO
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.errors import RuleValidationError
from msphub_psa.models.hub import Partner
from msphub_psa.models.rules import ProductDefaultRule, ProductRule

RULE = "product_rule"
DEFAULT_RULE = "product_default_rule"


@dataclass
class RuleData:
    """A rule as submitted: conditions as dicts, the four attributes, an optional priority."""

    conditions: list[dict[str, Any]] = field(default_factory=list)
    category: str = ""
    subcategory: str = ""
    type: str = ""
    product_class: str = ""
    priority: int | None = None
    version: int | None = None

    def attributes(self) -> engine.Attributes:
        """The domain attributes (trimmed names)."""
        return engine.Attributes(
            _text(self.category), _text(self.subcategory), _text(self.type), _text(self.product_class)
        )

    def domain_conditions(self) -> tuple[engine.Condition, ...]:
        """The domain conditions (a list value kept as a tuple)."""
        return tuple(
            engine.Condition(c.get("field", ""), c.get("operator", ""), _value(c.get("value"))) for c in self.conditions
        )


def _text(value: Any) -> str:
    """A submitted name trimmed ("" for None)."""
    return value.strip() if isinstance(value, str) else ("" if value is None else value)


def _value(value: Any) -> Any:
    """A condition value: strings and lists of strings kept, list as tuple."""
    return tuple(value) if isinstance(value, list) else value


@contextmanager
def rule_input(message: str = "The rule was not saved.") -> Iterator[None]:
    """Turn the domain's RuleValidationError into a 400 with its field errors (the one place)."""
    try:
        yield
    except RuleValidationError as err:
        raise InvalidInputError(f"{message} Please correct: {err}", err.errors) from err


def scope(actor: Actor, partner_id: int | None, permission: str) -> Partner:
    """The partner acted on, once tenant, permission, feature and integration allow it.

    :raises NotFoundError: / ForbiddenError: / FeatureDisabledError: / IntegrationInactiveError:
    """
    partner = visible_partner(actor, partner_of(actor, partner_id))
    require_permission(actor, permission, permissions.RULES)
    require_active_integration(partner.id)
    return partner


def rule_scope(actor: Actor, rule_id: int, permission: str) -> tuple[Partner, ProductRule]:
    """The rule and its partner, checked as :func:`scope` (another tenant's rule is 404)."""
    owner = ProductRuleDAO.partner_of(rule_id)
    if owner is None:
        raise NotFoundError(f"Rule {rule_id} not found.")
    try:
        partner = visible_partner(actor, owner)
    except NotFoundError as err:
        raise NotFoundError(f"Rule {rule_id} not found.") from err
    partner = scope(actor, partner.id, permission)
    return partner, ProductRuleDAO.find_for_partner(partner.id, rule_id)


def to_domain(row: ProductRule) -> engine.Rule:
    """A stored rule as the engine's Rule (id = database id)."""
    conditions = tuple(engine.Condition(c["field"], c["operator"], _value(c["value"])) for c in row.conditions)
    return engine.Rule(row.id, row.priority, conditions, attributes_of(row))


def attributes_of(row: ProductRule | ProductDefaultRule) -> engine.Attributes:
    """The attributes of a stored rule or default rule."""
    return engine.Attributes(row.category, row.subcategory, row.product_type, row.product_class)


def stored_conditions(conditions: tuple[engine.Condition, ...]) -> list[dict[str, Any]]:
    """Conditions as stored (JSON): values trimmed, ``in`` lists as lists."""

    def value(c):
        return [v.strip() for v in c.value] if c.operator == "in" else c.value.strip()

    return [{"field": c.field, "operator": c.operator, "value": value(c)} for c in conditions]


def attribute_columns(attributes: engine.Attributes) -> dict[str, str]:
    """Model columns of a set of attributes."""
    return {
        "category": attributes.category,
        "subcategory": attributes.subcategory,
        "product_type": attributes.type,
        "product_class": attributes.product_class,
    }


def cw_lists(partner_id: int) -> engine.CwLists:
    """The partner's cached ConnectWise lists as the engine's CwLists (inactive entries left out)."""
    by_kind: dict[str, list[engine.ListEntry]] = {"category": [], "subcategory": [], "type": []}
    for entry in CwListDAO.for_partner(partner_id):
        if not entry.inactive:
            by_kind[entry.kind].append(engine.ListEntry(entry.remote_id, entry.name, entry.category_remote_id))
    return engine.CwLists(tuple(by_kind["category"]), tuple(by_kind["subcategory"]), tuple(by_kind["type"]))


def resolved(attributes: engine.Attributes, partner_id: int) -> engine.Resolution:
    """Attributes matched against the cache (ConnectWise's spelling; new names flagged)."""
    return engine.resolve_attributes(attributes, cw_lists(partner_id))


def default_rule(actor: Actor, partner_id: int) -> ProductDefaultRule:
    """The partner's default rule, created with the guide's values on first need (audited)."""
    row = DefaultRuleDAO.for_partner(partner_id)
    if row is None:
        row = DefaultRuleDAO.create(partner_id=partner_id, **attribute_columns(engine.GUIDE_DEFAULT))
        audit(
            actor,
            "rule.default.create",
            DEFAULT_RULE,
            row.id,
            partner_id=partner_id,
            reason="first use",
            after=attribute_columns(engine.GUIDE_DEFAULT),
        )
    return row


def products_of(partner: Partner) -> list:
    """The products the partner's rules classify (its distributor's catalog), light rows."""
    return RuleProductDAO.rows(partner.distributor_id)


def domain_rules(partner_id: int) -> list[engine.Rule]:
    """The partner's custom rules as engine Rules, in priority order."""
    return [to_domain(row) for row in ProductRuleDAO.for_partner(partner_id)]


def snapshot(row: ProductRule) -> dict[str, Any]:
    """A rule's values for the audit's before/after."""
    return {"priority": row.priority, "conditions": row.conditions, **attribute_columns(attributes_of(row))}


def partner_by_id(partner_id: int) -> Partner:
    """The partner row (already checked visible)."""
    return PartnerDAO.find_by_id(partner_id)


def placed(rules: list[engine.Rule], rule: engine.Rule, position: int) -> list[engine.Rule]:
    """``rules`` with ``rule`` (new or replacing its id) at ``position`` (1-based), renumbered 1..n."""
    others = [other for other in engine.ordered(rules) if other.id != rule.id]
    others.insert(max(0, min(position, len(others) + 1) - 1), rule)
    return renumbered(others)


def renumbered(rules: list[engine.Rule]) -> list[engine.Rule]:
    """The rules in their list order with priorities 1..n."""
    return [replace(rule, priority=position) for position, rule in enumerate(rules, start=1)]


def check_position(position: int | None, highest: int) -> int:
    """A wanted priority within 1..highest (None means last).

    :raises InvalidInputError: outside the range.
    """
    if position is None:
        return highest
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= highest:
        raise InvalidInputError(
            f"Priority must be between 1 and {highest}.", {"priority": [f"Choose a priority between 1 and {highest}."]}
        )
    return position
