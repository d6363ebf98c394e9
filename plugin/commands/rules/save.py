"""Add a custom rule, or edit one (conditions, attributes, priority)."""

from __future__ import annotations

from msphub_psa import clock, permissions
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import ProductRuleDAO
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor
from msphub_psa.models.rules import ProductRule

NEW = "new"


def checked(
    data: common.RuleData, rule_id, rules: list[engine.Rule], partner_id: int, position: int
) -> tuple[engine.Rule, engine.Resolution]:
    """The submitted rule validated by the engine and matched to the cached lists.

    :raises InvalidInputError: with the engine's field errors.
    """
    with common.rule_input():
        rule = engine.Rule(rule_id, position, data.domain_conditions(), data.attributes())
        engine.validate_rule(rule, rules)
        resolution = common.resolved(rule.attributes, partner_id)
    return engine.Rule(rule_id, position, rule.conditions, resolution.attributes), resolution


class SaveRuleCommand(BaseCommand):
    """Create (``rule_id`` None) or edit a custom rule; the others are renumbered 1..n."""

    def __init__(self, actor: Actor, data: common.RuleData, rule_id: int | None = None, partner_id: int | None = None):
        self.actor, self.data, self.rule_id, self.partner_id = actor, data, rule_id, partner_id
        self.partner = self.row = self.rule = self.resolution = None
        self.rules: list[engine.Rule] = []

    def validate(self) -> None:
        """Scope, version, position and the engine's checks (nothing saved when any fails)."""
        if self.rule_id is None:
            self.partner = common.scope(self.actor, self.partner_id, permissions.WRITE)
        else:
            self.partner, self.row = common.rule_scope(self.actor, self.rule_id, permissions.WRITE)
            if self.data.version is not None and self.data.version != self.row.version:
                raise ConflictError("This rule was changed by someone else; reload and try again.")
        self.rules = [common.to_domain(r) for r in ProductRuleDAO.lock_partner_rules(self.partner.id)]
        highest = len(self.rules) + (1 if self.row is None else 0)
        default_position = self.row.priority if self.row is not None else highest
        position = common.check_position(self.data.priority or default_position, highest)
        self.rule, self.resolution = checked(self.data, self.rule_id or NEW, self.rules, self.partner.id, position)

    @transaction
    def run(self) -> ProductRule:
        """Insert or update the row, renumber, audit before/after."""
        self.validate()
        before = common.snapshot(self.row) if self.row is not None else None
        values = {
            "conditions": common.stored_conditions(self.rule.conditions),
            **common.attribute_columns(self.rule.attributes),
            "updated_by_id": self.actor.user_id,
            "updated_at": clock.now(),
        }
        if self.row is None:
            self.row = ProductRuleDAO.create(
                partner_id=self.partner.id, priority=self.rule.priority, created_by_id=self.actor.user_id, **values
            )
        else:
            ProductRuleDAO.update(self.row, **values)
        self._reorder()
        audit(
            self.actor,
            "rule.create" if before is None else "rule.edit",
            common.RULE,
            self.row.id,
            partner_id=self.partner.id,
            before=before,
            after=common.snapshot(self.row),
            will_create=sorted(self.resolution.new),
        )
        return self.row

    def _reorder(self) -> None:
        """Put the saved rule at its priority and number every rule 1..n."""
        rows = [r for r in ProductRuleDAO.for_partner(self.partner.id) if r.id != self.row.id]
        rows.insert(self.rule.priority - 1, self.row)
        ProductRuleDAO.renumber(rows)
