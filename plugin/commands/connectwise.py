"""Build ConnectWise clients for an integration, under the configured URL policy."""
from __future__ import annotations

from flask import current_app

from plugin.connectwise import ApiUrlPolicy, ConnectWiseClient, Credentials
from plugin.crypto import decrypt_secret
from plugin.models.psa import Integration


def url_policy() -> ApiUrlPolicy:
    """The API URL policy from config: allowed hosts, loopback http only where allowed."""
    hosts = [h.strip() for h in current_app.config.get("PSA_CW_ALLOWED_HOSTS", "").split(",") if h.strip()]
    return ApiUrlPolicy(hosts, allow_loopback_http=bool(current_app.config.get("PSA_CW_ALLOW_LOOPBACK_HTTP")),
                        resolver=current_app.config.get("PSA_CW_RESOLVER"))


def client_for(integration: Integration, **options) -> ConnectWiseClient:
    """A client on the integration's working credentials (the private key decrypted in memory only).

    :raises CWURLRefused: when the stored API URL is no longer allowed.
    """
    credentials = Credentials(integration.company_name, integration.public_key,
                              decrypt_secret(integration.private_key_encrypted), integration.client_id)
    return ConnectWiseClient(credentials, integration.api_url, url_policy=url_policy(),
                             transport=current_app.config.get("PSA_CW_TRANSPORT"), **options)
