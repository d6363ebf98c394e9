"""Real Chromium on the first push as a partner admin meets it: Approve confirms with the figures and
follows the push where the user is; money and times in one format and one zone; form errors in plain words after
the user acts; the distributor's toggle confirms; viewer texts; feedback next to the action; no page scrolls
sideways at 1440×900 or 1024×768."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand
from tests.browser.watch import SIZES, PageWatch, horizontal_overflow
from tests.support import tenants
from tests.support.fixtures import browser_login, screenshot
from tests.support.integration import make_active_integration
from tests.support.push import items, push_setup
from tests.support.reconciliation import pilot_ready

pytestmark = pytest.mark.browser
ZONE = "America/New_York"  # the pilot's
RAW_MONEY = re.compile(r"(?<![\d,.$])(\d{4,}\.\d{2}|\d+\.\d{3,})\b")  # 169678.46, 691.2000: raw amounts
TWELVE_HOUR = re.compile(r"\d{1,2}:\d{2}(:\d{2})?\s?[AP]M\b")
ZONE_ABBREVIATION = re.compile(r"\b(EST|EDT|UTC|GMT)\b")
TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


def text_of(page) -> str:
    """What the page shows (hidden tabs and dialogs left out)."""
    return page.evaluate("document.body.innerText")


def assert_one_format(page, *, times: bool = True) -> None:
    """Money with separators, times as YYYY-MM-DD HH:MM, the zone named exactly once and no zone abbreviation."""
    shown = text_of(page)
    assert not RAW_MONEY.findall(shown), (page.url, RAW_MONEY.findall(shown))
    assert not TWELVE_HOUR.search(shown) and not ZONE_ABBREVIATION.search(shown), page.url
    assert shown.count(ZONE) == 1, (page.url, shown.count(ZONE))
    if times:
        assert TIME.search(shown), page.url


def assert_no_sideways_scroll(page, name: str) -> None:
    """At both sizes: no horizontal scroll; a screenshot of each."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)  # one layout pass
        screenshot(page, f"{name}-{width}")
        assert horizontal_overflow(page) == 0, f"{name} scrolls sideways at {width}×{height}"
    page.set_viewport_size({"width": 1440, "height": 900})


def in_view(locator) -> bool:
    """True when the element is inside the window (nothing to scroll to see it)."""
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )


@pytest.mark.worker
@pytest.mark.usefixtures("empty_sync_queues")
def test_approve_confirms_with_the_figures_and_follows_the_push(app, live_app, page, cw_live, worker):
    with app.app_context():
        partner_id, actor, customers = push_setup(cw_live, customers=4)
        UpdateSyncSettingsCommand(actor, {"schedule_days": ["mon", "wed", "fri"]}, partner_id).run()
    worker(queues="sync")
    page.set_viewport_size({"width": 1440, "height": 900})
    watch = PageWatch(page)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/sync/preview/")
    expect(page.locator("#fact-schedule")).to_contain_text("06:00 on Monday, Wednesday and Friday, next ")
    page.click("#btn-preview")
    expect(page.locator("tr.psa-sync-group")).to_have_count(len(customers))
    net = page.inner_text("#tot-net")
    transactions = int(page.inner_text("#tot-scope").split(" ")[0])
    assert re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}", net)
    assert_one_format(page)
    assert_no_sideways_scroll(page, "first-push-preview")

    # The action bar is at the bottom of the window at the top of a long page: Approve all without scrolling.
    approve = page.locator("#btn-push-all")
    expect(approve).to_have_text("Approve all")
    assert page.evaluate("scrollY") == 0 and in_view(page.locator("#sync-sticky"))
    expect(page.locator("#selection-figures")).to_contain_text(f"{transactions} transactions, net {net}")
    approve.click()
    modal = page.locator("#approve-modal")
    expect(modal).to_be_visible()
    expect(page.locator("#approve-transactions")).to_contain_text(f"{transactions} transactions")
    expect(page.locator("#approve-agreements")).to_have_text(
        f"{len(customers)} agreements of {len(customers)} customers"
    )
    expect(page.locator("#approve-net")).to_have_text(net)
    expect(page.locator("#approve-catalog")).to_contain_text(re.compile(r"^(\d+ items?|none)"))
    screenshot(page, "first-push-confirm")
    page.click("#approve-cancel")  # Cancel sends nothing
    expect(modal).to_be_hidden()
    with app.app_context():
        assert not [i for i in items(partner_id) if i.state != "pending"]

    approve.click()
    expect(page.locator("#approve-ok")).to_have_text(f"Approve and push {transactions} transactions")
    page.click("#approve-ok")
    result = page.locator("#approve-result")
    expect(result).to_contain_text(re.compile(r"Run #\d+ succeeded"), timeout=60_000)
    assert in_view(result)
    screenshot(page, "first-push-result")
    page.click("#approve-close")
    expect(page.locator("#push-follow-text")).to_contain_text("succeeded")
    assert in_view(page.locator("#push-follow"))  # the result stays where the user is
    with app.app_context():
        assert {i.state for i in items(partner_id)} == {"pushed"}

    # Every page of the journey: money and times in one format, the zone named once, no sideways scroll.
    run_link = page.locator("#push-follow-open")
    run_link.click()
    expect(page.locator("#run-status")).to_have_text("succeeded")
    assert_one_format(page)
    assert_no_sideways_scroll(page, "first-push-run")
    for path, name in (
        ("/psa/sync/", "billing-sync"),
        ("/psa/my-organization/", "card"),
        ("/psa/sync/settings/", "sync-settings"),
        ("/psa/", "psa-home"),
    ):
        page.goto(live_app.url + path)
        page.wait_for_load_state("networkidle")
        if path != "/psa/sync/settings/":
            expect(page.locator("#psa-zone-note")).to_contain_text(ZONE)
        assert_one_format(page)
        assert_no_sideways_scroll(page, f"first-push-{name}")
    page.goto(f"{live_app.url}/psa/sync/settings/")
    expect(page.locator("#next-run-when")).to_contain_text(
        re.compile(r"(Monday|Wednesday|Friday), \d{4}-\d{2}-\d{2} 06:00")
    )
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#fig-pending-push")).not_to_have_text("–")
    page.click("#tab-mapped")
    expect(page.locator("#mapped-table tr.recon-mapped-row").first).to_be_visible()
    assert_one_format(page)
    assert_no_sideways_scroll(page, "first-push-reconciliation")
    # The console's lists of the same data: the same formats.
    for path in ("/syncrunview/list/", "/billingtransactionview/list/", "/syncitemview/list/"):
        page.goto(live_app.url + path)
        page.wait_for_load_state("networkidle")
        assert_one_format(page, times=path != "/billingtransactionview/list/")
        assert "{'pushed'" not in text_of(page)
    assert re.search(
        r"\$\d{1,3}(,\d{3})*\.\d{2}", page.goto(live_app.url + "/billingtransactionview/list/") and text_of(page)
    )
    watch.assert_clean()


def test_a_waiting_preview_shows_with_money_in_the_partners_currency(app, live_app, page, cw_live):
    with app.app_context():
        push_setup(cw_live, customers=3)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/sync/preview/")
    page.click("#btn-sync-now")  # approval required: a preview waits
    expect(page.locator("#awaiting-notice")).to_be_visible()
    page.goto(f"{live_app.url}/psa/reconciliation/")
    banner = page.locator("#approval-banner")
    expect(banner).to_contain_text(re.compile(r"net \$\d{1,3}(,\d{3})*\.\d{2},"))
    assert not RAW_MONEY.search(banner.inner_text())
    for path in ("/psa/sync/", "/psa/my-organization/"):  # after a reload too, wherever the sync widget stands
        page.goto(live_app.url + path)
        awaiting = page.locator("#sync-awaiting")
        expect(awaiting).to_contain_text(
            re.compile(
                r"awaits approval: \d+ transaction\(s\), net \$\d{1,3}(,\d{3})*\.\d{2}, "
                r"prepared by pilot\.admin on \d{4}-\d{2}-\d{2} \d{2}:\d{2}\."
            )
        )
        expect(page.locator("#sync-awaiting-link")).to_have_attribute(
            "href", re.compile(r"^/psa/sync/preview/\?preview=\d+$")
        )
    page.click("#sync-now")
    expect(page.locator("#sync-summary")).to_contain_text(re.compile(r"\(net \$\d{1,3}(,\d{3})*\.\d{2}\)"))


def test_form_errors_come_after_the_user_acts_next_to_the_field(app, live_app, page, cw_live):
    with app.app_context():
        make_active_integration(tenants.pilot().id, cw_live)
    watch = PageWatch(page)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/product-defaults/")
    page.click("#add-rule")
    expect(page.locator("#rule-modal")).to_be_visible()
    expect(page.locator("#preview")).to_contain_text("Fill in each condition")
    page.wait_for_timeout(600)  # the editor's preview has had its turn
    assert page.locator("#rule-modal .psa-field-error").count() == 0
    shown = page.inner_text("#rule-modal")
    assert "Not valid" not in shown and "attributes." not in shown and "conditions.0" not in shown
    assert_no_sideways_scroll(page, "rule-editor-open")

    page.click("#f-category")
    page.click("#f-type")  # leaves Category empty
    category_error = page.locator("#f-category").locator("xpath=..").locator(".psa-field-error")
    expect(category_error).to_have_text("Enter a category.")
    assert page.locator("#rule-modal .psa-field-error").count() == 1  # only the field the user left
    page.click("#save-rule")
    errors = page.locator("#rule-modal .psa-field-error")
    expect(errors).to_have_count(4)
    assert set(errors.all_inner_texts()) == {
        "Enter a value.",
        "Enter a category.",
        "Enter a subcategory.",
        "Enter a type.",
    }
    value_error = page.locator("#conditions .psa-condition-row").first.locator(".psa-field-error")
    expect(value_error).to_have_text("Enter a value.")
    expect(page.locator("#rule-errors")).to_have_text(
        "The rule was not saved: please correct the fields marked in red."
    )
    screenshot(page, "rule-editor-errors")
    page.locator("#conditions [data-part=value]").first.fill("Microsoft")
    page.fill("#f-category", "Microsoft")
    page.fill("#f-subcategory", "NCE")
    page.fill("#f-type", "License-Based")
    expect(page.locator("#preview .psa-moves")).to_be_visible()
    expect(page.locator("#rule-modal .psa-field-error")).to_have_count(0)

    page.goto(f"{live_app.url}/psa/sync/settings/")
    assert "null" not in text_of(page)
    page.fill("#f-limit", "0")
    expect(page.locator("[data-error-for=requests_per_minute]")).to_have_text("")  # still typing
    page.click("#f-time")  # leaves the field
    limit_error = page.locator("[data-error-for=requests_per_minute]")
    # the operator's cap (none in the suite) bounds it when there is one: "…a minute, from 1 to 600, or…"
    expect(limit_error).to_have_text(
        re.compile(
            r"^Enter a whole number of requests a minute, (1 or more|from 1 to \d+), "
            r"or choose Default\.$"
        )
    )
    page.click("#settings-save")
    expect(page.locator("#settings-alert")).to_contain_text("nothing was saved")
    assert "null" not in text_of(page)
    screenshot(page, "sync-settings-plain-error")
    assert_no_sideways_scroll(page, "sync-settings-error")
    watch.assert_clean()  # the editor and the form asked the server nothing they knew was wrong


def test_disabling_a_partner_confirms_naming_it_and_what_it_loses(app, live_app, page, cw_live):
    with app.app_context():
        make_active_integration(tenants.pilot().id, cw_live)
    watch = PageWatch(page)
    browser_login(page, live_app.url, "distributor")
    page.goto(f"{live_app.url}/psa/partner-features/")
    row = page.locator("tr", has_text="Contoso Managed Services")
    row.get_by_role("button", name="Disable").click()
    modal = page.locator("#feature-modal")
    expect(modal).to_be_visible()
    expect(page.locator("#feature-title")).to_have_text(
        "Disable the ConnectWise integration for Contoso Managed Services?"
    )
    lost = page.locator("#feature-disable").inner_text()
    for what in ("ConnectWise card", "PSA Integration menu", "billing pushes to ConnectWise", "are kept"):
        assert what in lost, what
    assert_no_sideways_scroll(page, "partner-features-confirm")
    page.locator("#feature-modal .modal-footer").get_by_text("Cancel").click()
    expect(modal).to_be_hidden()
    expect(row.locator(".label")).to_have_text("Enabled")  # Cancel changed nothing
    row.get_by_role("button", name="Disable").click()
    expect(page.locator("#feature-confirm")).to_have_text("Disable for Contoso Managed Services")
    page.click("#feature-confirm")
    page.wait_for_load_state("networkidle")
    expect(page.locator("tr", has_text="Contoso Managed Services").locator(".label")).to_have_text("Disabled")
    assert "disabled for Contoso Managed Services" in page.content()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page.locator("tr", has_text="Contoso").inner_text())
    assert_no_sideways_scroll(page, "partner-features")
    watch.assert_clean()


def test_viewer_texts_say_what_the_viewer_sees(app, live_app, page, cw_live):
    with app.app_context():
        pilot_ready(cw_live)
    watch = PageWatch(page)
    browser_login(page, live_app.url, "pilot.viewer")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#customer-list li.recon-customer").first).to_be_visible()
    shown = text_of(page)
    assert "drag" not in shown.lower() and "press Associate" not in shown
    expect(page.locator("#unmapped-help")).to_contain_text("next to the ConnectWise companies not mapped yet")
    assert_no_sideways_scroll(page, "viewer-reconciliation")
    for path, selector, start in (
        ("/psa/sync/settings/", "#viewer-note", "You see when pushes run"),
        ("/psa/sync/preview/", "#viewer-note", "You see what the next push would create"),
        ("/psa/my-organization/", "#cw-readonly", "You see this integration's status"),
    ):
        page.goto(live_app.url + path)
        expect(page.locator(selector)).to_contain_text(start)
        assert "Your role can" not in text_of(page)
        assert_no_sideways_scroll(page, "viewer-" + path.strip("/").replace("/", "-"))
    watch.assert_clean()


def test_confirmations_appear_next_to_the_row_and_the_list_does_not_scroll_inside(app, live_app, page, cw_live):
    with app.app_context():
        pilot_ready(cw_live)
    watch = PageWatch(page)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    customers = page.locator("#customer-list li.recon-customer")
    expect(customers.first).to_be_visible()
    expect(page.locator("#company-list li.recon-company").first).to_be_visible()
    sizes = page.evaluate(
        "(() => { const l = document.getElementById('customer-list');"
        " return [l.scrollHeight, l.clientHeight, getComputedStyle(l).overflowY]; })()"
    )
    assert sizes[0] <= sizes[1] and sizes[2] == "visible", sizes  # the page scrolls, not the list
    assert_no_sideways_scroll(page, "reconciliation-customers")

    # Map the 6th customer (well down the page) with the keyboard: the confirmation takes its place in the list.
    customer = customers.nth(5)
    name = customer.locator(".recon-name").inner_text()
    customer.focus()
    page.keyboard.press("Enter")
    company = page.locator("#company-list li.recon-company").nth(5)
    company_name = company.locator(".recon-name").inner_text()
    company.focus()
    page.keyboard.press("Enter")
    page.click("#associate")
    notice = page.locator("#customer-list .recon-feedback")
    expect(notice).to_have_text(
        f"{name} is mapped to {company_name}: it is now under Mapped and its subscriptions can be associated."
    )
    assert in_view(notice)
    expect(page.locator("#recon-alert")).to_be_hidden()  # nothing far above
    assert page.locator("#customer-list > li").nth(5).locator(".recon-feedback").count() == 1
    screenshot(page, "reconciliation-mapped-notice")

    page.click("#tab-mapped")
    target = page.locator("#mapped-table tr.recon-mapped-row", has_text=name)
    target.get_by_role("button", name="Disassociate").click()
    expect(page.locator("#unmap-modal")).to_be_visible()
    page.click("#unmap-confirm")
    notice = page.locator("#mapped-table .recon-feedback")
    expect(notice).to_have_text(f"{name} is disassociated from {company_name}: it is back under Unmapped.")
    assert in_view(notice)
    expect(page.locator("#recon-alert")).to_be_hidden()
    screenshot(page, "reconciliation-disassociated-notice")
    assert_no_sideways_scroll(page, "reconciliation-mapped")
    watch.assert_clean()
