"""Real Chromium on the Products / Subscriptions tab: View Subscriptions, Associate (with a range error), Change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from msphub_psa.commands.reconciliation import MapExactMatchesCommand
from msphub_psa.daos.base import session
from msphub_psa.domain.periods import SEVERAL_ELIGIBLE_AGREEMENTS
from msphub_psa.models.reconciliation import SubscriptionMapping
from tests.support.fixtures import browser_login, screenshot
from tests.support.reconciliation import pilot_ready
from tests.support.subscriptions import agreement, customer_with_subscriptions

pytestmark = pytest.mark.browser


def mapped_count(customer_id):
    """Active subscription mappings of a customer."""
    return session().scalar(
        select(func.count(SubscriptionMapping.id)).where(
            SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None)
        )
    )


def test_associate_two_of_three_then_change(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        MapExactMatchesCommand(actor, partner_id).run()  # demo customers, their subscriptions auto-associated
        customer, company, subs = customer_with_subscriptions(partner_id, "Aaa Browser Subscriptions Ltd", 3)
        agreement(partner_id, company, "Managed 365 Monthly", type_name="Managed Services")
        agreement(partner_id, company, "Cloud Monthly", type_name="Cloud", bill_start_date=dt.date(2025, 2, 1))
        session().commit()
        customer_id = customer.id
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#fig-unmapped-subscriptions")).not_to_have_text("–")
    page.click("#tab-subscriptions")
    row = page.locator(f"tr.recon-subs-customer[data-customer='{customer_id}']")
    expect(row).to_contain_text("0 of 3 mapped")
    expect(page.locator("#subscriptions-summary")).to_contain_text("subscriptions mapped")
    unmapped_before = int(page.locator("#fig-unmapped-subscriptions").inner_text())
    screenshot(page, "subs-tab")

    row.locator(".recon-view-subs").click()
    detail = page.locator(f"#subs-of-{customer_id}")
    expect(detail.locator("tr.recon-sub")).to_have_count(3)
    expect(detail.locator("tr.recon-unmapped")).to_have_count(3)
    expect(detail.locator(".recon-unmapped-reason").first).to_have_text(SEVERAL_ELIGIBLE_AGREEMENTS)
    screenshot(page, "subs-expanded")

    detail.locator(".recon-associate").first.click()
    modal = page.locator("#associate-modal")
    expect(modal).to_be_visible()
    expect(modal.locator("#assoc-customer")).to_have_text("Aaa Browser Subscriptions Ltd")
    expect(modal.locator("#assoc-agreement option")).to_have_count(2)
    modal.locator("#assoc-agreement").select_option(
        label="Managed 365 Monthly — Managed Services — billing start 2024-01-01"
    )
    modal.locator("#assoc-search").fill("#2")
    expect(modal.locator("tr.assoc-sub:visible")).to_have_count(1)
    modal.locator("tr.assoc-sub:visible .assoc-pick").check()
    modal.locator("#assoc-search").fill("")
    expect(modal.locator("#assoc-count")).to_have_text("2 of 3 unmapped subscriptions selected")
    # One bound per subscription, beside it: ticking another does not move it.
    expect(modal.locator("tr.assoc-sub .assoc-bound")).to_have_text(["2025-01-15"] * 3)
    expect(modal.locator("#assoc-confirm")).to_have_text("Confirm: push 24 transaction(s), $1,650.00")
    modal.locator("#assoc-mode-custom").check()
    modal.locator("#assoc-from-date").fill("2024-06-01")
    expect(modal.locator("tr.assoc-sub .assoc-from").filter(has_text="before its earliest")).to_have_count(2)
    expect(modal.locator("#assoc-preview-body")).to_contain_text("2 selected subscription(s) cannot start that early")
    expect(modal.locator("#assoc-confirm")).to_be_disabled()
    page.wait_for_timeout(400)  # let the modal finish fading in
    screenshot(page, "subs-associate-range-error")
    with app.app_context():
        assert mapped_count(customer_id) == 0

    modal.locator("#assoc-from-date").fill("2025-03-01")
    # the consequence before Confirm: what will be sent, on the button too
    expect(modal.locator("#assoc-preview-new")).to_contain_text("will be pushed to Managed 365 Monthly")
    expect(modal.locator("#assoc-confirm")).to_have_text(
        re.compile(r"^Confirm: push \d+ transaction\(s\), \$[\d,]+\.\d{2}$")
    )
    page.wait_for_timeout(400)  # let the modal finish fading in
    screenshot(page, "subs-associate-popup")
    modal.locator("#assoc-confirm").click()
    expect(modal).to_be_hidden()
    expect(detail.locator("tr.recon-sub:not(.recon-unmapped)")).to_have_count(2)
    expect(detail.locator("tr.recon-unmapped")).to_have_count(1)
    expect(detail.locator("tr.recon-sub:not(.recon-unmapped) .recon-sub-agreement").first).to_contain_text(
        "Managed 365 Monthly"
    )
    expect(row).to_contain_text("2 of 3 mapped")
    expect(page.locator("#fig-unmapped-subscriptions")).to_have_text(str(unmapped_before - 2))
    with app.app_context():
        assert mapped_count(customer_id) == 2

    mapped_row = detail.locator("tr.recon-sub:not(.recon-unmapped)").first
    mapped_row.locator(".recon-change").click()
    change = page.locator("#change-modal")
    expect(change).to_be_visible()
    expect(change.locator("#change-bill-start")).to_have_text("2024-01-01")
    change.locator("#change-agreement").select_option(label="Cloud Monthly — Cloud — billing start 2025-02-01")
    expect(change.locator("#change-bill-start")).to_have_text("2025-02-01")
    expect(change.locator("#preview-to-new")).to_contain_text("will be pushed to Cloud Monthly from 2025-02-01")
    expect(change.locator("#preview-move")).to_contain_text("nothing needs moving")
    expect(change.locator("#change-all-date")).to_have_text("2025-02-01")
    expect(change.locator("#change-confirm")).to_have_text(re.compile(r"^Confirm: push \d+ transaction\(s\), \$"))
    page.wait_for_timeout(400)  # let the modal finish fading in
    screenshot(page, "subs-change-popup")
    change.locator("#change-confirm").click()
    expect(change).to_be_hidden()
    expect(
        detail.locator("tr.recon-sub:not(.recon-unmapped) .recon-sub-agreement").filter(has_text="Cloud Monthly")
    ).to_have_count(1)
    screenshot(page, "subs-after-change")


def test_a_cycle_mismatch_is_kept_only_when_the_user_ticks_keep_this_agreement(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(
            partner_id, "Aaa Annual Mismatch Ltd", 2, frequency="annual"
        )
        agreement(partner_id, company, "Only Monthly", cycle="Monthly")
        session().commit()
        customer_id, sub_ids = customer.id, [s.id for s in subs]
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    page.click("#tab-subscriptions")
    row = page.locator(f"tr.recon-subs-customer[data-customer='{customer_id}']")
    row.locator(".recon-view-subs").click()
    detail = page.locator(f"#subs-of-{customer_id}")
    detail.locator(".recon-associate").first.click()
    modal = page.locator("#associate-modal")
    expect(modal.locator("#assoc-warning")).to_be_visible()
    expect(modal.locator("#assoc-accept")).to_be_visible()
    expect(modal.locator("#assoc-accept-mismatch")).not_to_be_checked()
    expect(modal.locator("#assoc-preview-new")).to_contain_text("held back as Blocked")
    modal.locator("#assoc-accept-mismatch").check()
    expect(modal.locator("#assoc-preview-new")).to_contain_text("at the next push.")
    expect(modal.locator("#assoc-confirm")).to_be_enabled()
    page.wait_for_timeout(400)  # let the modal finish fading in
    screenshot(page, "subs-associate-accept-mismatch")
    modal.locator("#assoc-confirm").click()
    expect(modal).to_be_hidden()
    with app.app_context():
        accepted = (
            session()
            .scalars(
                select(SubscriptionMapping.mismatch_accepted).where(
                    SubscriptionMapping.subscription_id.in_(sub_ids), SubscriptionMapping.ended_at.is_(None)
                )
            )
            .all()
        )
    assert accepted and all(accepted), accepted

    detail.locator("tr.recon-sub .recon-change").first.click()
    change = page.locator("#change-modal")
    expect(change.locator("#change-warning")).to_be_visible()
    expect(change.locator("#change-accept-mismatch")).not_to_be_checked()  # asked again on each Change
