"""Configuration of the host application, read from the environment once.

``PSA_ENV`` selects the mode: ``production`` (default), ``demo`` or ``test``.
In production every secret must come from the environment and start-up stops
with a clear message when one is missing; the demo generates its secrets once
and keeps them in ``instance/secrets.json``; tests get throw-away secrets.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PSA_INSTANCE_DIR", BASE_DIR / "instance"))
MODES = ("production", "demo", "test")


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration."""


def _mode() -> str:
    """Return the run mode named by ``PSA_ENV``."""
    mode = os.environ.get("PSA_ENV", "production").strip().lower()
    if mode not in MODES:
        raise ConfigError(f"PSA_ENV must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _generated_secrets() -> dict[str, str]:
    """Fresh secrets: a session key and one Fernet key."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PSA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }


def _demo_secrets() -> dict[str, str]:
    """Load the demo's secrets from ``instance/``, generating them on first use."""
    path = INSTANCE_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    values = _generated_secrets()
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def _secrets(mode: str) -> dict[str, str]:
    """Return SECRET_KEY and PSA_ENCRYPTION_KEYS for the mode.

    :raises ConfigError: in production, when one is missing from the environment.
    """
    names = ("SECRET_KEY", "PSA_ENCRYPTION_KEYS")
    fallback = {"demo": _demo_secrets, "test": _generated_secrets}.get(mode)
    values = fallback() if fallback and not all(os.environ.get(n) for n in names) else {}
    values.update({n: os.environ[n] for n in names if os.environ.get(n)})
    missing = [n for n in names if not values.get(n)]
    if missing:
        raise ConfigError(
            f"Missing {', '.join(missing)} in the environment. Set them (PSA_ENCRYPTION_KEYS is "
            "a comma-separated list of Fernet keys, newest first; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`), "
            "or run with PSA_ENV=demo for a local demo."
        )
    return values


def _bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable."""
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


def _default_database_url() -> str:
    """SQLite file under ``instance/``."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'msphub.db'}"


def _ratelimit_storage(mode: str) -> str:
    """Where the login rate limit counts: ``RATELIMIT_STORAGE_URI``, else ``REDIS_URL`` in production
    (shared by every process and machine); in memory for the one-process demo and the tests."""
    explicit = os.environ.get("RATELIMIT_STORAGE_URI")
    if explicit:
        return explicit
    return "memory://" if mode != "production" else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _log_format(mode: str) -> str:
    """``PSA_LOG_FORMAT``: ``json`` (default in production) or ``text``."""
    value = os.environ.get("PSA_LOG_FORMAT", "json" if mode == "production" else "text").strip().lower()
    if value not in ("json", "text"):
        raise ConfigError(f"PSA_LOG_FORMAT must be json or text, not {value!r}")
    return value


def _plugin_settings(mode: str) -> dict:
    """The plugin's settings (``msphub_psa.settings``) given in the environment; the plugin's defaults apply to
    the others. The stand-in allows the sandbox on loopback in demo and test mode."""
    from msphub_psa.settings import Settings

    keys = [f.metadata["key"] for f in dataclasses.fields(Settings)]
    values = {key: os.environ[key] for key in keys if key in os.environ and not key.startswith("PSA_CW_T")}
    values.setdefault("PSA_CW_ALLOW_LOOPBACK_HTTP", mode in ("demo", "test"))
    return values


def build() -> dict:
    """Build the Flask config mapping from the environment.

    :raises ConfigError: when the environment is unsafe or incomplete.
    """
    mode = _mode()
    local = mode in ("demo", "test")
    values = _secrets(mode)
    return {
        **_plugin_settings(mode),
        "PSA_ENV": mode,
        "SECRET_KEY": values["SECRET_KEY"],
        "PSA_ENCRYPTION_KEYS": values["PSA_ENCRYPTION_KEYS"],
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or _default_database_url(),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "ADDON_MANAGERS": ["msphub_psa.addon.ConnectWiseAddon"],
        # The stand-in host is the plugin's own: its Admin role is the plugin's, its marketplace tables may be
        # edited from the console, and every response carries the plugin's security headers.
        "PSA_BUILTIN_ADMIN_ROLE": True,
        "PSA_CONSOLE_MARKETPLACE_WRITES": True,
        "PSA_SECURITY_HEADERS": "all",
        "APP_NAME": "MSP Hub",
        "APP_THEME": "",
        "AUTH_TYPE": 1,  # AUTH_DB
        "AUTH_RATE_LIMITED": True,
        "AUTH_RATE_LIMIT": os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", mode != "test"),
        "RATELIMIT_STORAGE_URI": _ratelimit_storage(mode),
        "RATELIMIT_KEY_PREFIX": os.environ.get("PSA_QUEUE_PREFIX", "psa") + "-login",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: limit per process, never lock everyone out
        "PSA_LOG_FORMAT": _log_format(mode),
        "PSA_LOG_LEVEL": os.environ.get("PSA_LOG_LEVEL", "INFO").upper(),
        "FAB_UPDATE_PERMS": False,
        "FAB_CREATE_DB": False,
        "FAB_ADD_SECURITY_API": True,
        "FAB_API_SWAGGER_UI": True,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not local),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not local),
        "REMEMBER_COOKIE_HTTPONLY": True,
    }
