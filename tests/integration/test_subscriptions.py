"""Products / Subscriptions tab: auto-association, Associate, Change, bad input, REST and CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from msphub_psa.commands.access import partner_today
from msphub_psa.commands.exceptions import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from msphub_psa.commands.reconciliation import MapCustomerCommand, ReconciliationSummaryCommand
from msphub_psa.commands.subscriptions import (
    AutoAssociateSubscriptionsCommand,
    CustomerSubscriptionsCommand,
    MapSubscriptionsCommand,
    RemapPreviewCommand,
    RemapSubscriptionCommand,
)
from msphub_psa.daos.base import session
from msphub_psa.daos.mapping import subscription_sync_status
from msphub_psa.domain.periods import NO_ELIGIBLE_AGREEMENT, SEVERAL_ELIGIBLE_AGREEMENTS, current_period_start
from msphub_psa.models.reconciliation import SubscriptionMapping
from msphub_psa.models.tenancy import AuditEvent
from tests.integration.test_reconciliation import oracle_unsynchronized
from tests.support.reconciliation import pilot_ready, viewer
from tests.support.subscriptions import agreement, customer_with_subscriptions
from tests.support.web import csrf_token, login

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

API = "/api/v1/psa_reconciliation"


def active(sub_id):
    """The active mapping of a subscription, or None."""
    return session().scalar(
        select(SubscriptionMapping).where(
            SubscriptionMapping.subscription_id == sub_id, SubscriptionMapping.ended_at.is_(None)
        )
    )


# --- auto-association ----------------------------------------------------------------------------


def test_customer_mapping_auto_associates_with_the_only_eligible_agreement(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Auto One Ltd", 2, mapped=False)
        only = agreement(partner_id, company, "Monthly CSP")
        agreement(partner_id, company, "Annual CSP", cycle="Annual")  # does not fit monthly: ignored
        agreement(partner_id, company, "Old", agreement_status="Cancelled", cancelled=True)  # not eligible
        session().commit()
        before = oracle_unsynchronized(partner_id)
        MapCustomerCommand(actor, customer.id, company.id).run()
        today = partner_today(partner_id)
        for sub in subs:
            mapping = active(sub.id)
            assert mapping.agreement_id == only.id and mapping.method == "auto" and mapping.from_date_mode == "auto"
            assert mapping.from_date == current_period_start(sub.start_date, "monthly", today)
        assert (
            session().scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "subscription.automap", AuditEvent.partner_id == partner_id
                )
            )
            == 2
        )
        summary = ReconciliationSummaryCommand(actor, partner_id).run()
        assert summary.unsynchronized_revenue == oracle_unsynchronized(partner_id) < before


@pytest.mark.parametrize("agreements, reason", [(0, NO_ELIGIBLE_AGREEMENT), (2, SEVERAL_ELIGIBLE_AGREEMENTS)])
def test_auto_association_leaves_none_or_several_unmapped_and_says_why(app, cw_live, agreements, reason):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Auto None Ltd", 2)
        for i in range(agreements):
            agreement(partner_id, company, f"Monthly {i}")
        agreement(partner_id, company, "Ended", no_ending_date=False, end_date=dt.date(2024, 12, 31))
        session().commit()
        result = AutoAssociateSubscriptionsCommand(actor, partner_id, [customer.id]).run()
        assert result.created == [] and {result.skipped[s.id] for s in subs} == {reason}
        rows = CustomerSubscriptionsCommand(actor, customer.id, partner_id).run().rows
        assert [r["unmapped_reason"] for r in rows] == [reason, reason]
        assert all(r["sync"]["status"] == "not_mapped" and r["mapping"] is None for r in rows)


def test_auto_association_never_overrides_a_manual_mapping(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Manual First Ltd", 3)
        first = agreement(partner_id, company, "Monthly A")
        second = agreement(partner_id, company, "Monthly B")
        session().commit()
        manual = MapSubscriptionsCommand(
            actor, customer.id, first.id, [subs[0].id], "custom", dt.date(2025, 6, 1)
        ).run()[0]
        session().delete(second)  # now exactly one eligible agreement: the others are auto-associated
        session().commit()
        result = AutoAssociateSubscriptionsCommand(actor, partner_id).run()
        assert {m.subscription_id for m in result.created} >= {subs[1].id, subs[2].id}
        again = active(subs[0].id)
        assert (again.id, again.method, again.from_date) == (manual.id, "manual", dt.date(2025, 6, 1))
        assert AutoAssociateSubscriptionsCommand(actor, partner_id, [customer.id]).run().created == []


def test_directory_refresh_auto_associates_demo_subscriptions(app, cw_live):
    from msphub_psa.commands.directory import RefreshDirectoryCommand

    with app.app_context():
        partner_id, actor = pilot_ready(cw_live, refresh=False)
        result = RefreshDirectoryCommand(actor, partner_id).run()
        assert result["exact_mapped"] > 0
        count = session().scalar(
            select(func.count(SubscriptionMapping.id)).where(
                SubscriptionMapping.partner_id == partner_id, SubscriptionMapping.method == "auto"
            )
        )
        assert count > 0
        assert ReconciliationSummaryCommand(actor, partner_id).run().unsynchronized_revenue == oracle_unsynchronized(
            partner_id
        )


# --- Associate -----------------------------------------------------------------------------------


def test_associate_two_of_three_with_custom_date_updates_totals_and_history(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Associate Ltd", 3)
        chosen = agreement(partner_id, company, "Monthly A")
        agreement(partner_id, company, "Monthly B")
        session().commit()
        created = MapSubscriptionsCommand(
            actor, customer.id, chosen.id, [subs[0].id, subs[1].id], "custom", dt.date(2025, 3, 1)
        ).run()
        assert [(m.agreement_id, m.from_date, m.from_date_mode) for m in created] == [
            (chosen.id, dt.date(2025, 3, 1), "custom")
        ] * 2
        assert active(subs[2].id) is None
        status = subscription_sync_status(partner_id, [s.id for s in subs])
        assert [status[s.id]["status"] for s in subs] == ["pending", "pending", "not_mapped"]
        assert ReconciliationSummaryCommand(actor, partner_id).run().unsynchronized_revenue == oracle_unsynchronized(
            partner_id
        )
        # "all history" takes each subscription's own lower bound
        sub3 = MapSubscriptionsCommand(actor, customer.id, chosen.id, [subs[2].id], "all").run()[0]
        assert sub3.from_date == dt.date(2025, 1, 15)


def test_associate_bad_input(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Bad Input Ltd", 2)
        good = agreement(partner_id, company, "Monthly")
        cancelled = agreement(partner_id, company, "Cancelled", agreement_status="Cancelled", cancelled=True)
        _, other_company, _ = customer_with_subscriptions(partner_id, "Other Co Ltd", 1)
        foreign = agreement(partner_id, other_company, "Other's")
        unmapped_customer, _, unmapped_subs = customer_with_subscriptions(partner_id, "Unmapped Ltd", 1, mapped=False)
        session().commit()
        ids = [subs[0].id]
        with pytest.raises(InvalidInputError, match="Select at least one"):
            MapSubscriptionsCommand(actor, customer.id, good.id, []).run()
        with pytest.raises(NotFoundError):
            MapSubscriptionsCommand(actor, customer.id, foreign.id, ids).run()
        with pytest.raises(InvalidInputError, match="cancelled"):
            MapSubscriptionsCommand(actor, customer.id, cancelled.id, ids).run()
        with pytest.raises(InvalidInputError, match="From Date must be between 2025-01-15 and "):
            MapSubscriptionsCommand(actor, customer.id, good.id, ids, "custom", dt.date(2024, 12, 1)).run()
        with pytest.raises(InvalidInputError, match="From Date must be between"):
            MapSubscriptionsCommand(
                actor, customer.id, good.id, ids, "custom", partner_today(partner_id) + dt.timedelta(days=1)
            ).run()
        with pytest.raises(ConflictError, match="not mapped to a ConnectWise company"):
            MapSubscriptionsCommand(actor, unmapped_customer.id, good.id, [unmapped_subs[0].id]).run()
        with pytest.raises(NotFoundError):
            MapSubscriptionsCommand(actor, customer.id, good.id, [unmapped_subs[0].id]).run()
        with pytest.raises(ForbiddenError):
            MapSubscriptionsCommand(viewer(), customer.id, good.id, ids).run()
        assert (
            session().scalar(
                select(func.count(SubscriptionMapping.id)).where(SubscriptionMapping.customer_id == customer.id)
            )
            == 0
        )
        MapSubscriptionsCommand(actor, customer.id, good.id, ids).run()
        with pytest.raises(ConflictError, match="use Change"):
            MapSubscriptionsCommand(actor, customer.id, good.id, [subs[0].id, subs[1].id]).run()
        assert active(subs[1].id) is None


# --- Change --------------------------------------------------------------------------------------


def test_change_previews_and_keeps_history(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Change Ltd", 1)
        old = agreement(partner_id, company, "Monthly Old")
        new = agreement(partner_id, company, "Monthly New", bill_start_date=dt.date(2025, 4, 1))
        session().commit()
        first = MapSubscriptionsCommand(actor, customer.id, old.id, [subs[0].id]).run()[0]
        plan = RemapPreviewCommand(actor, subs[0].id, new.id, "custom", dt.date(2025, 6, 20)).run()
        assert plan.allowed.lower == dt.date(2025, 4, 1)
        # transactions are monthly from the 15th: periods ending before 2025-06-20 are skipped
        assert len(plan.preview.to_skip) == 5 and len(plan.preview.to_new) == 7
        assert plan.preview.move_candidates == () and plan.preview.warning is None  # nothing pushed yet
        with pytest.raises(InvalidInputError, match="From Date must be between 2025-04-01"):
            RemapPreviewCommand(actor, subs[0].id, new.id, "custom", dt.date(2025, 3, 1)).run()
        mapping, _ = RemapSubscriptionCommand(actor, subs[0].id, new.id, "all", None, move_pushed=True).run()
        assert (mapping.agreement_id, mapping.from_date, mapping.previous_mapping_id) == (
            new.id,
            dt.date(2025, 4, 1),
            first.id,
        )
        assert mapping.move_pushed is False and mapping.move_transaction_ids == []  # no candidates to move
        session().refresh(first)
        assert first.ended_at is not None and not first.active and first.ended_by == "pilot.admin"
        with pytest.raises(InvalidInputError, match="Nothing to change"):
            RemapSubscriptionCommand(actor, subs[0].id, new.id, "all").run()
        audit = session().scalar(select(AuditEvent).where(AuditEvent.action == "subscription.remap"))
        assert audit.detail["previous_agreement_id"] == old.id and audit.detail["agreement_id"] == new.id
        _, _, others = customer_with_subscriptions(partner_id, "Never Mapped Ltd", 1)
        with pytest.raises(ConflictError, match="use Associate"):
            RemapPreviewCommand(actor, others[0].id, new.id).run()


# --- REST ----------------------------------------------------------------------------------------


def test_rest_associate_change_and_errors(app, client, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Rest Ltd", 3)
        a1 = agreement(partner_id, company, "Monthly A")
        a2 = agreement(partner_id, company, "Monthly B", bill_start_date=dt.date(2025, 2, 1))
        annual = agreement(partner_id, company, "Annual", cycle="Annual")
        session().commit()
        ids = dict(customer=customer.id, a1=a1.id, a2=a2.id, annual=annual.id, subs=[s.id for s in subs])
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    listing = client.get(f"{API}/customers/{ids['customer']}/subscriptions").json
    assert [r["unmapped_reason"] for r in listing["result"]] == [SEVERAL_ELIGIBLE_AGREEMENTS] * 3
    options = client.get(f"{API}/customers/{ids['customer']}/agreements").json
    by_id = {o["id"]: o for o in options["agreements"]}
    assert by_id[ids["annual"]]["warnings"]["monthly"].startswith("The agreement is billed Annual")
    assert by_id[ids["a2"]]["billing_start_date"] == "2025-02-01"
    body = {
        "customer_id": ids["customer"],
        "agreement_id": ids["a1"],
        "subscription_ids": ids["subs"][:2],
        "from_date_mode": "custom",
        "from_date": "2024-01-01",
    }
    bad = client.post(f"{API}/subscription-mappings", json=body, headers=headers)
    assert bad.status_code == 400 and "From Date must be between 2025-01-15 and" in bad.json["message"]
    empty = client.post(f"{API}/subscription-mappings", json={**body, "subscription_ids": []}, headers=headers)
    assert empty.status_code == 400 and "Select at least one" in empty.json["message"]
    ok = client.post(f"{API}/subscription-mappings", json={**body, "from_date": "2025-05-01"}, headers=headers)
    assert ok.status_code == 201 and [m["agreement"]["name"] for m in ok.json["mapped"]] == ["Monthly A"] * 2
    again = client.post(f"{API}/subscription-mappings", json={**body, "from_date": "2025-05-01"}, headers=headers)
    assert again.status_code == 409 and "use Change" in again.json["message"]
    sub = ids["subs"][0]
    preview = client.get(f"{API}/subscriptions/{sub}/remap-preview?agreement_id={ids['a2']}&from_date_mode=all")
    assert preview.status_code == 200 and preview.json["agreement"]["billing_start_date"] == "2025-02-01"
    assert preview.json["allowed_range"]["from"] == "2025-02-01" and len(preview.json["preview"]["to_new"]) == 12
    changed = client.put(f"{API}/subscriptions/{sub}/mapping", json={"agreement_id": ids["a2"]}, headers=headers)
    assert changed.status_code == 200 and changed.json["mapping"]["agreement"]["name"] == "Monthly B"
    history = client.get(f"{API}/subscriptions/{sub}/history").json["result"]
    assert [h["agreement"]["name"] for h in history] == ["Monthly B", "Monthly A"] and history[1]["ended_by"]
    rows = client.get(f"{API}/customers/{ids['customer']}/subscriptions").json["result"]
    assert [r["sync_status"] for r in rows] == ["pending", "pending", "not_mapped"]
    client.get("/logout/")
    login(client, "pilot.viewer")
    viewer_headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    assert client.get(f"{API}/customers/{ids['customer']}/subscriptions").status_code == 200
    assert client.post(f"{API}/subscription-mappings", json=body, headers=viewer_headers).status_code == 403
    assert (
        client.put(
            f"{API}/subscriptions/{sub}/mapping", json={"agreement_id": ids["a1"]}, headers=viewer_headers
        ).status_code
        == 403
    )
    assert client.post(f"{API}/subscriptions/automap", json={}, headers=viewer_headers).status_code == 403


def test_rest_partner_b_ids_answer_404(app, client, cw_live):
    """B's customer, subscription, agreement and subscription mapping ids answer 404 to A on the tab's routes."""
    from tests.integration.test_tenant_isolation import b_records

    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "A Own Ltd", 1)
        mine = agreement(partner_id, company, "A Monthly")
        session().commit()
        a = dict(customer=customer.id, sub=subs[0].id, agreement=mine.id)
    ids, markers, _ = b_records(app)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    b_sub, b_customer, b_agreement = ids["Subscription"], ids["Customer"], ids["PsaAgreement"]
    answers = [
        client.get(f"{API}/customers/{b_customer}/subscriptions"),
        client.get(f"{API}/customers/{b_customer}/agreements"),
        client.get(f"{API}/subscriptions/{b_sub}/history"),
        client.get(f"{API}/subscriptions/{b_sub}/remap-preview?agreement_id={a['agreement']}"),
        client.put(f"{API}/subscriptions/{b_sub}/mapping", json={"agreement_id": a["agreement"]}, headers=headers),
        client.post(
            f"{API}/subscription-mappings",
            json={"customer_id": a["customer"], "agreement_id": b_agreement, "subscription_ids": [a["sub"]]},
            headers=headers,
        ),
        client.post(
            f"{API}/subscription-mappings",
            json={"customer_id": a["customer"], "agreement_id": a["agreement"], "subscription_ids": [b_sub]},
            headers=headers,
        ),
        client.post(f"{API}/subscriptions/automap", json={"customer_ids": [b_customer]}, headers=headers),
    ]
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert not any(m in r.get_data(as_text=True) for r in answers for m in markers)


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_list_map_remap_automap(app, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer, company, subs = customer_with_subscriptions(partner_id, "Cli Ltd", 3)
        a1 = agreement(partner_id, company, "Monthly A")
        a2 = agreement(partner_id, company, "Monthly B")
        session().commit()
        c, s, x1, x2 = customer.id, [sub.id for sub in subs], a1.id, a2.id
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id)]
    out = runner.invoke(args=["psa", "subscriptions", "list", *base, "--customer", str(c), "--as", "pilot.admin"])
    assert out.exit_code == 0 and SEVERAL_ELIGIBLE_AGREEMENTS in out.output, out.output
    out = runner.invoke(
        args=[
            "psa",
            "subscriptions",
            "map",
            *base,
            "--as",
            "pilot.admin",
            "--customer",
            str(c),
            "--agreement",
            str(x1),
            "--subscription",
            str(s[0]),
            "--subscription",
            str(s[1]),
            "--from-date",
            "2020-01-01",
        ]
    )
    assert out.exit_code != 0 and "From Date must be between" in out.output
    out = runner.invoke(
        args=[
            "psa",
            "subscriptions",
            "map",
            *base,
            "--as",
            "pilot.admin",
            "--customer",
            str(c),
            "--agreement",
            str(x1),
            "--subscription",
            str(s[0]),
            "--subscription",
            str(s[1]),
            "--from-date",
            "2025-03-01",
        ]
    )
    assert out.exit_code == 0 and "2 subscription(s) mapped to Monthly A" in out.output, out.output
    out = runner.invoke(
        args=[
            "psa",
            "subscriptions",
            "remap",
            *base,
            "--as",
            "pilot.admin",
            "--subscription",
            str(s[0]),
            "--agreement",
            str(x2),
            "--preview",
        ]
    )
    assert out.exit_code == 0 and "to the new agreement" in out.output, out.output
    out = runner.invoke(
        args=[
            "psa",
            "subscriptions",
            "remap",
            *base,
            "--as",
            "pilot.admin",
            "--subscription",
            str(s[0]),
            "--agreement",
            str(x2),
        ]
    )
    assert out.exit_code == 0 and "now mapped to Monthly B" in out.output, out.output
    out = runner.invoke(args=["psa", "subscriptions", "automap", *base, "--as", "pilot.admin"])
    assert out.exit_code == 0 and "left unmapped" in out.output, out.output
    with app.app_context():
        assert active(s[0]).agreement_id == x2 and active(s[2]) is None
