"""Real Chromium on the operator's tools under the strict policy: the RQ dashboard (its own policy), User's
Statistics, and the permission lists that builtin roles leave empty."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from msphub_psa.jobqueue import FAST, get_queue
from tests.browser.watch import SIZES, PageWatch, horizontal_overflow
from tests.support.fixtures import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_sync_queues")]


def test_rq_dashboard_fills_its_queue_table(app, live_app, page):
    with app.app_context():
        queue = get_queue(FAST)
        queue.enqueue("msphub_psa.tasks.schedule_tick")  # no worker here: it waits, the table counts it
        name = queue.name
    watch = PageWatch(page)
    browser_login(page, live_app.url, "admin")
    page.locator(".navbar").get_by_text("Console").click()
    page.locator(".navbar").get_by_role("link", name="RQ Dashboard").click()
    row = page.locator("#queues tr[data-role=queue]", has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("1")
    assert "redis://" not in page.content()
    expect(page.locator("#rq-instances option")).to_have_text("Redis 1")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"rq-dashboard-{width}")
        assert horizontal_overflow(page) == 0
    page.click("a.nav-link:text-is('Workers')")
    expect(page.locator("#workers")).to_be_visible()
    expect(page.locator("#workers tbody")).not_to_contain_text("Loading...")
    page.click("#psa-rq-back")
    expect(page.locator(".navbar").get_by_text("Console")).to_be_visible()
    watch.assert_clean()


def test_user_statistics_draws_its_chart(live_app, page):
    watch = PageWatch(page)
    browser_login(page, live_app.url, "admin")
    page.locator(".navbar").get_by_text("Security").click()
    page.locator(".navbar").get_by_role("link", name="User's Statistics").click()
    chart = page.locator(".psa-bar-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("tbody tr", has_text="admin").first).to_be_visible()
    assert chart.locator(".psa-bar").count() >= 6  # one per demo user
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, f"user-statistics-{width}")
        assert horizontal_overflow(page) == 0
    watch.assert_clean()


def test_empty_permission_lists_leave_the_menu(live_app, page):
    browser_login(page, live_app.url, "admin")
    page.locator(".navbar").get_by_text("Security").click()
    menu = page.locator(".navbar .dropdown-menu").filter(has_text="List Roles")
    expect(menu.get_by_text("List Roles")).to_be_visible()
    for gone in ("Base Permissions", "Views/Menus", "Permission on Views/Menus"):
        assert menu.get_by_text(gone, exact=True).count() == 0
    assert page.locator(".navbar").get_by_text("My Account").count() == 0  # nothing in it for Admin
