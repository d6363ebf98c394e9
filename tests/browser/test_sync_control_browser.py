"""Real Chromium, a real worker and the sandbox: Preview -> choose a subset -> Approve -> rows show synced;
the Reconciliation Center's approval banner; Sync Settings with a refused value; the viewer cannot approve."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.control import preview_row
from tests.support.fixtures import browser_login, screenshot
from tests.support.push import expected_transactions, items, push_setup

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_preview_choose_a_subset_approve_and_rows_show_synced(app, live_app, page, cw_live, worker, browser):
    with app.app_context():
        partner_id, _actor, customers = push_setup(cw_live, customers=2)
    worker(queues="sync")
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/sync/preview/")
    expect(page.locator("#fact-approval")).to_contain_text("required")
    page.click("#btn-preview")
    groups = page.locator("tr.psa-sync-group")
    expect(groups).to_have_count(2)
    expect(page.locator("#awaiting-notice")).to_contain_text("This preview awaits approval")
    expect(page.locator("#btn-push-all")).to_have_text("Approve all")
    expect(page.locator("#catalog-create tbody tr").first).to_be_visible()
    expect(page.locator("tr.psa-sync-lines-row").first.locator("tbody tr").first).to_contain_text("MSPHUB-T")
    screenshot(page, "sync-preview-awaiting")

    chosen = int(groups.nth(0).get_attribute("data-customer"))
    other = int(groups.nth(1).get_attribute("data-customer"))
    with app.app_context():
        chosen_count = len(expected_transactions([chosen]))
    groups.nth(1).locator(".group-check").uncheck()
    expect(page.locator("#selection-count")).to_have_text("1 of 2 group(s) selected")
    expect(page.locator("#btn-push-selected")).to_be_enabled()
    expect(page.locator("#btn-push-selected")).to_have_text("Approve selected")
    page.click("#btn-push-selected")
    # A confirmation with the chosen figures first; nothing is sent before OK.
    expect(page.locator("#approve-modal")).to_be_visible()
    expect(page.locator("#approve-transactions")).to_contain_text(f"{chosen_count} transaction")
    expect(page.locator("#approve-agreements")).to_have_text("1 agreement")
    assert page.inner_text("#approve-net").startswith("$")
    with app.app_context():
        assert {r.state for r in items(partner_id)} <= {"pending"}
    page.click("#approve-ok")
    expect(page.locator("#approve-result")).to_contain_text("succeeded", timeout=60_000)  # where the user is
    expect(page.locator("#sync-alert")).to_contain_text("succeeded")
    expect(page.locator("#preview-outcome")).to_contain_text("Approved by pilot.admin")
    expect(page.locator("#preview-outcome")).to_contain_text("pushed by run #")
    expect(page.locator("tr.psa-sync-group.psa-sync-unselected")).to_have_count(1)
    screenshot(page, "sync-preview-approved")
    with app.app_context():
        pushed = [r for r in items(partner_id) if r.state == "pushed"]
        assert len(pushed) == chosen_count and {r.customer_id for r in pushed} == {chosen}
        assert {r.state for r in items(partner_id) if r.customer_id == other} == {"pending"}
        assert {chosen, other} == set(customers)

    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#approval-banner")).to_have_count(0)
    page.click("#tab-subscriptions")
    for customer_id, label in ((chosen, "Synced"), (other, "Pending")):
        row = page.locator(f"tr.recon-subs-customer[data-customer='{customer_id}']")
        row.locator(".recon-view-subs").click()
        statuses = page.locator(f"#subs-of-{customer_id} .recon-sync")
        expect(statuses.first).to_be_visible()
        assert set(statuses.all_inner_texts()) == {label}, customer_id
    screenshot(page, "sync-recon-synced")


def test_sync_now_with_approval_shows_the_banner_and_the_viewer_cannot_approve(app, live_app, page, cw_live, browser):
    with app.app_context():
        push_setup(cw_live, customers=1)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/sync/preview/")
    page.click("#btn-sync-now")
    expect(page.locator("#sync-alert")).to_contain_text("Approval is required")
    expect(page.locator("#awaiting-notice")).to_be_visible()
    page.goto(f"{live_app.url}/psa/reconciliation/")
    banner = page.locator("#approval-banner")
    expect(banner).to_contain_text("A billing push awaits approval")
    screenshot(page, "sync-recon-banner")
    banner.locator("#approval-banner-link").click()
    expect(page.locator("tr.psa-sync-group")).to_have_count(1)
    preview_id = int(page.url.split("preview=")[1])

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    viewer = context.new_page()
    browser_login(viewer, live_app.url, "pilot.viewer")
    viewer.goto(f"{live_app.url}/psa/sync/preview/")
    expect(viewer.locator("#awaiting-notice")).to_contain_text("by a Partner Admin")
    expect(viewer.locator("tr.psa-sync-group")).to_have_count(1)
    expect(viewer.locator("#viewer-note")).to_be_visible()
    assert viewer.locator("#btn-push-all, #btn-push-selected, #btn-discard, #btn-sync-now, .group-check").count() == 0
    viewer.click("#btn-preview")  # a viewer's Preview is live and saves nothing
    expect(viewer.locator("#preview-when")).to_contain_text("Live preview")
    answer = viewer.evaluate(
        """id => psaFetch('/api/v1/psa_sync/previews/' + id + '/approve',
                                                {method: 'POST', json: {}}).then(r => r.status)""",
        preview_id,
    )
    assert answer == 403
    screenshot(viewer, "sync-preview-viewer")
    context.close()
    with app.app_context():
        assert preview_row(preview_id).status == "awaiting_approval"


def test_sync_settings_page_saves_and_shows_a_refused_value(app, live_app, page, cw_live):
    with app.app_context():
        push_setup(cw_live, customers=1)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/sync/settings/")
    expect(page.locator("#approval-now")).to_have_text("required now")
    page.fill("#f-time", "07:45")
    page.uncheck("#f-day-sat")
    page.uncheck("#f-day-sun")
    page.check("#f-approval-never")
    page.fill("#f-limit", "0")
    page.click("#settings-save")
    expect(page.locator("[data-error-for=requests_per_minute]")).to_contain_text(
        "Enter a whole number of requests a minute"
    )
    expect(page.locator("#settings-alert")).to_contain_text("nothing was saved")
    screenshot(page, "sync-settings-error")
    page.fill("#f-limit", "120")
    page.click("#settings-save")
    expect(page.locator("#settings-alert")).to_contain_text("Saved.")
    expect(page.locator("#approval-now")).to_have_text("not required now")
    expect(page.locator("#limit-now")).to_have_text("120")
    page.reload()
    expect(page.locator("#f-time")).to_have_value("07:45")
    expect(page.locator("#f-day-sat")).not_to_be_checked()
    screenshot(page, "sync-settings")
