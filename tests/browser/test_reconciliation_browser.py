"""Real Chromium on the Reconciliation Center: drag and drop, keyboard, disassociate, exact matches, suggestions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.fixtures import browser_login, screenshot
from tests.support.reconciliation import pilot_ready

pytestmark = pytest.mark.browser


def row(page, list_id, name):
    """The list item whose name is exactly ``name``."""
    return page.locator(f"#{list_id} li").filter(
        has=page.locator(".recon-name", has_text=re.compile(f"^{re.escape(name)}$"))
    )


def unmapped_is(page, count):
    """Wait until the Unmapped Customers indicator shows ``count`` (the page's CSP forbids eval)."""
    expect(page.locator("#fig-unmapped-customers")).to_have_text(str(count))


def figure(page, fig_id):
    """An indicator's number."""
    return int(page.locator(f"#{fig_id}").inner_text())


def search(page, box_id, text):
    """Type into a list's search box and wait for the list to reload."""
    with page.expect_response(lambda r: "/psa_reconciliation/" in r.url and r.request.method == "GET"):
        page.fill(f"#{box_id}", text)


def open_page(live_app, page):
    """Sign in as the pilot's admin and open the Reconciliation Center, lists loaded."""
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    page.wait_for_selector("#customer-list li.recon-customer")
    page.wait_for_selector("#company-list li.recon-company")
    expect(page.locator("#fig-unmapped-customers")).not_to_have_text("–")


def test_exact_matches_suggestions_drag_keyboard_and_disassociate(app, live_app, page, cw_live):
    with app.app_context():
        pilot_ready(cw_live)
    open_page(live_app, page)
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 1
    screenshot(page, "recon-start")
    start = figure(page, "fig-unmapped-customers")

    # A case-only difference is offered as a suggestion with its score, never mapped.
    pharmacy = row(page, "customer-list", "contoso pharmacy")
    pharmacy.locator(".recon-suggestion").first.wait_for()
    assert "Contoso Pharmacy" in pharmacy.locator(".recon-suggestion").first.inner_text()
    assert "score 99, differs only in case" in pharmacy.inner_text()

    # "Map exact matches" first shows the list, then maps exact names only.
    page.click("#map-exact")
    page.wait_for_selector("#exact-modal.in #exact-table tbody tr")
    names = page.locator("#exact-table tbody td:nth-child(2)").all_inner_texts()
    assert "Northwind Traders" in names and "contoso pharmacy" not in names
    screenshot(page, "recon-exact-preview")
    page.click("#exact-confirm")
    unmapped_is(page, start - len(names))
    expect(row(page, "customer-list", "Northwind Traders")).to_have_count(0)
    expect(row(page, "customer-list", "contoso pharmacy")).to_have_count(1)
    after_exact = figure(page, "fig-unmapped-customers")

    # Drag a customer onto a company.
    search(page, "company-search", "Globex")
    expect(page.locator("#company-list li.recon-company")).to_have_count(1)
    expect(row(page, "company-list", "Globex Corporation")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.drag_and_drop(
        "#customer-list li.recon-customer:has(.recon-name:text-is('contoso pharmacy'))",
        "#company-list li.recon-company:has(.recon-name:text-is('Globex Corporation'))",
    )
    unmapped_is(page, after_exact - 1)
    page.click("#tab-mapped")
    mapped = page.locator("#mapped-table tr.recon-mapped-row", has_text="contoso pharmacy")
    mapped.wait_for()
    assert "Globex Corporation" in mapped.inner_text() and "Manual" in mapped.inner_text()
    assert "pilot.admin" in mapped.inner_text()
    screenshot(page, "recon-mapped")

    # Keyboard: select a customer and a company with Enter, then Associate.
    page.click("#tab-unmapped")
    search(page, "company-search", "Initech")
    expect(page.locator("#company-list li.recon-company")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    customer = page.locator("#customer-list li.recon-customer").first
    customer_name = customer.locator(".recon-name").inner_text()
    customer.focus()
    page.keyboard.press("Enter")
    company = row(page, "company-list", "Initech")
    company.focus()
    page.keyboard.press("Enter")
    assert page.locator("#associate").is_enabled()
    page.locator("#associate").focus()
    page.keyboard.press("Enter")
    unmapped_is(page, after_exact - 2)
    expect(row(page, "customer-list", customer_name)).to_have_count(0)

    # Disassociate with confirmation: back to Unmapped.
    page.click("#tab-mapped")
    target = page.locator("#mapped-table tr.recon-mapped-row", has_text=customer_name)
    target.get_by_role("button", name="Disassociate").click()
    page.wait_for_selector("#unmap-modal.in")
    assert "What was already pushed stays in ConnectWise." in page.locator("#unmap-modal").inner_text()
    screenshot(page, "recon-disassociate")
    page.click("#unmap-confirm")
    unmapped_is(page, after_exact - 1)
    page.click("#tab-unmapped")
    row(page, "customer-list", customer_name).wait_for()
    page.click("#tab-subscriptions")
    page.locator("#subscriptions-table tbody tr", has_text="contoso pharmacy").wait_for()
    assert "of 3 mapped" in page.locator("#subscriptions-table").inner_text()  # the tab's wording
    screenshot(page, "recon-subscriptions")


def test_viewer_sees_the_page_without_write_actions(app, live_app, page, cw_live):
    with app.app_context():
        pilot_ready(cw_live)
    browser_login(page, live_app.url, "pilot.viewer")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    page.wait_for_selector("#customer-list li.recon-customer")
    assert page.locator("#map-exact").count() == 0 and page.locator("#associate").count() == 0
    assert page.locator("#refresh-directory").count() == 0
    assert page.locator("#customer-list li[draggable=true]").count() == 0
