"""Secrets at rest: MultiFernet over ``PSA_ENCRYPTION_KEYS`` (newest key first).

Encrypt with the newest key, decrypt with any; ``rotate`` re-encrypts a token
under the newest key. Keys come from config, never from the database.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from msphub_psa.settings import settings


class SecretError(RuntimeError):
    """A stored secret cannot be decrypted with the configured keys."""


def _fernet() -> MultiFernet:
    """The MultiFernet of the configured keys."""
    keys = list(settings().encryption_keys)
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt_secret(value: str) -> bytes:
    """Encrypt ``value`` under the newest key."""
    return _fernet().encrypt(value.encode("utf-8"))


def decrypt_secret(token: bytes) -> str:
    """Decrypt a stored secret.

    :raises SecretError: no configured key opens it (a key was removed too early).
    """
    try:
        return _fernet().decrypt(bytes(token)).decode("utf-8")
    except InvalidToken as exc:
        raise SecretError("A stored secret cannot be decrypted with the configured PSA_ENCRYPTION_KEYS.") from exc


def rotate(token: bytes) -> bytes:
    """Re-encrypt ``token`` under the newest key.

    :raises SecretError: no configured key opens it.
    """
    try:
        return _fernet().rotate(bytes(token))
    except InvalidToken as exc:
        raise SecretError("A stored secret cannot be decrypted with the configured PSA_ENCRYPTION_KEYS.") from exc
