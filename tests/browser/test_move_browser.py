"""Real Chromium: Change Subscription Mapping with pushed transactions offers Move, with the invoiced-periods
warning; Confirm with it ticked, then a push: the subscription shows the new agreement and Synced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from tests.integration.push.test_move import _ours, _scenario, _sub_rows
from tests.support.fixtures import browser_login, screenshot

pytestmark = pytest.mark.browser


def test_change_popup_moves_pushed_transactions(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, _actor, sub, old, new = _scenario(cw_live, extra_credit=False)
        ids = dict(
            sub=sub.id,
            customer=sub.customer_id,
            new=new.id,
            new_name=new.name,
            old_name=old.name,
            old_cw=old.remote_id,
            new_cw=new.remote_id,
            pushed=len(_sub_rows(partner_id, sub.id)),
        )
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    page.click("#tab-subscriptions")
    page.locator(f"tr.recon-subs-customer[data-customer='{ids['customer']}'] .recon-view-subs").click()
    row = page.locator(f"#subs-of-{ids['customer']} tr.recon-sub[data-subscription='{ids['sub']}']")
    expect(row.locator(".recon-sync")).to_have_text("Synced")
    row.locator(".recon-change").click()
    change = page.locator("#change-modal")
    expect(change).to_be_visible()
    expect(change.locator("#preview-move")).to_contain_text("nothing needs moving")  # same agreement, all history
    expect(change.locator("#change-move")).to_have_count(0)
    change.locator("#change-agreement").select_option(value=str(ids["new"]))
    expect(change.locator("#preview-move")).to_contain_text(
        f"{ids['pushed']} transaction(s) already pushed to {ids['old_name']} after the new From Date"
    )
    expect(change.locator("#preview-move")).to_contain_text("stay there unless you move them")
    box = change.locator("#change-move")
    expect(box).to_be_enabled()
    expect(box).not_to_be_checked()
    expect(change.locator(".recon-move label")).to_have_text(
        f" Move these {ids['pushed']} pushed transaction(s) to {ids['new_name']}"
    )
    warning = change.locator("#change-move-warning")
    expect(warning).to_contain_text("Periods ConnectWise has already invoiced stay on those invoices")
    expect(warning).to_contain_text(f"credited there, on agreement {ids['old_name']}")
    box.check()
    page.wait_for_timeout(400)  # let the modal finish fading in
    screenshot(page, "subs-change-move")
    change.locator("#change-confirm").click()
    expect(change).to_be_hidden()
    expect(page.locator(".alert-success").last).to_contain_text(
        f"{ids['pushed']} pushed transaction(s) will move there at the next push"
    )
    expect(row.locator(".recon-sub-agreement")).to_contain_text(ids["new_name"])
    expect(row.locator(".recon-sync")).to_have_text("Moving")
    assert "next push" in row.locator(".recon-sync").get_attribute("title")
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    screenshot(page, "subs-moving")

    with app.app_context():
        assert PushBillingCommand(partner_id).run().status == "succeeded"
        assert _ours(cw_live, ids["old_cw"], ids["sub"]) == {}
        assert len(_ours(cw_live, ids["new_cw"], ids["sub"])) == ids["pushed"]
    page.reload()
    page.click("#tab-subscriptions")
    page.locator(f"tr.recon-subs-customer[data-customer='{ids['customer']}'] .recon-view-subs").click()
    expect(row.locator(".recon-sub-agreement")).to_contain_text(ids["new_name"])
    expect(row.locator(".recon-sync")).to_have_text("Synced")
    screenshot(page, "subs-moved")
