"""Edit the partner's default rule (its attributes only; it cannot be deleted)."""

from __future__ import annotations

from msphub_psa import clock, permissions
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ConflictError
from msphub_psa.commands.rules import common
from msphub_psa.daos.rules import DefaultRuleDAO
from msphub_psa.domain import rules as engine
from msphub_psa.domain.actor import Actor
from msphub_psa.models.rules import ProductDefaultRule


class UpdateDefaultRuleCommand(BaseCommand):
    """Set the default rule's category, subcategory, type and class."""

    def __init__(self, actor: Actor, data: common.RuleData, partner_id: int | None = None):
        self.actor, self.data, self.partner_id = actor, data, partner_id
        self.partner = self.resolution = None

    def validate(self) -> None:
        """Scope and the engine's attribute checks, matched to the cached lists."""
        self.partner = common.scope(self.actor, self.partner_id, permissions.WRITE)
        with common.rule_input("The default rule was not saved."):
            attributes = self.data.attributes()
            engine.validate_default(engine.DefaultRule(attributes))
            self.resolution = common.resolved(attributes, self.partner.id)

    @transaction
    def run(self) -> ProductDefaultRule:
        """Create on first need, update, audit before/after."""
        self.validate()
        row = common.default_rule(self.actor, self.partner.id)
        if self.data.version is not None and self.data.version != row.version:
            raise ConflictError("The default rule was changed by someone else; reload and try again.")
        before = common.attribute_columns(common.attributes_of(row))
        DefaultRuleDAO.update(
            row,
            **common.attribute_columns(self.resolution.attributes),
            updated_by_id=self.actor.user_id,
            updated_at=clock.now(),
        )
        audit(
            self.actor,
            "rule.default.edit",
            common.DEFAULT_RULE,
            row.id,
            partner_id=self.partner.id,
            before=before,
            after=common.attribute_columns(self.resolution.attributes),
            will_create=sorted(self.resolution.new),
        )
        return row
