"""Real Chromium on Products / Subscriptions, Unmapped only: the indicator opens it in view; search, several
of one company associated at once; a selection across companies cannot be associated together."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.unmapped import CUSTOMER_NOT_MAPPED
from msphub_psa.daos.base import session
from tests.browser.watch import SIZES, PageWatch, horizontal_overflow
from tests.support.fixtures import browser_login, screenshot
from tests.support.reconciliation import pilot_ready
from tests.support.subscriptions import agreement, customer_with_subscriptions

pytestmark = pytest.mark.browser


def in_view(locator) -> bool:
    """True when the element's top is inside the window."""
    return locator.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")


def test_indicator_opens_unmapped_only_and_associates_several(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Zz Unmapped Browser Ltd", 3)
        agreement(partner_id, company, "Managed Monthly")
        agreement(partner_id, company, "Cloud Monthly")
        customer_with_subscriptions(partner_id, "Zz Lone Browser Ltd", 1, mapped=False)
        session().commit()
        sub_ids = [s.id for s in subs]
    watch = PageWatch(page)
    page.set_viewport_size({"width": 1440, "height": 900})
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#fig-unmapped-subscriptions")).not_to_have_text("–")
    page.click("#ind-unmapped-subscriptions")
    pane = page.locator("#subs-unmapped")
    expect(pane).to_be_visible()
    expect(pane.locator("tr.recon-unmapped-sub").first).to_be_visible()
    assert in_view(page.locator("#tab-subs-unmapped"))
    page.fill("#unmapped-subs-search", "zz ")
    rows = pane.locator("tr.recon-unmapped-sub")
    expect(rows).to_have_count(4)
    lone = rows.filter(has_text="Zz Lone Browser Ltd")
    expect(lone).to_contain_text(CUSTOMER_NOT_MAPPED)
    expect(lone.locator(".unmapped-pick")).to_be_disabled()
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        screenshot(page, f"unmapped-only-{width}")
        assert horizontal_overflow(page) == 0, width
    page.set_viewport_size({"width": 1440, "height": 900})

    for sid in sub_ids[:2]:
        page.check(f"tr.recon-unmapped-sub[data-subscription='{sid}'] .unmapped-pick")
    expect(page.locator("#unmapped-selection")).to_contain_text("2 selected, of Zz Unmapped Browser Ltd (CW).")
    page.click("#associate-selected")
    modal = page.locator("#associate-modal")
    expect(modal).to_be_visible()
    expect(modal.locator("#assoc-customer")).to_have_text("Zz Unmapped Browser Ltd")
    expect(modal.locator(".assoc-pick:checked")).to_have_count(2)
    modal.locator("#assoc-agreement").select_option(label=modal.locator("#assoc-agreement option").first.inner_text())
    expect(page.locator("#assoc-confirm")).to_be_enabled()
    page.click("#assoc-confirm")
    expect(modal).to_be_hidden()
    notice = pane.locator(".recon-feedback")
    expect(notice).to_contain_text("2 subscription(s) of Zz Unmapped Browser Ltd mapped to")
    assert in_view(notice)
    expect(rows).to_have_count(2)
    watch.assert_clean()
