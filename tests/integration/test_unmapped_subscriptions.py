"""Products / Subscriptions, Unmapped only: unmapped subscriptions across customers (command, REST, CLI)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from msphub_psa.commands.exceptions import InvalidInputError
from msphub_psa.commands.subscriptions import MapSubscriptionsCommand
from msphub_psa.commands.unmapped import CUSTOMER_NOT_MAPPED, UnmappedSubscriptionsCommand
from msphub_psa.daos.base import session
from msphub_psa.domain.periods import SEVERAL_ELIGIBLE_AGREEMENTS
from msphub_psa.models.hub import Subscription
from msphub_psa.models.reconciliation import SubscriptionMapping
from tests.integration.test_reconciliation_queries import counting
from tests.support.reconciliation import pilot_ready, viewer
from tests.support.subscriptions import agreement, customer_with_subscriptions
from tests.support.web import login

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

API = "/api/v1/psa_reconciliation"


def unmapped_count(partner_id: int) -> int:
    """The oracle: the partner's subscriptions without an active mapping."""
    mapped = select(SubscriptionMapping.subscription_id).where(SubscriptionMapping.ended_at.is_(None))
    return session().scalar(
        select(func.count(Subscription.id)).where(Subscription.partner_id == partner_id, Subscription.id.not_in(mapped))
    )


def two_customers(partner_id: int):
    """A mapped customer with two agreements (nothing auto-associates) and an unmapped one; their ids."""
    mapped, company, subs = customer_with_subscriptions(partner_id, "Zz Unmapped View Ltd", 3)
    first = agreement(partner_id, company, "Monthly One")
    agreement(partner_id, company, "Monthly Two")
    lone, _, lone_subs = customer_with_subscriptions(partner_id, "Zz Lone Customer Ltd", 2, mapped=False)
    session().commit()
    return {
        "customer": mapped.id,
        "subs": [s.id for s in subs],
        "agreement": first.id,
        "lone": [s.id for s in lone_subs],
    }


def test_lists_unmapped_across_customers_with_company_and_reason(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        ids = two_customers(partner_id)
        page = UnmappedSubscriptionsCommand(viewer(), "zz ", 1, 200, partner_id).run()
        assert page.total == 5 and page.currency
        by_id = {r["subscription"].id: r for r in page.rows}
        assert set(by_id) == set(ids["subs"]) | set(ids["lone"])
        assert {by_id[s]["reason"] for s in ids["subs"]} == {SEVERAL_ELIGIBLE_AGREEMENTS}
        assert all(by_id[s]["company"].name == "Zz Unmapped View Ltd (CW)" for s in ids["subs"])
        assert {(by_id[s]["reason"], by_id[s]["company"]) for s in ids["lone"]} == {(CUSTOMER_NOT_MAPPED, None)}
        names = [r["customer"].name for r in page.rows]
        assert names == sorted(names, key=str.lower)
        everything = UnmappedSubscriptionsCommand(viewer(), "", 1, 1, partner_id).run()
        assert everything.total == unmapped_count(partner_id)
        MapSubscriptionsCommand(actor, ids["customer"], ids["agreement"], ids["subs"][:2], partner_id=partner_id).run()
        after = UnmappedSubscriptionsCommand(viewer(), "zz ", 1, 200, partner_id).run()
        assert {r["subscription"].id for r in after.rows} == {ids["subs"][2], *ids["lone"]}


def test_search_by_subscription_id_and_company_and_paging(app, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        ids = two_customers(partner_id)
        external = session().get(Subscription, ids["subs"][1]).external_id
        found = UnmappedSubscriptionsCommand(viewer(), external.upper(), 1, 50, partner_id).run()
        assert [r["subscription"].id for r in found.rows] == [ids["subs"][1]]
        by_company = UnmappedSubscriptionsCommand(viewer(), "view ltd (cw)", 1, 50, partner_id).run()
        assert sorted(r["subscription"].id for r in by_company.rows) == sorted(ids["subs"])
        pages = [UnmappedSubscriptionsCommand(viewer(), "zz ", n, 2, partner_id).run() for n in (1, 2, 3)]
        seen = [r["subscription"].id for p in pages for r in p.rows]
        assert [len(p.rows) for p in pages] == [2, 2, 1] and sorted(seen) == sorted(ids["subs"] + ids["lone"])
        assert UnmappedSubscriptionsCommand(viewer(), "%", 1, 50, partner_id).run().total == 0  # no wildcard
        for page, size in ((0, 10), (1, 0), (1, 201)):
            with pytest.raises(InvalidInputError):
                UnmappedSubscriptionsCommand(viewer(), "", page, size, partner_id).run()


def test_rest_is_paged_bounded_tenant_scoped_and_refuses_bad_input(app, client, cw_live):
    from tests.integration.test_tenant_isolation import b_records

    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        ids = two_customers(partner_id)
        engine = session().get_bind()
    _, markers, _ = b_records(app)
    login(client, "pilot.viewer")
    body = client.get(f"{API}/subscriptions/unmapped?q=zz%20&page_size=3").json
    assert body["total"] == 5 and body["page"] == 1 and len(body["result"]) == 3
    row = body["result"][0]
    assert set(row) >= {"id", "name", "external_id", "value", "frequency", "customer", "company", "reason"}
    assert row["customer"]["name"] == "Zz Lone Customer Ltd" and row["company"] is None
    counts = []
    for size in (5, 100, 200):
        url = f"{API}/subscriptions/unmapped?page_size={size}"
        client.get(url)
        with counting(engine) as statements:
            everything = client.get(url)
        assert everything.status_code == 200
        counts.append(len(statements))
        assert not any(m in everything.get_data(as_text=True) for m in markers)
    # the same whatever the page size (a page without a mapped customer skips the agreements' query)
    assert counts[0] <= counts[1] == counts[2], counts
    for bad in ("page=0", "page_size=0", "page_size=201", "page=x", "q=" + "a" * 201):
        answer = client.get(f"{API}/subscriptions/unmapped?{bad}")
        assert answer.status_code == 400, bad
        assert answer.json["message"]
    with app.app_context():
        assert client.get(f"{API}/subscriptions/unmapped?page_size=1").json["total"] == unmapped_count(partner_id)
    assert len(ids["subs"]) == 3


def test_cli_prints_the_page(app, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        ids = two_customers(partner_id)
    runner = app.test_cli_runner()
    base = ["psa", "subscriptions", "unmapped", "--partner", str(partner_id), "--as", "pilot.viewer"]
    out = runner.invoke(args=[*base, "--search", "zz "])
    assert out.exit_code == 0, out.output
    assert "5 unmapped subscription(s); showing 1-5." in out.output
    assert CUSTOMER_NOT_MAPPED in out.output and SEVERAL_ELIGIBLE_AGREEMENTS in out.output
    assert all(str(s) in out.output for s in ids["subs"] + ids["lone"])
    out = runner.invoke(args=[*base, "--page-size", "500"])
    assert out.exit_code != 0 and "Error (400)" in out.output
