"""Build a partner's PSA client from its integration, under the configured URL policy and the partner's shared
request limit (every client of a partner, in every worker, takes its slots from one window).

``psa_for`` gives the PSA port (what billing, the catalog and the directory use); ``client_for`` the ConnectWise
client itself (the card's validation speaks ConnectWise's own login checks). This module is where a second PSA's
adapter is chosen by the integration's ``psa_kind``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from msphub_psa.commands.billing.settings import partner_requests_per_minute
from msphub_psa.connectwise import ApiUrl, ApiUrlPolicy, ConnectWiseClient, Credentials, CWError
from msphub_psa.connectwise.adapter import RECORD_NAMES, ConnectWisePsa, psa_error
from msphub_psa.crypto import decrypt_secret
from msphub_psa.models.integration import Integration
from msphub_psa.psa.port import PsaClient
from msphub_psa.psa.records import Charge, Credit
from msphub_psa.ratelimit import PartnerRateLimiter
from msphub_psa.settings import settings


def url_policy() -> ApiUrlPolicy:
    """The API URL policy from config: allowed hosts, loopback http only where allowed."""
    config = settings()
    return ApiUrlPolicy(
        list(config.cw_allowed_hosts),
        allow_loopback_http=config.cw_allow_loopback_http,
        loopback_ports=[int(port) for port in config.cw_loopback_ports],
        resolver=config.cw_resolver,
    )


def check_api_url(url: str) -> ApiUrl:
    """Normalise a pasted API URL under the configured policy; opens no connection.

    :raises CWURLRefused: not https, host not allowed, or a non-public address.
    """
    return url_policy().check(url)


def pending_credentials(integration: Integration) -> dict | None:
    """The credentials of an edit under validation (``pending["credentials"]``), or None."""
    return (integration.pending or {}).get("credentials")


def partner_limiter(partner_id: int):
    """The partner's shared per-minute ConnectWise request limit, or None when configured off (0).

    The partner's Sync Settings limit, capped by ``PSA_CW_REQUESTS_PER_MINUTE`` (default 600), over a moving window of
    ``PSA_CW_RATE_WINDOW_SECONDS`` (default 60; a shorter window keeps the rate with smaller bursts).
    """
    per_minute = partner_requests_per_minute(partner_id)
    if per_minute < 1:
        return None

    config = settings()
    return PartnerRateLimiter(
        config.redis_url,
        partner_id,
        per_minute,
        namespace=config.queue_prefix,
        window_seconds=config.cw_rate_window_seconds,
    )


def _chained(*steps: Callable[[], None] | None) -> Callable[[], None] | None:
    """One throttle running each given step in order (None when there is none)."""
    present = [step for step in steps if step is not None]
    if len(present) < 2:
        return present[0] if present else None

    def throttle() -> None:
        """Run every step before the request."""
        for step in present:
            step()

    return throttle


def client_for(
    integration: Integration, *, pending: bool = False, throttle: Callable[[], None] | None = None, **options
) -> ConnectWiseClient:
    """A client on the integration's working credentials, or (``pending=True``) on the edit
    under validation; the private key is decrypted in memory only. Every request waits for
    ``throttle`` (e.g. a job's guard), then for a slot of the partner's shared limit.

    :raises CWURLRefused: when the API URL is not (or no longer) allowed.
    :raises SecretError: when the stored private key cannot be decrypted.
    """
    held = pending_credentials(integration) if pending else None
    if held is not None:
        credentials = Credentials(
            held["company_name"],
            held["public_key"],
            decrypt_secret(held["private_key"].encode("ascii")),
            held["client_id"],
        )
        api_url = held["api_url"]
    else:
        credentials = Credentials(
            integration.company_name,
            integration.public_key,
            decrypt_secret(integration.private_key_encrypted),
            integration.client_id,
        )
        api_url = integration.api_url
    return ConnectWiseClient(
        credentials,
        api_url,
        url_policy=url_policy(),
        transport=settings().cw_transport,
        throttle=_chained(throttle, partner_limiter(integration.partner_id)),
        **options,
    )


@dataclass(frozen=True)
class Adapter:
    """How the plugin reaches one kind of PSA: the port on an integration's credentials, the check of a record
    before any call, and what the PSA calls the push's two kinds of record."""

    open: Callable[..., PsaClient]
    """``open(integration, throttle=None, **options)``: the port on the integration's working credentials."""
    check_record: Callable[[Charge | Credit], None]
    """Raises :class:`~msphub_psa.psa.errors.Permanent` for a record the PSA cannot take as it is."""
    record_names: Mapping[str, str]
    """``{"charge": ..., "credit": ...}`` in the PSA's words."""


def _open_connectwise(
    integration: Integration, throttle: Callable[[], None] | None = None, **options: object
) -> PsaClient:
    """ConnectWise through its adapter, under the URL policy and the partner's shared limit."""
    try:
        return ConnectWisePsa(client_for(integration, throttle=throttle, **options))
    except CWError as err:
        raise psa_error(err) from err


ADAPTERS: dict[str, Adapter] = {
    ConnectWisePsa.kind: Adapter(_open_connectwise, ConnectWisePsa.check, RECORD_NAMES),
}
"""The adapter of each ``psa_kind`` (the values ``models/integration.py`` allows)."""


def adapter(psa_kind: str) -> Adapter:
    """The adapter of ``psa_kind``.

    :raises ValueError: no adapter for that kind.
    """
    try:
        return ADAPTERS[psa_kind]
    except KeyError:
        raise ValueError(f"No adapter for the PSA {psa_kind!r}.") from None


def psa_for(integration: Integration, *, throttle: Callable[[], None] | None = None, **options) -> PsaClient:
    """The partner's PSA, through the adapter of its ``psa_kind``, on the integration's working credentials.

    :raises RunStopping: when the API URL is not (or no longer) allowed.
    :raises SecretError: when the stored private key cannot be decrypted.
    """
    return adapter(integration.psa_kind).open(integration, throttle=throttle, **options)


def check_record(record: Charge | Credit, psa_kind: str = ConnectWisePsa.kind) -> None:
    """Refuse, before any call, a record the PSA cannot take as it is (a value it cannot carry exactly).

    :raises Permanent: (code ``PayloadError``) saying why.
    """
    adapter(psa_kind).check_record(record)


def record_name(kind: str, psa_kind: str = ConnectWisePsa.kind) -> str:
    """What the PSA calls a charge or a credit record (ConnectWise: addition, adjustment)."""
    return adapter(psa_kind).record_names[kind]
