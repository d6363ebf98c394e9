"""Real Chromium: the Reconciliation Center's Pending Push and Failed figures before and after a push."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from tests.support.fixtures import browser_login, screenshot
from tests.support.push import push_setup

pytestmark = pytest.mark.browser


def test_pending_push_and_failed_figures(app, live_app, page, cw_live):
    with app.app_context():
        partner_id, _actor, _customers = push_setup(cw_live, customers=2)
    browser_login(page, live_app.url, "pilot.admin")
    page.goto(f"{live_app.url}/psa/reconciliation/")
    expect(page.locator("#fig-pending-push")).not_to_have_text("–")
    assert page.locator("#fig-pending-push-count").inner_text() != "0 transaction(s)"
    expect(page.locator("#fig-failed-count")).to_have_text("0 transaction(s)")
    screenshot(page, "push-figures-before")
    with app.app_context():
        cw_live.set_faults(
            [
                {
                    "kind": "status",
                    "status": 400,
                    "methods": ["POST"],
                    "path": "/additions$",
                    "count": 1,
                    "body": {"code": "InvalidObject", "message": "refused"},
                }
            ]
        )
        PushBillingCommand(partner_id).run()
    page.reload()
    expect(page.locator("#fig-pending-push-count")).to_have_text("0 transaction(s)")
    expect(page.locator("#fig-failed-count")).to_have_text("1 transaction(s)")
    screenshot(page, "push-figures-after")
