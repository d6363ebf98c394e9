"""The distributor's feature toggle for one partner."""

from __future__ import annotations

from msphub_psa import clock, permissions
from msphub_psa.commands.access import require_permission, visible_partner
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ForbiddenError
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.models.hub import Partner
from msphub_psa.models.tenancy import PartnerFeature


class SetPartnerFeatureCommand(BaseCommand):
    """Enable or disable the ConnectWise integration for one partner."""

    def __init__(self, actor: Actor, partner_id: int, enabled: bool):
        self.actor = actor
        self.partner_id = partner_id
        self.enabled = bool(enabled)
        self.partner: Partner | None = None

    def validate(self) -> None:
        """Only an Admin or the partner's own Distributor Admin may toggle.

        :raises NotFoundError: unknown partner or another distributor's.
        :raises ForbiddenError: a partner user or a role without write access.
        """
        if self.actor.partner_id is not None:
            raise ForbiddenError("Only your distributor can enable or disable the ConnectWise integration.")
        self.partner = visible_partner(self.actor, self.partner_id)
        require_permission(self.actor, permissions.WRITE, permissions.FEATURE)

    @transaction
    def run(self) -> PartnerFeature:
        """Set the toggle, audited with who and when."""
        self.validate()
        row = PartnerFeatureDAO.for_partner(self.partner_id) or PartnerFeatureDAO.create(
            partner_id=self.partner_id, enabled=False
        )
        before = row.enabled
        PartnerFeatureDAO.update(row, enabled=self.enabled, changed_by_id=self.actor.user_id, changed_at=clock.now())
        audit(
            self.actor,
            "feature.enable" if self.enabled else "feature.disable",
            "partner",
            self.partner_id,
            partner_id=self.partner_id,
            distributor_id=self.partner.distributor_id,
            before=before,
            after=self.enabled,
        )
        return row


class ListPartnerFeaturesCommand(BaseCommand):
    """The partners of the actor's distributor (all for Admin) with their toggle."""

    def __init__(self, actor: Actor):
        self.actor = actor

    def validate(self) -> None:
        """Distributor users and Admin only.

        :raises ForbiddenError: a partner user, or a role without read access.
        """
        if self.actor.partner_id is not None:
            raise ForbiddenError("Only your distributor manages feature toggles.")
        require_permission(self.actor, permissions.READ, permissions.FEATURE)

    def run(self) -> list[tuple[Partner, PartnerFeature | None]]:
        """(partner, toggle or None) by partner."""
        self.validate()
        partners = PartnerDAO.list_for_distributor(None if self.actor.is_admin else self.actor.distributor_id or -1)
        toggles = PartnerFeatureDAO.enabled_map([p.id for p in partners])
        return [(p, toggles.get(p.id)) for p in partners]

    def statuses(self, partner_ids: list[int]) -> dict[int, str | None]:
        """Each partner's integration status (None: never activated): what a Disable would stop."""
        return IntegrationDAO.statuses(partner_ids)
