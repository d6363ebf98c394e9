"""API URL policy: normalise a pasted ConnectWise URL and refuse unsafe ones before connecting.

Accepted forms (any case, with or without trailing slash): ``api-na.myconnectwise.net``,
``https://api-na.myconnectwise.net``, ``https://api-na.myconnectwise.net/v4_6_release``,
``https://api-na.myconnectwise.net/v2025_1/apis/3.0/``. The codebase defaults to
``v4_6_release/``, which every cloud host serves.

Known limit: the check resolves the host once; httpx resolves it again when it connects.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .errors import CWURLRefused

DEFAULT_ALLOWED_HOSTS: tuple[str, ...] = (
    "api-na.myconnectwise.net",
    "api-eu.myconnectwise.net",
    "api-au.myconnectwise.net",
    "api-aus.myconnectwise.net",
    "api-za.myconnectwise.net",
    "api-staging.connectwisedev.com",
)
DEFAULT_CODEBASE = "v4_6_release/"
_PATH = re.compile(r"^(?:/(?P<codebase>v[0-9a-z_.]+))?(?:/apis/3\.0)?/*$", re.IGNORECASE)

Resolver = Callable[[str], Iterable[str]]
_LOOPBACK_SCHEMES = {"http": 80, "https": 443}  # and their default ports


def system_resolver(host: str) -> list[str]:
    """Resolve ``host`` with the OS resolver to its IP address strings."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise CWURLRefused(f"Cannot resolve host {host!r}: {exc.strerror}", code="UnknownHost") from None
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class ApiUrl:
    """A checked ConnectWise location: site root plus codebase."""

    site: str
    codebase: str = DEFAULT_CODEBASE

    @property
    def base_url(self) -> str:
        """The REST base, e.g. ``https://api-na.myconnectwise.net/v4_6_release/apis/3.0``."""
        return f"{self.site}/{self.codebase}apis/3.0"

    def company_info_url(self, company_id: str) -> str:
        """The unauthenticated ``/login/companyinfo/{companyId}`` URL."""
        return f"{self.site}/login/companyinfo/{quote(company_id, safe='')}"


def _refuse(message: str) -> CWURLRefused:
    """A refusal error with the policy's code."""
    return CWURLRefused(message, code="URLRefused")


class ApiUrlPolicy:
    """Normalises pasted API URLs and refuses any that could reach a non-ConnectWise host."""

    def __init__(
        self,
        allowed_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS,
        *,
        allow_loopback_http: bool = False,
        loopback_ports: Iterable[int] = (),
        resolver: Resolver | None = None,
    ) -> None:
        self.allowed_hosts = frozenset(h.lower().rstrip(".") for h in allowed_hosts)
        self.allow_loopback_http = allow_loopback_http
        self.loopback_ports = frozenset(loopback_ports)  # empty: any port
        self.resolver = resolver or system_resolver

    def __repr__(self) -> str:
        return f"ApiUrlPolicy(hosts={sorted(self.allowed_hosts)}, loopback={self.allow_loopback_http})"

    def check(self, url: str) -> ApiUrl:
        """Normalise ``url`` and enforce the policy; opens no connection.

        :raises CWURLRefused: malformed, not https, host not allowed, or a private address.
        """
        scheme, host, port, codebase = _split(url)
        if self.allow_loopback_http and self._is_loopback(host):
            self._check_loopback(scheme, port)
            bracketed = f"[{host}]" if ":" in host else host
            return ApiUrl(f"{scheme}://{bracketed}" + (f":{port}" if port is not None else ""), codebase)
        if scheme != "https":
            raise _refuse(f"The API URL must use https, not {scheme}.")
        if host not in self.allowed_hosts:
            raise _refuse(f"Host {host!r} is not an allowed ConnectWise API host.")
        if port not in (None, 443):
            raise _refuse(f"Port {port} is not allowed.")
        self._require_public(host)
        return ApiUrl(f"https://{host}", codebase)

    def _check_loopback(self, scheme: str, port: int | None) -> None:
        """:raises CWURLRefused: a loopback URL (the sandbox) that is not http(s) or not on a sandbox port."""
        if scheme not in _LOOPBACK_SCHEMES:
            raise _refuse(f"The API URL must use http or https, not {scheme}.")
        if self.loopback_ports and (port or _LOOPBACK_SCHEMES[scheme]) not in self.loopback_ports:
            raise _refuse(f"Port {port or _LOOPBACK_SCHEMES[scheme]} is not a sandbox port.")

    def _addresses(self, host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """IP addresses of ``host`` (the literal itself, or via the resolver)."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            return [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host)]

    def _is_loopback(self, host: str) -> bool:
        """True when every address of ``host`` is a loopback address."""
        if host != "localhost" and not _is_ip(host):
            return False
        addresses = self._addresses(host)
        return bool(addresses) and all(a.is_loopback for a in addresses)

    def _require_public(self, host: str) -> None:
        """:raises CWURLRefused: when ``host`` resolves to a non-public address."""
        addresses = self._addresses(host)
        if not addresses:
            raise _refuse(f"Host {host!r} has no address.")
        for address in addresses:
            if not address.is_global or address.is_multicast:
                raise _refuse(f"Host {host!r} resolves to a non-public address.")


def _is_ip(host: str) -> bool:
    """True when ``host`` is an IP literal."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _split(url: str) -> tuple[str, str, int | None, str]:
    """Scheme, host, port and codebase of a pasted URL.

    :raises CWURLRefused: when the URL cannot be a ConnectWise API URL.
    """
    url = (url or "").strip()
    if not url:
        raise _refuse("The API URL is empty.")
    parts = urlsplit(url if "://" in url else f"https://{url}")
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        raise _refuse("The API URL has an invalid port.") from None
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise _refuse("The API URL must be a plain host and path.")
    match = _PATH.match(parts.path)
    if not match:
        raise _refuse("The API URL path is not a ConnectWise API path.")
    codebase = match.group("codebase")
    return parts.scheme.lower(), host.lower(), port, f"{codebase}/" if codebase else DEFAULT_CODEBASE
