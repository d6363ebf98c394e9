"""REST and CLI of revenue assurance: the read-back by `flask psa assurance run --inline`, the findings and a
decision over REST, and the same findings by the CLI."""

from __future__ import annotations

import json

from tests.support.assurance import first, pushed_ledger
from tests.support.card import session_client


def test_cli_run_rest_findings_and_resolve(app, cw_live):
    with app.app_context():
        partner_id, _actor, rows = pushed_ledger(cw_live)
        row = first(rows)
        agreement, record = row.agreement_remote_id, row.remote_record_id
    cw_live.client().delete_addition(agreement, record)
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id), "--as", "pilot.admin"]
    out = runner.invoke(args=["psa", "assurance", "run", *base, "--inline"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["counts"] == {"missing": 1}

    client, headers = session_client(app)
    api = client.get("/api/v1/psa_sync/assurance/findings").get_json()
    [finding] = api["findings"]
    assert finding["code"] == "missing" and finding["record_id"] == record
    assert api["drift"]["records"] == 1 and api["drift"]["amount"] == finding["amount"]
    assert api["drift"]["by_code"]["missing"] == {"records": 1, "amount": finding["amount"]}
    out = runner.invoke(args=["psa", "assurance", "findings", *base, "--code", "missing"])
    assert out.exit_code == 0 and json.loads(out.output)["findings"] == api["findings"], out.output

    bad = client.get("/api/v1/psa_sync/assurance/findings?code=nonsense")
    assert bad.status_code == 400
    refused = client.post(
        f"/api/v1/psa_sync/assurance/findings/{finding['id']}/resolve", json={"action": "accept"}, headers=headers
    )
    assert refused.status_code == 400
    done = client.post(
        f"/api/v1/psa_sync/assurance/findings/{finding['id']}/resolve",
        json={"action": "ignore", "reason": "customer left, line removed on purpose"},
        headers=headers,
    )
    assert done.status_code == 200 and done.get_json()["finding"]["status"] == "ignored"
    out = runner.invoke(args=["psa", "assurance", "resolve", *base, str(finding["id"]), "--action", "ignore"])
    assert out.exit_code != 0 and "already ignored" in out.output
    assert client.get("/api/v1/psa_sync/assurance/findings").get_json()["drift"]["records"] == 0
