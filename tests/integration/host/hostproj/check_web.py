"""Run in the host's virtualenv, after the procedure: the host's own model view and REST API still work,
the plugin's headers stay on the plugin's routes, and a plugin route refuses a write without the CSRF token
(then accepts it with the token). Prints one JSON object."""

from __future__ import annotations

import json
import os
import re
import sys

from hostapp import create_app

ADMIN = ("admin", os.environ["HOST_ADMIN_PASSWORD"])
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def login(client, username: str, password: str) -> None:
    """FAB's login form, with its CSRF token."""
    token = TOKEN.search(client.get("/login/").get_data(as_text=True)).group(1)
    answer = client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    assert answer.status_code == 302, answer.status_code


def main() -> None:
    """Check, print the findings."""
    app = create_app()
    partner_id = int(sys.argv[1])
    out = {}
    admin = app.test_client()
    login(admin, *ADMIN)
    page = admin.get("/contactmodelview/list/")
    out["contact_list"] = [page.status_code, "Alice Example" in page.get_data(as_text=True)]
    jwt = (
        app.test_client()
        .post("/api/v1/security/login", json={"username": ADMIN[0], "password": ADMIN[1], "provider": "db"})
        .get_json()["access_token"]
    )
    api = app.test_client().get("/api/v1/contact/", headers={"Authorization": f"Bearer {jwt}"})
    out["contact_api"] = [api.status_code, api.get_json().get("count")]
    out["host_page_csp"] = "Content-Security-Policy" in admin.get("/login/").headers
    features = admin.get("/psa/partner-features/")
    out["plugin_page_csp"] = "Content-Security-Policy" in features.headers
    refused = admin.post(f"/psa/partner-features/{partner_id}", data={"enabled": "0"})
    out["post_without_token"] = refused.status_code
    token = TOKEN.search(features.get_data(as_text=True)) or re.search(
        r'name="csrf-token" content="([^"]+)"', features.get_data(as_text=True)
    )
    accepted = admin.post(f"/psa/partner-features/{partner_id}", data={"enabled": "0", "csrf_token": token.group(1)})
    out["post_with_token"] = accepted.status_code
    print(json.dumps(out))


if __name__ == "__main__":
    main()
