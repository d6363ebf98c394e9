"""`flask psa rotate-keys`: every stored secret re-encrypted under the newest key, then the old key can go."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select

from msphub_psa.crypto import decrypt_secret, encrypt_secret
from msphub_psa.daos.base import session
from msphub_psa.models.integration import Integration
from msphub_psa.models.tenancy import AuditEvent
from tests.support import tenants
from tests.support.integration import make_active_integration
from tests.support.settings import configure


def _setup(app, cw_live):
    """The pilot's active integration plus a pending edit, both encrypted under the current (old) key."""
    with app.app_context():
        row = make_active_integration(tenants.pilot().id, cw_live)
        row.pending = {
            "kind": "edit",
            "credentials": {
                "client_id": cw_live.client_id,
                "company_name": "x",
                "public_key": "p",
                "api_url": cw_live.base_url,
                "private_key": encrypt_secret("PENDING-KEY").decode("ascii"),
            },
        }
        session().commit()
        return row.id


def test_rotate_keys_re_encrypts_every_secret(app, cw_live):
    old = app.config["PSA_ENCRYPTION_KEYS"]
    integration_id = _setup(app, cw_live)
    new = Fernet.generate_key().decode()
    configure(app, PSA_ENCRYPTION_KEYS=f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["psa", "rotate-keys", "--as", "admin"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 secret(s) of 1 integration(s)" in result.output
    configure(app, PSA_ENCRYPTION_KEYS=new)  # the old key removed: everything still opens
    with app.app_context():
        row = session().get(Integration, integration_id)
        assert decrypt_secret(row.private_key_encrypted) == cw_live.private_key
        assert decrypt_secret(row.pending["credentials"]["private_key"].encode("ascii")) == "PENDING-KEY"
        event = session().scalar(select(AuditEvent).where(AuditEvent.action == "keys.rotate"))
        assert event.username == "admin" and event.detail == {"integrations": 1, "re_encrypted": 2}
        assert cw_live.private_key not in str(event.detail)


def test_rotate_keys_is_admin_only_and_all_or_nothing(app, cw_live):
    old = app.config["PSA_ENCRYPTION_KEYS"]
    integration_id = _setup(app, cw_live)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["psa", "rotate-keys", "--as", "pilot.admin"])
    assert result.exit_code == 2 and "403" in result.output
    with app.app_context():
        before = bytes(session().get(Integration, integration_id).private_key_encrypted)
    configure(app, PSA_ENCRYPTION_KEYS=Fernet.generate_key().decode())  # the old key dropped too early
    result = runner.invoke(args=["psa", "rotate-keys", "--as", "admin"])
    assert result.exit_code == 2 and "409" in result.output and "nothing was re-encrypted" in result.output
    configure(app, PSA_ENCRYPTION_KEYS=old)
    with app.app_context():
        assert bytes(session().get(Integration, integration_id).private_key_encrypted) == before
