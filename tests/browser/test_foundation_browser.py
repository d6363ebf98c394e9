"""Real Chromium: logins per role, the feature toggle and what a partner then sees."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.fixtures import browser_login, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "username, menu",
    [
        ("admin", "Console"),
        ("distributor", "Distributor"),
        ("pilot.admin", "My Account"),
        ("pilot.viewer", "My Account"),
    ],
)
def test_each_role_logs_in(live_app, page, username, menu):
    browser_login(page, live_app.url, username)
    assert page.locator(".navbar").get_by_text(menu, exact=False).first.is_visible()
    assert page.url.rstrip("/") == live_app.url


def test_partner_without_feature_sees_no_card_and_gets_403(live_app, page):
    browser_login(page, live_app.url, "fabrikam.admin")
    page.goto(f"{live_app.url}/psa/my-organization/")
    assert page.locator("#connectwise-card").count() == 0
    assert page.locator("#no-integrations").is_visible()
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 0
    screenshot(page, "foundation-partner-feature-off")
    response = page.goto(f"{live_app.url}/psa/")
    assert response.status == 403
    assert "not enabled for your organization" in page.content()


def test_turning_the_feature_on_shows_the_card(live_app, browser, page):
    browser_login(page, live_app.url, "distributor")
    page.goto(f"{live_app.url}/psa/partner-features/")
    row = page.locator("tr", has_text="Fabrikam IT Partners")
    row.get_by_role("button", name="Enable").click()
    expect(page.locator("#feature-modal")).to_be_visible()  # a confirmation naming the partner
    expect(page.locator("#feature-title")).to_have_text("Enable the ConnectWise integration for Fabrikam IT Partners?")
    page.click("#feature-confirm")
    page.wait_for_load_state("networkidle")
    assert "enabled for Fabrikam IT Partners" in page.content()
    screenshot(page, "foundation-partner-features")
    partner = browser.new_context().new_page()
    browser_login(partner, live_app.url, "fabrikam.admin")
    partner.goto(f"{live_app.url}/psa/my-organization/")
    assert partner.locator("#connectwise-card").is_visible()
    screenshot(partner, "foundation-card-visible")
    partner.context.close()
