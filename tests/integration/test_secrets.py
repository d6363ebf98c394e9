"""Secrets sweep: known secrets never appear in pages, API answers, logs or job data.

Later features extend ``SECRETS`` (the integration's private key) and the flows.
"""
from __future__ import annotations

import logging
import os

from plugin.jobs import redis_connection
from tests.support.web import PASSWORDS, api_token, login

PAGES = ["/", "/psa/my-organization/", "/psa/partner-features/", "/customerview/list/",
         "/auditeventview/list/", "/users/list/", "/users/show/1", "/api/v1/psa_features/",
         "/api/v1/security/users/", "/api/v1/security/users/1", "/integrationview/list/"]


def test_secrets_appear_nowhere(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [os.environ["PSA_ENCRYPTION_KEYS"], app.config["SECRET_KEY"], *PASSWORDS.values()]
    bodies = []
    for user in ("admin", "distributor", "pilot.admin", "pilot.viewer"):
        c = app.test_client()
        login(c, user)
        bodies += [c.get(url).get_data(as_text=True) for url in PAGES]
        token = api_token(c, user)
        bodies += [c.get(url, headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
                   for url in PAGES if url.startswith("/api/")]
    with app.app_context():
        conn = redis_connection()
        job_data = [str(conn.hgetall(key)) for key in conn.scan_iter(f"rq:job:*", count=1000)]
    haystacks = {"pages and API": "\n".join(bodies), "logs": caplog.text, "jobs": "\n".join(job_data)}
    for secret in secrets:
        for where, text in haystacks.items():
            assert secret not in text, f"a secret leaked into {where}"
