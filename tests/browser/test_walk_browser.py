"""Real Chromium walks every page each demo role reaches from its menus (the PSA pages with the pilot's integration
active) and listens on each: no Content Security Policy violation (``securitypolicyviolation``), no console
error, no uncaught exception; and the pages of the plugin (and the FAB pages it draws or
extends) do not scroll sideways at 1440×900 or 1024×768."""

from __future__ import annotations

import pytest

from msphub_psa.demo.catalog import USERS
from tests.browser.watch import SIZES, PageWatch, horizontal_overflow
from tests.support.fixtures import browser_login
from tests.support.reconciliation import pilot_ready

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_sync_queues")]
ROLES = [username for username, *_ in USERS]
OURS = ("/psa/", "/auditeventview/list/", "/userstatschartview/")  # the plugin's pages, and FAB's it changed


def menu_links(page) -> list[str]:
    """The pages the navbar's menus lead to (menus, their entries and the user menu), in order, once each."""
    hrefs = page.eval_on_selector_all(".navbar a[href]", "els => els.map(e => e.getAttribute('href'))")
    links = []
    for href in hrefs:
        if not href or href.startswith("#") or "logout" in href or href in links:
            continue
        links.append(href)
    return links


@pytest.mark.parametrize("username", ROLES)
def test_every_menu_page_runs_clean_under_the_policy(app, live_app, page, cw_live, username):
    with app.app_context():
        pilot_ready(cw_live)  # the pilot's PSA Integration menu is there, its directory read
    watch = PageWatch(page)
    browser_login(page, live_app.url, username)
    links = menu_links(page)
    assert links, "no menu"
    visited, sideways = [], []
    for href in links:
        response = page.goto(live_app.url + href if href.startswith("/") else href)
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status < 400, f"{href}: {response and response.status}"
        assert not page.locator(".psa-error").count(), href
        visited.append(href)
        if href.startswith(OURS):
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                if horizontal_overflow(page):
                    sideways.append(f"{href} at {width}×{height}: {horizontal_overflow(page)} px")
            page.set_viewport_size({"width": 1280, "height": 900})
    watch.assert_clean()
    assert not sideways, sideways
    if username == "pilot.admin":
        assert {"/psa/reconciliation/", "/psa/sync/preview/", "/psa/product-defaults/"} <= set(visited)
    if username == "admin":
        assert {"/psa/rq/", "/userstatschartview/chart/"} <= set(visited)
