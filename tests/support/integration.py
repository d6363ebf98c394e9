"""Put an active ConnectWise integration in place directly (for features past activation)."""

from __future__ import annotations

from msphub_psa.clock import now as utcnow
from msphub_psa.crypto import encrypt_secret
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO


def make_active_integration(partner_id: int, sandbox, user_id: int | None = None):
    """An active integration of ``partner_id`` on the sandbox's demo account (``cw_live`` handle)."""
    row = IntegrationDAO.for_partner(partner_id) or IntegrationDAO.create(
        partner_id=partner_id,
        client_id=sandbox.client_id,
        company_name=sandbox.company_id,
        public_key=sandbox.public_key,
        private_key_encrypted=encrypt_secret(sandbox.private_key),
        api_url=sandbox.base_url,
    )
    IntegrationDAO.update(
        row,
        status="active",
        client_id_locked=True,
        activated_at=utcnow(),
        activated_by_id=user_id,
        activated_by_name="Pat Pilot (pilot.admin)",
        api_url=sandbox.base_url,
    )
    session().commit()
    return row
