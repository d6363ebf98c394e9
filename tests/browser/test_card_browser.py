"""Real Chromium against the live app, a real worker and the sandbox over loopback: the card's states."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.integration import GENERIC_FAILURE
from tests.browser.watch import PageWatch
from tests.support.fixtures import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def fill_form(page, cw, private_key=None, client_id=True):
    """Fill the ConnectWise Integration form and save."""
    if client_id:
        page.fill("#cw-client_id", cw.client_id)
    page.fill("#cw-company_name", cw.company_id)
    page.fill("#cw-public_key", cw.public_key)
    page.fill("#cw-private_key", cw.private_key if private_key is None else private_key)
    page.fill("#cw-api_url", cw.base_url)
    page.click("#cw-save")


def open_card(page, live_app, username="pilot.admin"):
    browser_login(page, live_app.url, username)
    page.goto(f"{live_app.url}/psa/my-organization/")
    page.click("#tab-integrations")


def activate(page, cw, private_key=None):
    """Activate -> confirmation -> OK -> form -> Save."""
    page.click("#cw-activate")
    page.wait_for_selector("#cw-confirm-modal.in")
    assert "enables customer and subscription reconciliation" in page.inner_text("#cw-confirm-modal")
    page.click("#cw-confirm-ok")
    page.wait_for_selector("#cw-form-modal.in")
    fill_form(page, cw, private_key)


def test_full_activation_edit_and_deactivation(live_app, page, cw_live, worker):
    worker(queues="fast")
    open_card(page, live_app)
    screenshot(page, "card-1-not-activated")
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 0
    page.click("#cw-activate")
    page.wait_for_selector("#cw-confirm-modal.in")
    screenshot(page, "card-2-confirm")
    page.click("#cw-confirm-ok")
    page.wait_for_selector("#cw-form-modal.in")
    for text in (
        "cannot be modified later",
        "exactly as in your ConnectWise account",
        "API Keys section",
        "shows it only once",
        "System > My Company > Server Info",
    ):
        assert text in page.inner_text("#cw-form-modal")
    fill_form(page, cw_live)
    screenshot(page, "card-3-form-saved")
    page.wait_for_selector("#connectwise-card[data-status='active']", timeout=30_000)
    assert page.inner_text("#cw-status") == "Active"
    assert "Pat Pilot" in page.inner_text("#cw-activated-by")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page.inner_text("#cw-activated-at"))  # the page's one format
    assert "America/New_York" in page.inner_text("#psa-zone-note")
    for action in ("#cw-edit", "#cw-deactivate", "#cw-reconciliation"):
        assert page.locator(action).is_visible()
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 1  # menu appeared, no reload
    assert screenshot(page, "card-4-active").exists()  # the docs' images: tests/browser/test_doc_screenshots.py

    page.click("#cw-edit")
    page.wait_for_selector("#cw-form-modal.in")
    assert page.locator("#cw-client_id").get_attribute("readonly") is not None
    fill_form(page, cw_live, private_key="Bad-Private-Key", client_id=False)
    expect(page.locator("#cw-form-error")).to_contain_text(GENERIC_FAILURE, timeout=30_000)  # in the open form
    assert "previous ConnectWise credentials remain active" in page.inner_text("#cw-form-error")
    page.locator("#cw-form-modal .modal-footer").get_by_text("Cancel").click()
    expect(page.locator("#cw-error")).to_contain_text("previous ConnectWise credentials remain active")
    assert page.inner_text("#cw-status") == "Active"
    screenshot(page, "card-5-edit-failed-still-active")

    page.click("#cw-deactivate")
    page.wait_for_selector("#cw-deactivate-modal.in")
    page.click("#cw-deactivate-ok")
    page.wait_for_selector("#connectwise-card[data-status='deactivated']")
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 0
    screenshot(page, "card-6-deactivated")
    assert page.goto(f"{live_app.url}/psa/").status == 403


def test_wrong_private_key_keeps_the_form_open_with_the_error(live_app, page, cw_live, worker):
    """A refused key: the form stays open with the generic message and the hint in it, every field kept but the
    private key; a corrected key then activates from the same form."""
    worker(queues="fast")
    watch = PageWatch(page)
    open_card(page, live_app)
    activate(page, cw_live, private_key="Wrong-Private-Key")
    expect(page.locator("#cw-form-status")).to_be_visible()  # "Checking these details with ConnectWise…"
    error = page.locator("#cw-form-error")
    expect(error).to_contain_text(GENERIC_FAILURE, timeout=30_000)
    assert "refused the keys or the Client ID" in error.inner_text()
    expect(page.locator("#cw-form-modal")).to_be_visible()
    assert page.input_value("#cw-company_name") == cw_live.company_id
    assert page.input_value("#cw-public_key") == cw_live.public_key
    assert page.input_value("#cw-api_url") == cw_live.base_url
    assert page.input_value("#cw-client_id") == cw_live.client_id
    assert page.input_value("#cw-private_key") == ""
    expect(page.locator("#cw-group-private_key")).to_have_class(re.compile("has-error"))
    assert "Wrong-Private-Key" not in page.content()
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 0
    screenshot(page, "card-7-invalid-form-open")

    page.fill("#cw-private_key", cw_live.private_key)  # only the key again
    page.click("#cw-save")
    page.wait_for_selector("#connectwise-card[data-status='active']", timeout=30_000)
    expect(page.locator("#cw-form-modal")).to_be_hidden()
    assert page.locator(".navbar").get_by_text("PSA Integration").count() == 1
    watch.assert_clean()


def test_ssrf_refusal_shows_in_the_form(live_app, page, cw_live):
    open_card(page, live_app)
    page.click("#cw-activate")
    page.wait_for_selector("#cw-confirm-modal.in")
    page.click("#cw-confirm-ok")
    page.wait_for_selector("#cw-form-modal.in")
    page.fill("#cw-client_id", cw_live.client_id)
    page.fill("#cw-company_name", cw_live.company_id)
    page.fill("#cw-public_key", cw_live.public_key)
    page.fill("#cw-private_key", cw_live.private_key)
    page.fill("#cw-api_url", "https://169.254.169.254")
    page.click("#cw-save")
    page.wait_for_selector("#cw-group-api_url.has-error")
    assert "not an allowed ConnectWise API host" in page.inner_text("#cw-error-api_url")
    screenshot(page, "card-8-url-refused")


def test_viewer_sees_the_card_but_no_actions(live_app, page):
    open_card(page, live_app, "pilot.viewer")
    assert page.locator("#connectwise-card").is_visible()
    assert page.locator("#cw-activate").count() == 0 and page.locator("#cw-edit").count() == 0
    assert page.locator("#cw-readonly").is_visible()
    assert page.inner_text("#cw-readonly").startswith("You see this integration's status")
    screenshot(page, "card-9-viewer")


def test_partner_without_feature_sees_no_card(live_app, page):
    open_card(page, live_app, "fabrikam.admin")
    assert page.locator("#connectwise-card").count() == 0
    screenshot(page, "card-10-feature-off")
