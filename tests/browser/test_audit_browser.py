"""Real Chromium on Console → Audit Log: a partner viewer filters and exports the CSV from the page."""

from __future__ import annotations

import csv
import io

import pytest

from msphub_psa.commands.base import audit, transaction
from msphub_psa.domain.actor import Actor
from tests.support import tenants
from tests.support.fixtures import browser_login, screenshot

pytestmark = pytest.mark.browser


@transaction
def _events(partner_id: int, other_id: int) -> None:
    """A few events of the pilot and one of Fabrikam."""
    for action in ("customer.map", "customer.unmap", "rule.create"):
        audit(Actor(None, "pilot.admin"), action, "customer", 4, partner_id=partner_id)
    audit(Actor(None, "fabrikam.admin"), "customer.map", "customer", 9, partner_id=other_id)


def test_viewer_exports_filtered_csv_from_the_audit_page(app, live_app, page):
    with app.app_context():
        _events(tenants.pilot().id, tenants.other().id)
    browser_login(page, live_app.url, "pilot.viewer")
    page.goto(f"{live_app.url}/auditeventview/list/")
    page.wait_for_selector("#psa-audit-export")
    assert "fabrikam.admin" not in page.content()
    page.fill("#psa-audit-export input[name=action]", "customer.*")
    screenshot(page, "audit-log-export")
    with page.expect_download() as info:
        page.click("#psa-audit-export-btn")
    download = info.value
    assert download.suggested_filename.startswith("audit-") and download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [r["action"] for r in rows] == ["customer.map", "customer.unmap"]
    assert {r["username"] for r in rows} == {"pilot.admin"}
