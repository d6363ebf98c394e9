"""The user guide's screenshots (docs/images/), taken in Chromium at 1440×900 by walking the guide's screens in its
order on the test fixtures (the pilot's demo data, the sandbox, a real worker, the pinned clock).

Run on purpose only; without the variable the test is skipped:

    PSA_UPDATE_DOC_SCREENSHOTS=1 .venv/bin/python -m pytest -p no:cacheprovider tests/browser/test_doc_screenshots.py

It also refreshes the card image the plugin serves (``plugin/static/psa/docs/card-active.png``).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.integration import GENERIC_FAILURE
from tests.support.fixtures import ROOT, browser_login
from tests.support.reconciliation import seed_sandbox_for_pilot
from tests.support.settings import configure

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.usefixtures("empty_sync_queues"),
    pytest.mark.skipif(
        not os.environ.get("PSA_UPDATE_DOC_SCREENSHOTS"), reason="set PSA_UPDATE_DOC_SCREENSHOTS=1 to refresh them"
    ),
]
IMAGES = ROOT / "docs" / "images"
SERVED_CARD = ROOT / "plugin" / "static" / "psa" / "docs" / "card-active.png"
REFUSE_TWO = {  # two charges refused by ConnectWise: the run ends partial, with failed rows to show
    "kind": "status",
    "status": 400,
    "methods": ["POST"],
    "path": "/additions$",
    "count": 2,
    "body": {
        "code": "InvalidObject",
        "message": "Addition object is invalid",
        "errors": [{"code": "InactiveProduct", "message": "The product is inactive.", "field": "product"}],
    },
}


def shot(page, name: str, element=None, full_page: bool = False) -> None:
    """Save docs/images/<name>.png: the window (or the whole page, or one element), once animations have ended."""
    page.wait_for_timeout(500)  # Bootstrap's modal fade
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / f"{name}.png"
    if element is not None:
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)


def fill_card(page, cw, private_key: str) -> None:
    """The ConnectWise Integration form, then Save."""
    page.fill("#cw-client_id", cw.client_id)
    page.fill("#cw-company_name", cw.company_id)
    page.fill("#cw-public_key", cw.public_key)
    page.fill("#cw-private_key", private_key)
    page.fill("#cw-api_url", cw.base_url)
    page.click("#cw-save")


def partner_features(page, url: str) -> None:
    """Distributor → Partner Features, with the Enable confirmation open."""
    browser_login(page, url, "distributor")
    page.goto(f"{url}/psa/partner-features/")
    page.locator("#partner-features tr", has_text="Fabrikam").get_by_role("button", name="Enable").click()
    expect(page.locator("#feature-modal")).to_be_visible()
    shot(page, "partner-features")
    page.locator("#feature-modal").get_by_text("Cancel").click()
    page.goto(f"{url}/logout/")


def card(page, url: str, cw) -> None:
    """Activate with a wrong key (the validation error in the form), then the right one (Active)."""
    browser_login(page, url, "pilot.admin")
    page.goto(f"{url}/psa/my-organization/")
    page.click("#tab-integrations")
    page.click("#cw-activate")
    page.wait_for_selector("#cw-confirm-modal.in")
    page.click("#cw-confirm-ok")
    page.wait_for_selector("#cw-form-modal.in")
    fill_card(page, cw, "Wrong-Private-Key")
    expect(page.locator("#cw-form-error")).to_contain_text(GENERIC_FAILURE)
    shot(page, "card-validation-error")
    page.fill("#cw-private_key", cw.private_key)
    page.click("#cw-save")
    page.wait_for_selector("#connectwise-card[data-status='active']")
    expect(page.locator(".navbar").get_by_text("PSA Integration")).to_have_count(1)
    shot(page, "card-active", element=page.locator("#connectwise-card"))
    shutil.copyfile(IMAGES / "card-active.png", SERVED_CARD)


def product_defaults(page, url: str) -> None:
    """The guide's custom rule in the editor (with the counts' preview), the page, its Matching Products."""
    page.goto(f"{url}/psa/product-defaults/")
    page.wait_for_load_state("networkidle")
    page.click("#add-rule")
    for index, (field, value) in enumerate((("publisher", "Microsoft"), ("item_type", "OnlineServicesNCE"))):
        if index:
            page.click("#add-condition")
        row = page.locator("#conditions .psa-condition-row").nth(index)
        row.locator("[data-part=field]").select_option(field)
        row.locator("[data-part=operator]").select_option("equals")
        row.locator("[data-part=value]").fill(value)
    page.fill("#f-category", "Microsoft")
    page.fill("#f-subcategory", "Perpetual Software")
    page.fill("#f-type", "License-Based")
    page.wait_for_function("() => document.querySelector('#preview .psa-moves li') !== null")
    shot(page, "rule-editor")
    page.click("#save-rule")
    page.wait_for_selector(".psa-rule[data-rule-id]:not([data-rule-id=default])")
    page.wait_for_load_state("networkidle")
    shot(page, "product-defaults")
    page.locator("#rules-list .psa-rule").first.locator("[data-action=matching]").click()
    page.wait_for_function("() => document.querySelector('#matching-info').textContent.includes('product')")
    shot(page, "matching-products")
    page.locator("#matching-modal button.close").click()
    page.wait_for_selector("#matching-modal", state="hidden")


def reconciliation(page, url: str) -> None:
    """The directory read at activation (exact names map themselves), the Customers tab with suggestions, then
    Mapped."""
    page.goto(f"{url}/psa/reconciliation/")
    expect(page.locator("#directory-status")).to_contain_text("last refreshed", timeout=60_000)
    page.reload()
    page.wait_for_selector("#customer-list li.recon-customer")
    page.wait_for_selector("#company-list li.recon-company")
    page.locator(".recon-suggestion").first.wait_for()
    expect(page.locator("#fig-unsynchronized")).not_to_have_text("–")
    page.wait_for_load_state("networkidle")
    shot(page, "reconciliation-customers", full_page=True)
    page.click("#tab-mapped")
    page.locator("#mapped-table tr.recon-mapped-row").first.wait_for()
    page.locator("#mapped-table tr.recon-mapped-row").first.get_by_role("button", name="Disassociate").click()
    page.wait_for_selector("#unmap-modal.in")
    page.locator("#tab-mapped").scroll_into_view_if_needed()
    shot(page, "reconciliation-disassociate")
    page.locator("#unmap-modal").get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#unmap-modal", state="hidden")


def subscriptions(page, url: str) -> None:
    """Products / Subscriptions: a customer with an unmapped subscription expanded, Associate, then Change."""
    page.click("#tab-subscriptions")
    rows = page.locator("#subscriptions-table tr.recon-subs-customer")
    rows.first.wait_for()
    row = rows.filter(has=page.locator(".label-warning")).first  # a customer with unmapped subscriptions
    customer_id = row.get_attribute("data-customer")
    row.locator(".recon-view-subs").click()
    detail = page.locator(f"#subs-of-{customer_id}")
    detail.locator("tr.recon-sub").first.wait_for()
    row.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -200)")  # the table's header too
    shot(page, "subscriptions-tab")
    associate = detail.locator(".recon-associate")
    if associate.count():
        associate.first.click()
        modal = page.locator("#associate-modal")
        expect(modal).to_be_visible()
        expect(modal.locator("#assoc-confirm")).to_contain_text("Confirm: push")
        shot(page, "associate-popup")
        modal.locator("#assoc-confirm").click()
        expect(modal).to_be_hidden()
    change = detail.locator(".recon-change")
    change.first.wait_for()
    change.first.click()
    modal = page.locator("#change-modal")
    expect(modal).to_be_visible()
    expect(modal.locator("#change-preview-body")).not_to_contain_text("Loading")
    shot(page, "change-popup")
    modal.locator("#change-cancel").click()
    expect(modal).to_be_hidden()
    page.click("#ind-unmapped-subscriptions")  # Unmapped only, across customers, opened in view
    page.locator("#subs-unmapped tr.recon-unmapped-sub").first.wait_for()
    page.wait_for_load_state("networkidle")
    shot(page, "unmapped-only")


def billing_sync(page, url: str, cw) -> None:
    """Billing Sync Preview, Approve all (two charges refused), the run history with the alert, the failed rows."""
    page.goto(f"{url}/psa/sync/preview/")
    page.click("#btn-preview")
    expect(page.locator("tr.psa-sync-group").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "sync-preview")
    cw.set_faults([REFUSE_TWO])
    page.click("#btn-push-all")
    expect(page.locator("#approve-modal")).to_be_visible()
    page.click("#approve-ok")
    expect(page.locator("#approve-result")).to_contain_text(re.compile(r"Run #\d+ (succeeded|partial)"), timeout=90_000)
    page.click("#approve-close")
    page.goto(f"{url}/psa/sync/")
    expect(page.locator("#sync-alert")).to_be_visible()
    expect(page.locator("#runs-table .psa-run").first).to_be_visible()
    shot(page, "billing-sync")
    page.locator("#runs-table .psa-run-link").first.click()
    expect(page.locator("#failed-table .psa-failed-row").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    shot(page, "run-failed-rows")


def test_user_guide_screenshots(app, live_app, page, cw_live, worker, monkeypatch):
    monkeypatch.setenv("PSA_CW_REQUESTS_PER_MINUTE", "600")  # the shipped default (the suite turns it off)
    configure(app, PSA_CW_REQUESTS_PER_MINUTE=600)
    with app.app_context():
        seed_sandbox_for_pilot(cw_live)
    worker(queues="fast,sync")
    page.set_viewport_size({"width": 1440, "height": 900})
    url = live_app.url
    partner_features(page, url)
    card(page, url, cw_live)
    product_defaults(page, url)
    reconciliation(page, url)
    subscriptions(page, url)
    billing_sync(page, url, cw_live)
    page.goto(f"{url}/psa/sync/settings/")
    page.wait_for_load_state("networkidle")
    shot(page, "sync-settings")
