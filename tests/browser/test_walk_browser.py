"""Real Chromium walks every page each demo role reaches from its menus (the PSA pages with the pilot's integration
active) and listens on each: no Content Security Policy violation (``securitypolicyviolation``), no console
error, no uncaught exception (issue 17, issue 19)."""
from __future__ import annotations

import pytest

from msphub_psa.demo.catalog import USERS
from tests.browser.watch import PageWatch
from tests.support.fixtures import browser_login
from tests.support.reconciliation import pilot_ready

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("empty_sync_queues")]
ROLES = [username for username, *_ in USERS]


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
    visited = []
    for href in links:
        response = page.goto(live_app.url + href if href.startswith("/") else href)
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status < 400, f"{href}: {response and response.status}"
        assert not page.locator(".psa-error").count(), href
        visited.append(href)
    watch.assert_clean()
    if username == "pilot.admin":
        assert {"/psa/reconciliation/", "/psa/sync/preview/", "/psa/product-defaults/"} <= set(visited)
    if username == "admin":
        assert {"/psa/rq/", "/userstatschartview/chart/"} <= set(visited)
