"""Secrets sweep: known secrets never appear in pages, API answers, logs or job data.

Later features extend ``SECRETS`` (the integration's private key) and the flows.
"""

from __future__ import annotations

import logging
import os

from msphub_psa.jobqueue import redis_connection
from tests.support.web import PASSWORDS, api_token, login

PAGES = [
    "/",
    "/psa/my-organization/",
    "/psa/partner-features/",
    "/customerview/list/",
    "/auditeventview/list/",
    "/users/list/",
    "/users/show/1",
    "/api/v1/psa_features/",
    "/api/v1/security/users/",
    "/api/v1/security/users/1",
    "/integrationview/list/",
    # Operations: the audit log as JSON and CSV
    "/api/v1/psa_audit/",
    "/api/v1/psa_audit/export",
]


def test_secrets_appear_nowhere(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [os.environ["PSA_ENCRYPTION_KEYS"], app.config["SECRET_KEY"], *PASSWORDS.values()]
    bodies = []
    for user in ("admin", "distributor", "pilot.admin", "pilot.viewer"):
        c = app.test_client()
        login(c, user)
        bodies += [c.get(url).get_data(as_text=True) for url in PAGES]
        token = api_token(c, user)
        bodies += [
            c.get(url, headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
            for url in PAGES
            if url.startswith("/api/")
        ]
    with app.app_context():
        conn = redis_connection()
        job_data = [str(conn.hgetall(key)) for key in conn.scan_iter("rq:job:*", count=1000)]
    haystacks = {"pages and API": "\n".join(bodies), "logs": caplog.text, "jobs": "\n".join(job_data)}
    for secret in secrets:
        for where, text in haystacks.items():
            assert secret not in text, f"a secret leaked into {where}"


def test_integration_private_key_appears_nowhere(app, cw_live, caplog):
    """Card issue: the private key (good and bad) after activation, a failed edit and a deactivation."""
    from sqlalchemy import select

    from msphub_psa.daos.base import session
    from msphub_psa.models.integration import Integration
    from msphub_psa.models.tenancy import AuditEvent
    from tests.support.card import activate, edit, form_values, run_validation, session_client

    caplog.set_level(logging.DEBUG)
    bad_key = "Wrong-Private-Key-0123456789"
    client, headers = session_client(app)
    bodies, job_ids = [], []
    for call, values in ((activate, form_values(cw_live)), (edit, form_values(cw_live, private_key=bad_key))):
        response = call(client, headers, values)
        bodies.append(response.get_data(as_text=True))
        job_ids.append(response.get_json()["job_id"])
        run_validation(app, response.get_json()["integration_id"], job_ids[-1])
    with app.app_context():
        conn = redis_connection()
        job_data = [str(conn.hgetall(f"rq:job:{job_id}")) for job_id in job_ids]
        integration_id = session().scalar(select(Integration.id))
        events = [str(e.detail) for e in session().scalars(select(AuditEvent))]
    assert all(job_data), "the validation jobs are in Redis"
    pages = [
        "/psa/my-organization/",
        "/api/v1/psa_integration/",
        f"/integrationview/show/{integration_id}",
        "/integrationview/list/",
        "/integrationview/api/read",
        "/auditeventview/list/",
        "/psa/",
        "/api/v1/psa_audit/?page_size=500",
        "/api/v1/psa_audit/export",
    ]  # Operations
    for user in ("admin", "pilot.admin", "pilot.viewer"):
        c = app.test_client()
        login(c, user)
        bodies += [c.get(url).get_data(as_text=True) for url in pages]
    bodies.append(client.post("/api/v1/psa_integration/deactivate", headers=headers).get_data(as_text=True))
    haystacks = {
        "pages and API": "\n".join(bodies),
        "logs": caplog.text,
        "jobs": "\n".join(job_data),
        "audit": "\n".join(events),
    }
    for secret in (cw_live.private_key, bad_key):
        for where, text in haystacks.items():
            assert secret not in text, f"the private key leaked into {where}"


def test_push_keeps_the_private_key_out_of_job_data_runs_and_outbox(app, cw_live, caplog):
    """Billing push: the private key is in no push job's data, run record, outbox row, transition or answer."""
    from sqlalchemy import select

    from msphub_psa.commands.billing.orchestrator import PushBillingCommand
    from msphub_psa.daos.base import session
    from msphub_psa.jobqueue import enqueue_push
    from msphub_psa.models.sync import SyncItem, SyncRun, SyncTransition
    from msphub_psa.models.tenancy import AuditEvent
    from tests.support.card import session_client
    from tests.support.push import push_setup

    caplog.set_level(logging.DEBUG)
    with app.app_context():
        partner_id, _actor, _customers = push_setup(cw_live, customers=1)
        cw_live.set_faults(
            [
                {
                    "kind": "status",
                    "status": 400,
                    "methods": ["POST"],
                    "path": "/additions$",
                    "count": 1,
                    "body": {"code": "InvalidObject", "message": "refused"},
                }
            ]
        )
        PushBillingCommand(partner_id, "pilot.admin").run()
        job, _created = enqueue_push(partner_id, "pilot.admin")
        job_data = str(redis_connection().hgetall(f"rq:job:{job.id}"))
        stored = [
            str([(r.status, r.counts, r.error, r.requested_by, r.job_id) for r in session().scalars(select(SyncRun))]),
            str([(i.reference, i.last_error_code, i.last_error_message) for i in session().scalars(select(SyncItem))]),
            str([t.detail for t in session().scalars(select(SyncTransition))]),
            str([e.detail for e in session().scalars(select(AuditEvent))]),
        ]
    assert job_data
    client, headers = session_client(app)
    bodies = [
        client.get("/api/v1/psa_sync/").get_data(as_text=True),
        client.post("/api/v1/psa_sync/run", headers=headers).get_data(as_text=True),
    ]
    haystacks = {"job": job_data, "records": "\n".join(stored), "answers": "\n".join(bodies), "logs": caplog.text}
    for where, text in haystacks.items():
        assert cw_live.private_key not in text, f"the private key leaked into {where}"
