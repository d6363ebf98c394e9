"""The blocked rows on every surface: the Reconciliation Center's Blocked figure, ``GET /api/v1/psa_sync/check``
and ``flask psa sync check`` say the same, grouped by cause, with the fix."""

from __future__ import annotations

import json
from decimal import Decimal

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from tests.integration.preflight.sandbox import edit
from tests.support.card import session_client
from tests.support.push import expected_transactions, items, push_setup


def test_blocked_rows_on_the_figure_the_api_and_the_cli(app, cw_live):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
        txs = expected_transactions(customers)
        PushBillingCommand(partner_id).run()  # nothing blocked: the agreements are open
        assert {r.state for r in items(partner_id)} == {"pushed"}
    client, _headers = session_client(app)
    assert client.get("/api/v1/psa_sync/check").get_json()["total"] == 0
    with app.app_context():
        from tests.support.push import add_history

        add_history(partner_id, customers, len(txs) + 6)
        victim = next(r.agreement_remote_id for r in items(partner_id) if r.customer_id == customers[0])
        edit(cw_live, "agreements", victim, lambda r: r.update(cancelledFlag=True))
        result = PushBillingCommand(partner_id).run()
        blocked = [r for r in items(partner_id) if r.state == "blocked"]
        assert blocked and result.counts["blocked"] == len(blocked)
        assert {r.agreement_remote_id for r in blocked} == {victim}

    check = client.get("/api/v1/psa_sync/check").get_json()
    assert check["total"] == len(blocked)
    assert check["summary"] == f"{len(blocked)} transaction{'s' if len(blocked) > 1 else ''} blocked: " + (
        f"{len(blocked)} agreement cancelled in ConnectWise"
    )
    (cause,) = check["causes"]
    assert cause["code"] == "AgreementCancelled" and "Finance > Agreements" in cause["fix"]
    assert sorted(r["item_id"] for r in cause["rows"]) == sorted(r.id for r in blocked)

    summary = client.get("/api/v1/psa_reconciliation/summary").get_json()
    assert summary["blocked_count"] == len(blocked) and Decimal(summary["blocked"]) == Decimal(check["amount"])
    assert summary["blocked_causes"][0]["code"] == "AgreementCancelled"
    assert summary["pending_push_count"] == 0  # blocked rows are not pending

    runner = app.test_cli_runner()
    args = ["psa", "sync", "check", "--partner", str(partner_id), "--as", "pilot.viewer"]
    out = runner.invoke(args=args)
    assert out.exit_code == 0, out.output
    assert check["summary"] in out.output and "AgreementCancelled" in out.output and "Fix:" in out.output
    as_json = runner.invoke(args=[*args, "--json"])
    assert json.loads(as_json.output) == check
