"""Key rotation: re-encrypt every stored secret under the newest ``PSA_ENCRYPTION_KEYS`` key."""

from __future__ import annotations

from dataclasses import dataclass

from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ConflictError, ForbiddenError
from msphub_psa.crypto import SecretError, rotate
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.domain.actor import Actor
from msphub_psa.models.integration import Integration


@dataclass
class RotationResult:
    """How many integrations and secrets were re-encrypted."""

    integrations: int
    secrets: int


class RotateKeysCommand(BaseCommand):
    """Admin: re-encrypt each integration's private key, and any pending one, under the newest key."""

    def __init__(self, actor: Actor):
        self.actor = actor

    def validate(self) -> None:
        """:raises ForbiddenError: unless the actor is the platform Admin."""
        if not self.actor.is_admin:
            raise ForbiddenError("Only an Admin may rotate the encryption keys.")

    @transaction
    def run(self) -> RotationResult:
        """Rotate every secret in one transaction: all re-encrypted, or (one unreadable) none.

        :raises ConflictError: a stored secret opens with none of the configured keys.
        """
        self.validate()
        rows = IntegrationDAO.all_for_update()
        count = sum(self._rotate(row) for row in rows)
        audit(self.actor, "keys.rotate", "integration", None, integrations=len(rows), re_encrypted=count)
        return RotationResult(len(rows), count)

    @staticmethod
    def _rotate(row: Integration) -> int:
        """Re-encrypt one integration's secrets; the number re-encrypted."""
        try:
            values: dict = {"private_key_encrypted": rotate(row.private_key_encrypted)}
            held = (row.pending or {}).get("credentials")
            if held and held.get("private_key"):
                new = rotate(held["private_key"].encode("ascii")).decode("ascii")
                values["pending"] = {**row.pending, "credentials": {**held, "private_key": new}}
        except SecretError as exc:
            raise ConflictError(
                f"The private key of integration {row.id} (partner {row.partner_id}) opens with none of the "
                "configured PSA_ENCRYPTION_KEYS; nothing was re-encrypted. Put the old key back in the list."
            ) from exc
        IntegrationDAO.update(row, **values)
        return len(values)
