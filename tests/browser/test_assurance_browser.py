"""Real Chromium: a record deleted in ConnectWise shows in the Revenue assurance tab with the Drift figure;
Re-create clears it once the push and the next read-back have run."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from tests.support.assurance import first, pushed_ledger
from tests.support.fixtures import browser_login, screenshot

pytestmark = pytest.mark.browser


def test_deleted_record_shows_and_recreate_clears_it(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, _actor, rows = pushed_ledger(cw_live)
        row = first(rows)
        reference, agreement, record = row.reference, row.agreement_remote_id, row.remote_record_id
    cw_live.client().delete_addition(agreement, record)
    with app.app_context():
        ReadBackCommand(partner_id).run()
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#fig-drift")).to_contain_text("1 record, $")
    page.locator("#ind-drift").click()
    finding = page.locator("#assurance-table tr.assurance-row")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("Missing")
    expect(finding).to_contain_text(reference)
    screenshot(page, "assurance-missing")
    finding.locator("button[data-action=recreate]").click()
    expect(page.locator("#recon-alert")).to_contain_text("Re-create asked")
    expect(page.locator("#assurance-table tr.assurance-row")).to_have_count(0)
    with app.app_context():
        PushBillingCommand(partner_id).run()
        ReadBackCommand(partner_id).run()
    serials = [a["serialNumber"] for a in cw_live.state("additions", parent=agreement)]
    assert serials.count(reference) == 1
    page.reload()
    expect(page.locator("#fig-drift")).to_contain_text("0 records, $0.00")
    page.locator("#tab-assurance").click()
    page.locator("#assurance-status").select_option("recreated")
    expect(page.locator("#assurance-table tr.assurance-row")).to_have_count(1)
    screenshot(page, "assurance-recreated")
