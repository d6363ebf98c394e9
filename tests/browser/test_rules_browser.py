"""Real Chromium: Configure Product Defaults, from the PSA menu to counts, matching, moves and preview."""

from __future__ import annotations

import re

import pytest

from tests.integration.rules.conftest import product_count
from tests.support import tenants
from tests.support.fixtures import browser_login, screenshot
from tests.support.integration import make_active_integration

pytestmark = pytest.mark.browser


def count_of(page, rule_id) -> int:
    """The "Currently applies to N Product(s)" number of one rule card."""
    return int(page.locator(f".psa-rule[data-rule-id='{rule_id}'] .psa-rule-count").get_attribute("data-count"))


def fill_rule(page, conditions, category):
    """Fill the open editor: condition rows and the attributes."""
    for index, (field, operator, value) in enumerate(conditions):
        if index:
            page.click("#add-condition")
        row = page.locator("#conditions .psa-condition-row").nth(index)
        row.locator("[data-part=field]").select_option(field)
        row.locator("[data-part=operator]").select_option(operator)
        row.locator("[data-part=value]").fill(value)
    page.fill("#f-category", category)
    page.fill("#f-subcategory", "NCE")
    page.fill("#f-type", "License-Based")


def test_rules_page_counts_matching_move_and_preview(app, live_app, page, cw_live):
    with app.app_context():
        make_active_integration(tenants.pilot().id, cw_live)
    total = product_count(app)
    nce = product_count(app, publisher="Microsoft", item_type="OnlineServicesNCE")
    microsoft = product_count(app, publisher="Microsoft")
    browser_login(page, live_app.url, "pilot.admin")
    page.locator(".navbar").get_by_text("PSA Integration").first.click()
    page.locator(".navbar").get_by_text("Configure Product Defaults").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/psa/product-defaults/")
    assert count_of(page, "default") == total
    assert "The first matching rule is applied." in page.inner_text("#rules-note")
    screenshot(page, "rules-empty")

    page.click("#add-rule")
    fill_rule(page, [("publisher", "equals", "Microsoft"), ("item_type", "equals", "OnlineServicesNCE")], "Microsoft")
    page.wait_for_function("() => document.querySelector('#preview .psa-moves li') !== null")
    assert f"{nce} products move from Default Rule to this rule" in page.inner_text("#preview")
    assert page.locator("[data-new-for=category]").is_visible()  # not in ConnectWise's (cached) lists
    screenshot(page, "rules-editor-preview")
    assert count_of(page, "default") == total  # nothing saved yet
    page.click("#save-rule")
    page.wait_for_selector(".psa-rule[data-rule-id]:not([data-rule-id=default])")
    narrow = page.locator("#rules-list .psa-rule").first.get_attribute("data-rule-id")
    assert count_of(page, narrow) == nce and count_of(page, "default") == total - nce

    page.locator(f".psa-rule[data-rule-id='{narrow}'] [data-action=matching]").click()
    page.wait_for_function("() => document.querySelector('#matching-info').textContent.includes('product')")
    assert page.inner_text("#matching-info").startswith(f"{nce} products")
    rows = page.locator("#matching-table tbody tr")
    assert all(rows.nth(i).locator("td").nth(0).inner_text() == "Microsoft" for i in range(rows.count()))
    assert all(rows.nth(i).locator("td").nth(1).inner_text() == "OnlineServicesNCE" for i in range(rows.count()))
    page.fill("#matching-search", "premium")
    page.wait_for_function(f"() => !document.querySelector('#matching-info').textContent.startsWith('{nce} ')")
    screenshot(page, "rules-matching")
    page.locator("#matching-modal button.close").click()
    page.wait_for_selector("#matching-modal", state="hidden")

    page.click("#add-rule")
    fill_rule(page, [("publisher", "equals", "microsoft")], "Microsoft Other")
    page.wait_for_function("() => document.querySelector('#preview .psa-moves li') !== null")
    page.click("#save-rule")
    page.wait_for_function("() => document.querySelectorAll('#rules-list .psa-rule').length === 2")
    broad = page.locator("#rules-list .psa-rule").nth(1).get_attribute("data-rule-id")
    assert count_of(page, broad) == microsoft - nce

    page.locator(f".psa-rule[data-rule-id='{narrow}'] [data-action=down]").click()
    page.wait_for_function(f"() => document.querySelector('#rules-list .psa-rule').dataset.ruleId === '{broad}'")
    assert count_of(page, broad) == microsoft and count_of(page, narrow) == 0
    assert count_of(page, "default") == total - microsoft
    screenshot(page, "rules-after-move")

    page.locator(f".psa-rule[data-rule-id='{narrow}'] [data-action=edit]").click()
    page.locator("#f-priority").select_option("1")
    page.wait_for_function("() => document.querySelector('#preview').textContent.includes('from Rule')")
    assert re.search(rf"{nce} products move from Rule {broad} to this rule", page.inner_text("#preview"))
    page.locator("#rule-modal .modal-footer").get_by_text("Cancel").click()
    assert count_of(page, narrow) == 0  # the preview saved nothing
