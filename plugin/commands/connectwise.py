"""Build ConnectWise clients for an integration, under the configured URL policy."""
from __future__ import annotations

from flask import current_app

from plugin.connectwise import ApiUrl, ApiUrlPolicy, ConnectWiseClient, Credentials
from plugin.crypto import decrypt_secret
from plugin.models.psa import Integration


def url_policy() -> ApiUrlPolicy:
    """The API URL policy from config: allowed hosts, loopback http only where allowed."""
    hosts = [h.strip() for h in current_app.config.get("PSA_CW_ALLOWED_HOSTS", "").split(",") if h.strip()]
    return ApiUrlPolicy(hosts, allow_loopback_http=bool(current_app.config.get("PSA_CW_ALLOW_LOOPBACK_HTTP")),
                        resolver=current_app.config.get("PSA_CW_RESOLVER"))


def check_api_url(url: str) -> ApiUrl:
    """Normalise a pasted API URL under the configured policy; opens no connection.

    :raises CWURLRefused: not https, host not allowed, or a non-public address.
    """
    return url_policy().check(url)


def pending_credentials(integration: Integration) -> dict | None:
    """The credentials of an edit under validation (``pending["credentials"]``), or None."""
    return (integration.pending or {}).get("credentials")


def client_for(integration: Integration, *, pending: bool = False, **options) -> ConnectWiseClient:
    """A client on the integration's working credentials, or (``pending=True``) on the edit
    under validation; the private key is decrypted in memory only.

    :raises CWURLRefused: when the API URL is not (or no longer) allowed.
    :raises SecretError: when the stored private key cannot be decrypted.
    """
    held = pending_credentials(integration) if pending else None
    if held is not None:
        credentials = Credentials(held["company_name"], held["public_key"],
                                  decrypt_secret(held["private_key"].encode("ascii")), held["client_id"])
        api_url = held["api_url"]
    else:
        credentials = Credentials(integration.company_name, integration.public_key,
                                  decrypt_secret(integration.private_key_encrypted), integration.client_id)
        api_url = integration.api_url
    return ConnectWiseClient(credentials, api_url, url_policy=url_policy(),
                             transport=current_app.config.get("PSA_CW_TRANSPORT"), **options)
