"""Real Chromium, a real worker and the sandbox over loopback: Sync now -> the progress bar moves -> rows show
synced; a row ConnectWise refused shows its reason on the run page; Retry selected pushes it once the cause is
removed; the alert shows on the Reconciliation Center and the card until Acknowledge clears it."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from msphub_psa.daos.base import session
from msphub_psa.models.hub import Customer
from tests.support.fixtures import browser_login, screenshot
from tests.support.push import add_history, expected_transactions, items, push_setup, without_approval

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.usefixtures("empty_sync_queues")]
ROWS = 24  # at least: the demo data of the pinned day may give the customers more
HOLD_WRITES = {"kind": "hold", "methods": ["POST"], "path": "/(additions|adjustments)$"}
REFUSE_ONE = {
    "kind": "status",
    "status": 400,
    "methods": ["POST"],
    "path": "/additions$",
    "count": 1,
    "body": {
        "code": "InvalidObject",
        "message": "The product is inactive in this agreement.",
        "errors": [{"code": "InvalidObject", "message": "product is inactive", "field": "product"}],
    },
}
BATCH = 2  # PSA_PUSH_CONCURRENCY: rows per batch


def _step_through(page, cw_live, rows: int, batches: int = 3) -> None:
    """Hold each batch's writes in the sandbox until the bar has shown the rows done before it, then let them
    through: the bar is seen at 0, 2, 4… of ``rows`` whatever the machine's speed; then the rest goes at once."""
    for batch in range(batches):
        cw_live.wait_held(BATCH)
        expect(page.locator("#sync-progress-bar")).to_have_text(f"{batch * BATCH} / {rows}", timeout=30_000)
        cw_live.release(BATCH)
    cw_live.release(rows)


def test_sync_now_progress_failure_retry_and_alert(app, live_app, page, cw_live, worker, monkeypatch):
    monkeypatch.setenv("PSA_PUSH_PROGRESS_SECONDS", "0")
    monkeypatch.setenv("PSA_CW_REQUESTS_PER_MINUTE", "0")
    monkeypatch.setenv("PSA_PUSH_CONCURRENCY", str(BATCH))  # small batches: the bar has steps to show
    with app.app_context():
        partner_id, actor, customers = push_setup(cw_live, customers=2)
        without_approval(actor, partner_id)
        add_history(partner_id, customers, ROWS)
        rows = len(expected_transactions(customers))
        first = session().get(Customer, customers[0])
        first_id, first_name = first.id, first.name
    cw_live.set_faults([HOLD_WRITES, REFUSE_ONE])
    worker(queues="sync")

    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/#subscriptions&customer={first_id}&q={quote(first_name)}")
    expect(page.locator("#sync-summary")).to_have_text("No sync has run yet.")
    expect(page.locator(f"table.recon-subs-table[data-customer='{first_id}']")).to_be_visible()
    page.click("#sync-now")
    _step_through(page, cw_live, rows)
    screenshot(page, "sync-progress-reconciliation")
    expect(page.locator("#sync-alert")).to_be_visible(timeout=30_000)
    expect(page.locator("#sync-alert-text")).to_contain_text("ended partial")
    expect(page.locator("#sync-alert-text")).to_contain_text("1 failed")
    expect(page.locator("#sync-summary")).to_contain_text("partial")
    subs = page.locator(f"table.recon-subs-table[data-customer='{first_id}'] .recon-sync")
    expect(subs.filter(has_text="Synced").first).to_be_visible()
    expect(page.locator("#fig-failed-count")).to_have_text("1 transaction(s)")
    screenshot(page, "sync-done-reconciliation-alert")

    page.click("#sync-alert-link")
    expect(page.locator("#failed-table .psa-failed-row")).to_have_count(1)
    row = page.locator("#failed-table .psa-failed-row").first
    expect(row.locator(".psa-code")).to_have_text("InvalidObject")
    expect(row.locator(".psa-reason")).to_contain_text("The product is inactive in this agreement.")
    expect(row.locator(".psa-row-state")).to_have_text("failed")
    screenshot(page, "sync-run-failed-rows")

    cw_live.clear_faults()  # the cause is removed in ConnectWise
    row.locator(".failed-pick").check()
    page.click("#retry-selected")
    expect(page.locator("#history-alert")).to_contain_text("1 row(s) returned to pending")
    expect(row.locator(".psa-row-state")).to_have_text("pushed", timeout=30_000)
    expect(page.locator("#sync-summary")).to_contain_text("succeeded")
    with app.app_context():
        assert {i.state for i in items(partner_id)} == {"pushed"} and len(items(partner_id)) == rows
    screenshot(page, "sync-run-retried")

    link = row.locator(".psa-sub-link")
    link.click()
    target = page.locator("tr.recon-sub.recon-target")
    expect(target).to_have_count(1)
    expect(target.locator(".recon-sync")).to_have_text("Synced")

    page.click("#sync-history-link")
    expect(page.locator("#runs-table .psa-run")).to_have_count(2)
    expect(page.locator("#runs-table .psa-needs-ack")).to_have_count(1)
    screenshot(page, "sync-history")

    page.goto(f"{live_app.url}/psa/my-organization/")
    expect(page.locator("#connectwise-card #sync-alert")).to_be_visible()
    screenshot(page, "sync-card-alert")
    page.click("#sync-acknowledge")
    expect(page.locator("#sync-alert")).to_be_hidden()
    expect(page.locator("#sync-summary")).to_contain_text("succeeded")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#sync-summary")).to_contain_text("succeeded")
    expect(page.locator("#sync-alert")).to_be_hidden()
    screenshot(page, "sync-card-acknowledged")


def test_card_sync_now_shows_progress_and_viewer_reads_only(app, live_app, page, cw_live, worker, monkeypatch):
    monkeypatch.setenv("PSA_PUSH_PROGRESS_SECONDS", "0")
    monkeypatch.setenv("PSA_CW_REQUESTS_PER_MINUTE", "0")
    monkeypatch.setenv("PSA_PUSH_CONCURRENCY", str(BATCH))  # small batches: the bar has steps to show
    with app.app_context():
        partner_id, actor, customers = push_setup(cw_live, customers=1)
        add_history(partner_id, customers, 12)
        rows = len(expected_transactions(customers))
    cw_live.set_faults([HOLD_WRITES])
    worker(queues="sync")
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/my-organization/")
    page.click("#sync-now")  # approval is required before the first push: a preview waits, nothing is pushed
    expect(page.locator("#sync-review-link")).to_have_attribute("href", re.compile(r"^/psa/sync/preview/"))
    expect(page.locator("#sync-summary")).to_contain_text("Approval required")
    with app.app_context():
        without_approval(actor, partner_id)
    page.reload()
    page.click("#sync-now")
    _step_through(page, cw_live, rows, batches=2)
    screenshot(page, "sync-progress-card")
    expect(page.locator("#sync-summary")).to_contain_text("succeeded", timeout=30_000)
    expect(page.locator("#sync-alert")).to_be_hidden()

    page.goto(f"{live_app.url}/logout/")
    browser_login(page, live_app.url, "pilot.viewer")
    page.goto(f"{live_app.url}/psa/sync/")
    expect(page.locator("#runs-table .psa-run")).to_have_count(1)
    assert page.locator("#sync-now").count() == 0 and page.locator("#retry-all").count() == 0
    screenshot(page, "sync-history-viewer")
