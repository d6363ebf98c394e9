"""The plugin's settings: every key it reads from the host's ``app.config``, typed, with its default and meaning.

They are read once, when the addon is set up (:func:`load`, from ``ConnectWiseAddon.__init__``); a missing or
invalid required key stops the host's start-up with a message naming the key and how to make one. Code reads
them with :func:`settings`. ``docs/operations.md`` carries the same table (a test checks it against this one).
Only our stand-in host's ``config.py`` reads the environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet
from flask import current_app

EXTENSION = "msphub_psa"
CONNECTWISE_CLOUD_HOSTS: tuple[str, ...] = (
    "api-na.myconnectwise.net",
    "api-eu.myconnectwise.net",
    "api-au.myconnectwise.net",
    "api-aus.myconnectwise.net",
    "api-za.myconnectwise.net",
    "api-staging.connectwisedev.com",
)
"""PSA_CW_ALLOWED_HOSTS' default: the settings layer may not import the client, so the list is written here
and tests/unit/test_settings_hosts.py checks it equals the client's own default (DEFAULT_ALLOWED_HOSTS)."""
MODES = ("production", "demo", "test")
FERNET_HOW = "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
REQUIRED = object()


class SettingsError(RuntimeError):
    """A setting is missing or invalid: the host must not start."""


def _key(name: str, doc: str, default: Any = REQUIRED, **extra: Any) -> Any:
    """A dataclass field read from ``app.config[name]``."""
    meta = {"key": name, "doc": doc, **extra}
    if default is REQUIRED:
        return field(metadata={**meta, "required": True})
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """The plugin's settings, typed. Each field is one ``app.config`` key (``metadata["key"]``)."""

    encryption_keys: tuple[str, ...] = _key(
        "PSA_ENCRYPTION_KEYS",
        "Fernet keys that encrypt secrets at rest, newest first (a comma-separated string "
        f"or a list); required: {FERNET_HOW}",
        secret=True,
    )
    redis_url: str = _key("REDIS_URL", "Redis for the job queues, the shared ConnectWise limit and locks; required")
    env: str = _key(
        "PSA_ENV", "production, demo or test (demo and test allow the demo commands)", "production", choices=MODES
    )
    queue_prefix: str = _key(
        "PSA_QUEUE_PREFIX",
        "prefix of the queues (<prefix>-fast, <prefix>-sync, <prefix>-sync-later) and Redis keys",
        "psa",
    )
    cw_allowed_hosts: tuple[str, ...] = _key(
        "PSA_CW_ALLOWED_HOSTS",
        "ConnectWise API hosts an integration may use (comma-separated)",
        CONNECTWISE_CLOUD_HOSTS,
    )
    cw_allow_loopback_http: bool = _key(
        "PSA_CW_ALLOW_LOOPBACK_HTTP", "allow http API URLs on 127.0.0.1 (the sandbox; demo and test only)", False
    )
    cw_loopback_ports: tuple[str, ...] = _key(
        "PSA_CW_LOOPBACK_PORTS",
        "the sandbox's ports a loopback API URL may use where loopback http is allowed (comma-separated; empty = any)",
        ("8765",),
        ports=True,
    )
    cw_requests_per_minute: int = _key(
        "PSA_CW_REQUESTS_PER_MINUTE",
        "each partner's ConnectWise requests a minute, shared by every worker, and "
        "the cap of a partner's own limit; 0 = no limit",
        600,
        minimum=0,
    )
    cw_rate_window_seconds: int = _key("PSA_CW_RATE_WINDOW_SECONDS", "the moving window of that limit", 60, minimum=1)
    cw_validation_timeout: float = _key(
        "PSA_CW_VALIDATION_TIMEOUT", "seconds the activation's validation waits for ConnectWise", 15.0, minimum=0.1
    )
    push_lease_seconds: float = _key(
        "PSA_PUSH_LEASE_SECONDS", "a push's lease: a run silent this long is taken over", 60.0, minimum=1
    )
    push_max_tries: int = _key(
        "PSA_PUSH_MAX_TRIES", "attempts of a transient ConnectWise error within a push", 6, minimum=1
    )
    push_max_backoff: float = _key("PSA_PUSH_MAX_BACKOFF", "longest pause between those attempts (s)", 30.0, minimum=0)
    push_concurrency: int = _key(
        "PSA_PUSH_CONCURRENCY", "concurrent ConnectWise creates in one push", 8, minimum=1, maximum=64
    )
    push_batch_size: int = _key("PSA_PUSH_BATCH_SIZE", "rows per batch of a push (0 = the concurrency)", 0, minimum=0)
    push_progress_seconds: float = _key(
        "PSA_PUSH_PROGRESS_SECONDS", "at most one progress write per run per this many seconds", 1.0, minimum=0
    )
    push_job_timeout: int = _key("PSA_PUSH_JOB_TIMEOUT", "RQ timeout of a push job (s)", 3600, minimum=60)
    push_slice_seconds: float = _key(
        "PSA_PUSH_SLICE_SECONDS",
        "a queued push's delivery time after which it yields its worker to other pushes' continuations waiting, and "
        "continues behind them (s); 0 = never yield",
        30.0,
        minimum=0,
    )
    push_short_slice_seconds: float = _key(
        "PSA_PUSH_SHORT_SLICE_SECONDS",
        "a queued push's delivery time after which its first run yields its worker to a new push or other job "
        "waiting in the sync queue (s; at most PSA_PUSH_SLICE_SECONDS; a continuation yields to them at once)",
        10.0,
        minimum=0,
    )
    schedule_default_time: str = _key(
        "PSA_SCHEDULE_DEFAULT_TIME", "the sync schedule's default time (HH:MM, partner's timezone)", "06:00"
    )
    schedule_catch_up_minutes: float = _key(
        "PSA_SCHEDULE_CATCH_UP_MINUTES", "how late a missed schedule slot still runs", 360.0, minimum=0
    )
    alert_email_hook: str = _key(
        "PSA_ALERT_EMAIL_HOOK",
        "callable (module:function) given the alert e-mail of a failed, partial, stopped or abandoned run; empty = off",
        "msphub_psa.alerts:log_alert_email",
    )
    alert_email_to: str = _key(
        "PSA_ALERT_EMAIL_TO", "extra alert recipients (comma-separated), besides the partner's Partner Admins", ""
    )
    public_url: str = _key("PSA_PUBLIC_URL", "the app's public base URL, for links in the alert e-mail", "")
    role_admin: str = _key(
        "PSA_ROLE_ADMIN",
        "the host's role whose users administer everything (console, RQ dashboard, every tenant)",
        "Admin",
    )
    role_distributor_admin: str = _key(
        "PSA_ROLE_DISTRIBUTOR_ADMIN", "role name: turns the feature on per partner", "Distributor Admin"
    )
    role_partner_admin: str = _key(
        "PSA_ROLE_PARTNER_ADMIN", "role name: the partner's card, rules, mappings, sync", "Partner Admin"
    )
    role_partner_viewer: str = _key(
        "PSA_ROLE_PARTNER_VIEWER", "role name: the partner's pages, read only", "Partner Viewer"
    )
    builtin_admin_role: bool = _key(
        "PSA_BUILTIN_ADMIN_ROLE",
        "declare the admin role a FAB builtin role with every permission (our stand-in "
        "host; a host's own admin role is never redefined otherwise)",
        False,
    )
    security_headers: str = _key(
        "PSA_SECURITY_HEADERS",
        "where the plugin's security headers (CSP, frame and referrer policy) go: plugin "
        "(its own routes) or all (every response of the host)",
        "plugin",
        choices=("plugin", "all"),
    )
    console_marketplace_writes: bool = _key(
        "PSA_CONSOLE_MARKETPLACE_WRITES",
        "the console may create and edit distributors, partners and products "
        "(only where the marketplace relations are tables the host lets the plugin write; our stand-in)",
        False,
    )
    max_content_length: int = _key(
        "PSA_MAX_CONTENT_LENGTH",
        "the largest request body in bytes (a larger one answers 413); the host's own MAX_CONTENT_LENGTH wins",
        1_048_576,
        minimum=1024,
    )
    proxy_fix_hops: int = _key(
        "PSA_PROXY_FIX_HOPS",
        "proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port are trusted (Werkzeug's ProxyFix; "
        "HSTS needs the client's https); 0 = off",
        0,
        minimum=0,
        maximum=5,
    )
    cw_transport: Any = _key("PSA_CW_TRANSPORT", "tests only: an httpx transport for every ConnectWise client", None)
    cw_resolver: Any = _key("PSA_CW_RESOLVER", "tests only: a host -> addresses resolver for the URL checks", None)

    @property
    def local(self) -> bool:
        """True in the demo and test modes."""
        return self.env in ("demo", "test")


def fields_table() -> list[tuple[str, str, str, bool]]:
    """(key, default as text, meaning, required) for each setting, in order."""
    rows = []
    for item in dataclasses.fields(Settings):
        default = (
            "required"
            if item.metadata.get("required")
            else _text(item.default if item.default is not dataclasses.MISSING else item.default_factory())
        )  # type: ignore[misc]
        rows.append((item.metadata["key"], default, item.metadata["doc"], bool(item.metadata.get("required"))))
    return rows


def _text(value: Any) -> str:
    """A default as the docs show it."""
    if isinstance(value, tuple):
        return ",".join(value) if len(",".join(value)) < 40 else "the ConnectWise cloud hosts"
    return "empty" if value in ("", None) else str(value)


def load(config: Mapping[str, Any]) -> Settings:
    """Read and check every setting from ``config``.

    :raises SettingsError: naming each missing or invalid key, and how to fix it.
    """
    values, problems = {}, []
    for item in dataclasses.fields(Settings):
        key = item.metadata["key"]
        try:
            if key in config and config[key] is not None:
                values[item.name] = _parse(item, config[key])
            elif item.metadata.get("required"):
                raise ValueError("is missing")
        except ValueError as exc:
            problems.append(f"{key} {exc}" + (f" ({item.metadata['doc']})" if item.metadata.get("required") else ""))
    if problems:
        raise SettingsError("The ConnectWise PSA plugin cannot start: " + "; ".join(problems) + ".")
    return Settings(**values)


def _parse(item: dataclasses.Field, raw: Any) -> Any:
    """One setting's value in its type.

    :raises ValueError: with what is wrong.
    """
    kind, meta = str(item.type), item.metadata
    if kind == "tuple[str, ...]":
        value: Any = tuple(p.strip() for p in (raw.split(",") if isinstance(raw, str) else raw) if str(p).strip())
        if meta["key"] == "PSA_ENCRYPTION_KEYS":
            _check_fernet(value)
        if meta.get("ports") and not all(p.isdigit() and 0 < int(p) < 65536 for p in value):
            raise ValueError(f"must be port numbers, not {raw!r}")
        return value
    if kind == "bool":
        return _bool(raw)
    if kind in ("int", "float"):
        value = _number(raw, int if kind == "int" else float)
        if "minimum" in meta and value < meta["minimum"] or "maximum" in meta and value > meta["maximum"]:
            raise ValueError(
                f"must be between {meta.get('minimum', '-inf')} and {meta.get('maximum', 'inf')}, not {value}"
            )
        return value
    if kind == "str":
        value = str(raw).strip()
        if "choices" in meta and value not in meta["choices"]:
            raise ValueError(f"must be one of {', '.join(meta['choices'])}, not {value!r}")
        if meta.get("required") and not value:
            raise ValueError("is empty")
        return value
    return raw


def _check_fernet(keys: tuple[str, ...]) -> None:
    """Every key must be a Fernet key.

    :raises ValueError: otherwise.
    """
    if not keys:
        raise ValueError("is empty")
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"key {number} is not a Fernet key ({FERNET_HOW})") from None


def _bool(raw: Any) -> bool:
    """A boolean from a bool or a string such as ``true``/``0``."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, not {raw!r}")


def _number(raw: Any, kind: type) -> Any:
    """An int or float from a number or a string."""
    if isinstance(raw, bool):
        raise ValueError(f"must be a number, not {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, not {raw!r}") from None


def install(app: Any) -> Settings:
    """Read the settings from ``app.config`` and keep them on the app (see :func:`settings`).

    :raises SettingsError: when one is missing or invalid.
    """
    loaded = load(app.config)
    app.extensions.setdefault(EXTENSION, {})["settings"] = loaded
    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", [loaded.redis_url])
    return loaded


def settings() -> Settings:
    """The current app's settings."""
    return current_app.extensions[EXTENSION]["settings"]
