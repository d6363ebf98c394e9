"""An integration's client reaches the sandbox over real HTTP with its decrypted key."""

from __future__ import annotations

from msphub_psa.commands.psa_client import client_for
from msphub_psa.crypto import decrypt_secret, encrypt_secret, rotate
from tests.support import tenants
from tests.support.integration import make_active_integration
from tests.support.settings import configure


def test_client_for_active_integration_checks_credentials(app, cw_live):
    with app.app_context():
        integration = make_active_integration(tenants.pilot().id, cw_live)
        with client_for(integration) as client:
            info = client.check_credentials()
        assert info is not None
        assert cw_live.private_key not in repr(integration.private_key_encrypted)


def test_secret_round_trip_and_rotation(app):
    with app.app_context():
        token = encrypt_secret("s3cr3t")
        assert b"s3cr3t" not in token
        assert decrypt_secret(token) == "s3cr3t"
        from cryptography.fernet import Fernet

        old = app.config["PSA_ENCRYPTION_KEYS"]
        configure(app, PSA_ENCRYPTION_KEYS=Fernet.generate_key().decode() + "," + old)
        rotated = rotate(token)
        configure(app, PSA_ENCRYPTION_KEYS=app.config["PSA_ENCRYPTION_KEYS"].split(",")[0])
        assert decrypt_secret(rotated) == "s3cr3t"
