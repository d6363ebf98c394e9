"""Logging in and CSRF tokens for Flask test clients."""

from __future__ import annotations

import re

from msphub_psa.demo.catalog import USERS

PASSWORDS = {username: password for username, _role, _tenant, password, _f, _l in USERS}
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/login/") -> str:
    """Fetch a page and return the CSRF token it embeds."""
    html = client.get(url).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str | None = None):
    """Log ``username`` in through the real form (with its CSRF token)."""
    token = csrf_token(client, "/login/")
    response = client.post(
        "/login/", data={"username": username, "password": password or PASSWORDS[username], "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def api_token(client, username: str) -> str:
    """A JWT access token from FAB's security API."""
    response = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": PASSWORDS[username], "provider": "db", "refresh": False},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]
