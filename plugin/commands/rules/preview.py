"""Before saving: how the counts would move if a rule were added, edited, moved or deleted."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from msphub_psa import permissions
from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.commands.rules import common
from msphub_psa.commands.rules.move import target_position
from msphub_psa.commands.rules.save import NEW, checked
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor

ACTIONS = ("create", "edit", "move", "delete")


@dataclass(frozen=True)
class MoveView:
    """``count`` products change from ``source`` to ``target`` (keys and labels)."""

    source: Hashable
    source_label: str
    target: Hashable
    target_label: str
    count: int

    @property
    def text(self) -> str:
        """E.g. "12 products move from Default Rule to this rule"."""
        noun = "product moves" if self.count == 1 else "products move"
        return f"{self.count} {noun} from {self.source_label} to {self.target_label}"


@dataclass(frozen=True)
class Preview:
    """The moves (largest first), and every count after the change."""

    moves: list[MoveView]
    counts: dict[Hashable, int]
    new: frozenset[str]
    subject: Hashable


class PreviewRuleChangeCommand(BaseCommand):
    """Compute, without saving, what a change to the rules does to the counts."""

    def __init__(
        self,
        actor: Actor,
        action: str,
        data: common.RuleData | None = None,
        rule_id: int | None = None,
        partner_id: int | None = None,
        direction: str | None = None,
    ):
        self.actor, self.action, self.data, self.rule_id = actor, action, data or common.RuleData(), rule_id
        self.partner_id, self.direction = partner_id, direction
        self.partner = self.row = None
        self.after: list[engine.Rule] = []
        self.new: frozenset[str] = frozenset()

    def validate(self) -> None:
        """Scope (read), then build the rules after the change with the same checks as saving."""
        if self.action not in ACTIONS:
            raise InvalidInputError(
                f"Unknown action; use one of: {', '.join(ACTIONS)}.", {"action": [f"Use one of: {', '.join(ACTIONS)}."]}
            )
        if self.action == "create":
            self.partner = common.scope(self.actor, self.partner_id, permissions.READ)
        else:
            self.partner, self.row = common.rule_scope(self.actor, self.rule_id or 0, permissions.READ)
        self.before = common.domain_rules(self.partner.id)
        self.after = getattr(self, f"_after_{self.action}")()

    def _after_create(self) -> list[engine.Rule]:
        """The rules with the submitted new rule placed."""
        position = common.check_position(self.data.priority, len(self.before) + 1)
        rule, resolution = checked(self.data, NEW, self.before, self.partner.id, position)
        self.new = resolution.new
        return common.placed(self.before, rule, position)

    def _after_edit(self) -> list[engine.Rule]:
        """The rules with the edited rule replaced (and placed)."""
        position = common.check_position(self.data.priority or self.row.priority, len(self.before))
        rule, resolution = checked(self.data, self.row.id, self.before, self.partner.id, position)
        self.new = resolution.new
        return common.placed(self.before, rule, position)

    def _after_move(self) -> list[engine.Rule]:
        """The rules with this one at its new priority."""
        position = target_position(self.row.priority, len(self.before), self.data.priority, self.direction)
        return common.placed(self.before, common.to_domain(self.row), position)

    def _after_delete(self) -> list[engine.Rule]:
        """The rules without this one."""
        return common.renumbered([rule for rule in self.before if rule.id != self.row.id])

    def run(self) -> Preview:
        """Moves and counts from the engine over the distributor's products (read only)."""
        self.validate()
        products = common.products_of(self.partner)
        subject = NEW if self.action == "create" else self.row.id
        labels = _labels(self.before + self.after, subject, self.action)
        moves = [
            MoveView(m.source, labels[m.source], m.target, labels[m.target], m.count)
            for m in engine.preview_change(products, self.before, self.after)
        ]
        return Preview(moves, engine.counts(products, self.after), self.new, subject)


def _labels(rules: list[engine.Rule], subject: Hashable, action: str) -> dict[Hashable, str]:
    """How each rule key reads in a sentence."""
    labels: dict[Hashable, str] = {engine.DEFAULT_KEY: "Default Rule"}
    for rule in rules:
        labels.setdefault(rule.id, f"Rule {rule.id}")
    labels[subject] = "this rule" if action != "delete" else f"Rule {subject} (deleted)"
    return labels
