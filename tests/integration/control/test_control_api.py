"""Sync control over REST, the CLI and the pages: the same commands, the viewer reads only."""

from __future__ import annotations

import json

from msphub_psa.commands.billing.preview import PreparePreviewCommand
from tests.support.card import session_client
from tests.support.control import preview_row, run_queued
from tests.support.push import expected_transactions, items, push_setup

API = "/api/v1/psa_sync"


def test_rest_preview_prepare_approve_a_subset_and_discard(app, cw_live):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
        total = len(expected_transactions(customers))
    client, headers = session_client(app)
    live = client.get(f"{API}/preview?page_size=1&lines=2")
    assert live.status_code == 200
    body = live.get_json()
    assert body["id"] is None and body["status"] == "live" and body["totals"]["transactions"] == total
    assert len(body["groups"]["result"]) == 1 and len(body["groups"]["result"][0]["lines"]) <= 2
    assert client.get(f"{API}/preview?page_size=0").status_code == 400
    assert client.get(f"{API}/preview?lines=501").status_code == 400

    prepared = client.post(f"{API}/previews", headers=headers)
    assert prepared.status_code == 201
    preview = prepared.get_json()
    assert preview["status"] == "awaiting_approval" and preview["totals"] == body["totals"]
    status = client.get(f"{API}/").get_json()
    assert status["awaiting_approval"]["id"] == preview["id"] and status["approval_required"] is True
    page = client.get("/psa/reconciliation/")
    assert b'id="approval-banner"' in page.data and f"?preview={preview['id']}".encode() in page.data

    first = preview["groups"]["result"][0]
    assert (
        client.post(f"{API}/previews/{preview['id']}/approve", json={"agreement_ids": []}, headers=headers).status_code
        == 400
    )
    assert (
        client.post(
            f"{API}/previews/{preview['id']}/approve", json={"agreement_ids": ["x"]}, headers=headers
        ).status_code
        == 400
    )
    approved = client.post(
        f"{API}/previews/{preview['id']}/approve", json={"agreement_ids": [first["agreement_id"]]}, headers=headers
    )
    assert approved.status_code == 202
    job = approved.get_json()
    assert job["transactions"] == first["transactions"] and job["preview_id"] == preview["id"]
    with app.app_context():
        outcome = run_queued(job["job_id"])
        assert outcome["counts"] == {"pushed": first["transactions"]}
        assert {r.customer_id for r in items(partner_id) if r.state == "pushed"} == {first["customer_id"]}
    detail = client.get(f"{API}/previews/{preview['id']}").get_json()
    assert detail["status"] == "approved" and detail["run_id"] == outcome["run_id"]
    assert b'id="approval-banner"' not in client.get("/psa/reconciliation/").data
    again = client.post(f"{API}/previews/{preview['id']}/approve", json={}, headers=headers)
    assert again.status_code == 409 and "approved" in again.get_json()["message"]

    second = client.post(f"{API}/previews", headers=headers).get_json()  # what is left: the other customer
    assert second["totals"]["transactions"] == total - first["transactions"]
    discarded = client.post(f"{API}/previews/{second['id']}/discard", headers=headers)
    assert discarded.status_code == 200 and discarded.get_json() == {"id": second["id"], "status": "discarded"}
    assert client.get(f"{API}/previews/987654").status_code == 404
    assert client.post(f"{API}/previews/987654/discard", headers=headers).status_code == 404


def test_viewer_previews_and_reads_but_cannot_prepare_approve_or_discard(app, cw_live):
    with app.app_context():
        partner_id, actor, _customers = push_setup(cw_live, customers=1)
        preview_id = PreparePreviewCommand(actor, partner_id).run()
    viewer, headers = session_client(app, "pilot.viewer")
    assert viewer.get(f"{API}/preview").status_code == 200
    assert viewer.get(f"{API}/previews/{preview_id}").status_code == 200
    assert viewer.post(f"{API}/previews", headers=headers).status_code == 403
    assert viewer.post(f"{API}/previews/{preview_id}/approve", json={}, headers=headers).status_code == 403
    assert viewer.post(f"{API}/previews/{preview_id}/discard", headers=headers).status_code == 403
    page = viewer.get("/psa/sync/preview/")
    assert page.status_code == 200 and b"viewer-note" in page.data and b"btn-push-all" not in page.data
    assert f'data-preview-id="{preview_id}"'.encode() in page.data  # the awaiting preview opens by itself
    with app.app_context():
        assert preview_row(preview_id).status == "awaiting_approval" and items(partner_id) == []


def test_cli_preview_push_subset_approve_and_discard(app, cw_live):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id), "--as"]
    shown = runner.invoke(args=["psa", "sync", "preview", *base, "pilot.viewer", "--lines", "1"])
    assert shown.exit_code == 0, shown.output
    assert "Preview (live, not saved)" in shown.output and "MSPHUB-T" in shown.output and "more line(s)" in shown.output
    as_json = json.loads(runner.invoke(args=["psa", "sync", "preview", *base, "pilot.viewer", "--json"]).output)
    agreement = as_json["groups"]["result"][0]["agreement_id"]
    pushed = runner.invoke(
        args=["psa", "sync", "push", *base, "pilot.admin", "--agreement", str(agreement), "--inline"]
    )
    assert pushed.exit_code == 0, pushed.output
    result = json.loads(pushed.output)
    assert result["status"] == "succeeded" and result["counts"]["pushed"] == result["transactions"]
    prepared = runner.invoke(args=["psa", "sync", "prepare", *base, "pilot.admin"])
    assert prepared.exit_code == 0 and "awaiting_approval" in prepared.output
    preview_id = int(prepared.output.split("#")[1].split()[0])
    assert (
        runner.invoke(args=["psa", "sync", "discard", *base, "pilot.viewer", "--preview", str(preview_id)]).exit_code
        == 2
    )
    assert (
        json.loads(
            runner.invoke(args=["psa", "sync", "discard", *base, "pilot.admin", "--preview", str(preview_id)]).output
        )["status"]
        == "discarded"
    )
    late = runner.invoke(args=["psa", "sync", "approve", *base, "pilot.admin", "--preview", str(preview_id)])
    assert late.exit_code == 2 and "Error (409)" in late.output
    with app.app_context():
        assert len([r for r in items(partner_id) if r.state == "pushed"]) == result["transactions"]
