"""Associate, before Confirm: each subscription's own From Date and what would be sent (command, REST, CLI);
the row's reason does not contradict the agreements Associate offers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from msphub_psa.commands.exceptions import ConflictError, InvalidInputError
from msphub_psa.commands.subscriptions import (
    AgreementOptionsCommand,
    AssociatePreviewCommand,
    CustomerSubscriptionsCommand,
    MapSubscriptionsCommand,
)
from msphub_psa.daos.base import session
from msphub_psa.domain.periods import NO_FITTING_AGREEMENT
from msphub_psa.models.reconciliation import SubscriptionMapping
from tests.support.reconciliation import pilot_ready
from tests.support.subscriptions import agreement, customer_with_subscriptions
from tests.support.web import login

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

API = "/api/v1/psa_reconciliation"


def mappings(customer_id: int) -> int:
    """Active subscription mappings of a customer."""
    return session().scalar(
        select(func.count(SubscriptionMapping.id)).where(
            SubscriptionMapping.customer_id == customer_id, SubscriptionMapping.ended_at.is_(None)
        )
    )


def test_preview_gives_each_subscription_its_own_from_date_and_the_figures(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Preview Ltd", 2)
        early, late = subs
        late.start_date = dt.date(2025, 6, 15)
        a = agreement(partner_id, company, "Monthly A", bill_start_date=dt.date(2025, 3, 1))
        agreement(partner_id, company, "Monthly B")
        session().commit()
        plan = AssociatePreviewCommand(actor, customer.id, a.id, [early.id, late.id], partner_id=partner_id).run()
        by_id = {r["subscription"].id: r for r in plan.rows}
        assert by_id[early.id]["from_date"] == dt.date(2025, 3, 1)  # the agreement's billing start is later
        assert by_id[late.id]["from_date"] == dt.date(2025, 6, 15)  # its own start is later: its own bound
        # transactions: monthly from 2025-01-15 to 2025-12, those ending on or after the From Date are sent
        early_new = len(by_id[early.id]["preview"].to_new)
        assert early_new == 11 and len(by_id[early.id]["preview"].to_skip) == 1  # Jan 15 - Feb 14 ends before
        assert plan.to_new == early_new + len(by_id[late.id]["preview"].to_new)
        assert plan.to_new_amount == early_new * Decimal("62.50") + len(by_id[late.id]["preview"].to_new) * Decimal(
            "75.00"
        )
        assert mappings(customer.id) == 0  # a preview writes nothing
        with pytest.raises(InvalidInputError, match="From Date must be between 2025-06-15"):
            AssociatePreviewCommand(
                actor, customer.id, a.id, [early.id, late.id], "custom", dt.date(2025, 4, 1), partner_id
            ).run()
        MapSubscriptionsCommand(actor, customer.id, a.id, [early.id], partner_id=partner_id).run()
        with pytest.raises(ConflictError):
            AssociatePreviewCommand(actor, customer.id, a.id, [early.id], partner_id=partner_id).run()


def test_reason_and_options_agree_when_only_a_non_fitting_agreement_exists(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Annual Only Ltd", 1)
        agreement(partner_id, company, "Yearly CSP", cycle="Annual")
        session().commit()
        row = CustomerSubscriptionsCommand(actor, customer.id, partner_id).run().rows[0]
        options = AgreementOptionsCommand(actor, customer.id, partner_id).run()["agreements"]
        assert row["unmapped_reason"] == NO_FITTING_AGREEMENT
        assert [o["eligible"] for o in options] == [True] and options[0]["warnings"]


def test_rest_and_cli_preview_and_bad_input(app, client, cw_live):
    from tests.integration.test_tenant_isolation import b_records

    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Rest Preview Ltd", 2)
        a = agreement(partner_id, company, "Monthly A")
        agreement(partner_id, company, "Monthly B")
        session().commit()
        c, s, x = customer.id, [sub.id for sub in subs], a.id
    ids, markers, _ = b_records(app)
    b_agreement = ids["PsaAgreement"]
    login(client, "pilot.admin")
    base = f"{API}/subscription-mappings/preview?customer_id={c}&agreement_id={x}"
    body = client.get(f"{base}&subscription_ids={s[0]},{s[1]}").json
    assert body["to_new"] == 24 and body["to_new_amount"] == "1650.00" and body["to_skip"] == 0
    assert [r["from_date"] for r in body["result"]] == ["2025-01-15", "2025-01-15"]
    bad = {
        f"{base}&subscription_ids=": 400,
        f"{base}&subscription_ids=1;2": 400,
        f"{base}&subscription_ids={s[0]}&from_date_mode=custom&from_date=2020-01-01": 400,
        f"{base}&subscription_ids={s[0]}&from_date_mode=sometimes": 400,
        f"{API}/subscription-mappings/preview?customer_id={c}&subscription_ids={s[0]}": 400,
        f"{base}&subscription_ids={ids['Subscription']}": 404,
        f"{API}/subscription-mappings/preview?customer_id={c}&agreement_id={b_agreement}&subscription_ids={s[0]}": 404,
    }
    for url, status in bad.items():
        answer = client.get(url)
        assert answer.status_code == status, (url, answer.json)
        assert answer.json["message"] and not any(m in answer.get_data(as_text=True) for m in markers)
    with app.app_context():
        assert mappings(c) == 0
    client.get("/logout/")
    login(client, "pilot.viewer")
    assert client.get(f"{base}&subscription_ids={s[0]}").status_code == 403
    runner = app.test_cli_runner()
    args = ["psa", "subscriptions", "map", "--partner", str(partner_id), "--as", "pilot.admin", "--customer", str(c)]
    args += ["--agreement", str(x), "--subscription", str(s[0]), "--subscription", str(s[1]), "--preview"]
    out = runner.invoke(args=args)
    assert out.exit_code == 0, out.output
    assert "To Monthly A: 24 transaction(s) will be pushed (1650.00)" in out.output
    with app.app_context():
        assert mappings(c) == 0
