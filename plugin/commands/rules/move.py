"""Change a custom rule's priority (the others shift; every count follows)."""

from __future__ import annotations

from msphub_psa import permissions
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import ProductRuleDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.models.rules import ProductRule

DIRECTIONS = {"up": -1, "down": 1}


def target_position(current: int, highest: int, priority: int | None, direction: str | None) -> int:
    """The wanted priority from an absolute ``priority`` or ``direction`` up/down.

    :raises InvalidInputError: neither or both given, unknown direction, out of range.
    """
    if (priority is None) == (direction is None):
        raise InvalidInputError(
            "Give either a priority or a direction (up or down).",
            {"priority": ["Give a priority, or a direction instead."]},
        )
    if direction is not None:
        if direction not in DIRECTIONS:
            raise InvalidInputError("Direction must be up or down.", {"direction": ["Use up or down."]})
        return min(max(current + DIRECTIONS[direction], 1), highest)
    return common.check_position(priority, highest)


class MoveRuleCommand(BaseCommand):
    """Move one rule to another priority."""

    def __init__(self, actor: Actor, rule_id: int, priority: int | None = None, direction: str | None = None):
        self.actor, self.rule_id, self.priority, self.direction = actor, rule_id, priority, direction
        self.partner = self.row = None
        self.position = 0

    def validate(self) -> None:
        """Scope and a valid target priority."""
        self.partner, self.row = common.rule_scope(self.actor, self.rule_id, permissions.WRITE)
        highest = ProductRuleDAO.count_for_partner(self.partner.id)
        self.position = target_position(self.row.priority, highest, self.priority, self.direction)

    @transaction
    def run(self) -> ProductRule:
        """Renumber the partner's rules with this one at its new place; audit from/to."""
        self.validate()
        before = self.row.priority
        rows = [r for r in ProductRuleDAO.lock_partner_rules(self.partner.id) if r.id != self.row.id]
        rows.insert(self.position - 1, self.row)
        ProductRuleDAO.renumber(rows)
        if before != self.row.priority:
            audit(
                self.actor,
                "rule.move",
                common.RULE,
                self.row.id,
                partner_id=self.partner.id,
                before={"priority": before},
                after={"priority": self.row.priority},
            )
        return self.row
