"""ConnectWise credentials: Basic ``companyId+publicKey:privateKey`` and the clientId header."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class Credentials:
    """An API member's keys for one ConnectWise company; the private key never shows in repr."""

    company_id: str
    public_key: str
    private_key: str = field(repr=False)
    client_id: str = ""

    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        raw = f"{self.company_id}+{self.public_key}:{self.private_key}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def headers(self) -> dict[str, str]:
        """Headers every authenticated call carries."""
        headers = {"Authorization": self.authorization()}
        if self.client_id:
            headers["clientId"] = self.client_id
        return headers


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy of ``headers`` with secret values replaced, for logging."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
