"""Delete a custom rule (the default rule has no delete)."""

from __future__ import annotations

from msphub_psa import permissions
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import ProductRuleDAO
from msphub_psa.domain.actor import Actor


class DeleteRuleCommand(BaseCommand):
    """Remove one custom rule; the rules below move up one place."""

    def __init__(self, actor: Actor, rule_id: int, version: int | None = None):
        self.actor, self.rule_id, self.version = actor, rule_id, version
        self.partner = self.row = None

    def validate(self) -> None:
        """Scope and (when given) the version the user saw."""
        self.partner, self.row = common.rule_scope(self.actor, self.rule_id, permissions.WRITE)
        if self.version is not None and self.version != self.row.version:
            raise ConflictError("This rule was changed by someone else; reload and try again.")

    @transaction
    def run(self) -> None:
        """Delete, renumber the rest, audit what was deleted."""
        self.validate()
        before = common.snapshot(self.row)
        ProductRuleDAO.delete(self.row)
        ProductRuleDAO.renumber(ProductRuleDAO.lock_partner_rules(self.partner.id))
        audit(self.actor, "rule.delete", common.RULE, self.rule_id, partner_id=self.partner.id, before=before)
