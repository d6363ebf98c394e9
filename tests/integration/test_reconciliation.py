"""Reconciliation Center: directory refresh, mapping rules, figures, REST and CLI, on the demo-seeded sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from msphub_psa.commands.access import partner_today
from msphub_psa.commands.directory import RefreshDirectoryCommand
from msphub_psa.commands.exceptions import ConflictError, ForbiddenError, NotFoundError
from msphub_psa.commands.reconciliation import (
    MapCustomerCommand,
    ReconciliationSummaryCommand,
    UnmapCustomerCommand,
)
from msphub_psa.connectwise.sandbox import records
from msphub_psa.connectwise.sandbox.resources import RESOURCES
from msphub_psa.daos.base import session
from msphub_psa.daos.directory import ReconciliationStateDAO
from msphub_psa.daos.mapping import CustomerMappingDAO
from msphub_psa.daos.revenue import RevenueTotalsDAO
from msphub_psa.domain.billing import net_amount
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction, Customer, Subscription
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.tenancy import AuditEvent
from tests.support import tenants
from tests.support.reconciliation import age_sandbox_directory, pilot_ready, viewer
from tests.support.web import csrf_token, login

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

API = "/api/v1/psa_reconciliation"


def company_named(partner_id, name):
    """The cached company with exactly this name."""
    return session().scalar(select(PsaCompany).where(PsaCompany.partner_id == partner_id, PsaCompany.name == name))


def customer_named(partner_id, name):
    """The customer with exactly this name."""
    return session().scalar(select(Customer).where(Customer.partner_id == partner_id, Customer.name == name))


def oracle_unsynchronized(partner_id, since=None):
    """Unsynchronized revenue computed naively from every transaction (BILLING.md)."""
    mapped_customers = set(
        session().scalars(
            select(CustomerMapping.customer_id).where(
                CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
            )
        )
    )
    mapped_subs = set(
        session().scalars(
            select(SubscriptionMapping.subscription_id).where(
                SubscriptionMapping.partner_id == partner_id, SubscriptionMapping.ended_at.is_(None)
            )
        )
    )
    rows = session().scalars(select(BillingTransaction).where(BillingTransaction.partner_id == partner_id))
    return net_amount(
        (t.kind, t.amount)
        for t in rows
        if (t.customer_id not in mapped_customers or t.subscription_id not in mapped_subs)
        and (since is None or t.period_start >= since)
    )


def test_refresh_caches_directory_and_maps_exact_matches_only(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live, refresh=False)
        result = RefreshDirectoryCommand(actor, partner_id).run()
        seed_companies = cw_live.state("companies")
        assert result["companies"] == len(seed_companies) and result["agreements"] == len(cw_live.state("agreements"))
        mappings = list(session().scalars(select(CustomerMapping).where(CustomerMapping.partner_id == partner_id)))
        assert result["exact_mapped"] == len(mappings) > 5
        automatic = session().scalars(
            select(SubscriptionMapping).where(
                SubscriptionMapping.partner_id == partner_id, SubscriptionMapping.method == "auto"
            )
        )
        assert result["subscriptions_automapped"] == len(automatic.all()) > 0  # those of the customers just mapped
        for mapping in mappings:
            assert mapping.method == "exact" and mapping.created_by == "pilot.admin"
            assert mapping.customer.name == mapping.company.name
        # The seed's case-only variant is never mapped automatically, only suggested.
        pharmacy = customer_named(partner_id, "contoso pharmacy")
        assert CustomerMappingDAO.active_for_customer(pharmacy.id) is None
        audits = session().scalars(select(AuditEvent).where(AuditEvent.action == "customer.map")).all()
        assert len(audits) == len(mappings) and {a.username for a in audits} == {"pilot.admin"}
        agreement = session().scalar(select(PsaAgreement).where(PsaAgreement.partner_id == partner_id))
        assert agreement.company_id is not None and agreement.company.remote_id == agreement.remote_company_id


def test_incremental_refresh_reads_changes_and_marks_soft_deleted(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live, refresh=False)
        age_sandbox_directory(cw_live)
        assert RefreshDirectoryCommand(actor, partner_id, automap=False).run()["full"]
        # The next read re-reads the newest second (overlap); records older than that are not read again.
        age_sandbox_directory(cw_live, "2024-06-01T00:00:00Z")
        victim = company_named(partner_id, "Northwind Traders")
        record = cw_live.sandbox.store.get(cw_live.company_id, "companies", victim.remote_id)
        records.remove(cw_live.sandbox.store, cw_live.company_id, RESOURCES["companies"], record)
        since = len(cw_live.requests())
        result = RefreshDirectoryCommand(actor, partner_id).run()
        assert not result["full"] and result["companies"] == 1 and result["agreements"] == 0
        urls = [r.get("url", "") + str(r.get("query", "")) for r in cw_live.requests()[since:]]
        assert any("lastUpdated" in u or "lastupdated" in u.lower() for u in urls), urls
        session().refresh(victim)
        assert victim.deleted
        with pytest.raises(Exception) as err:
            MapCustomerCommand(actor, customer_named(partner_id, "Northwind Traders").id, victim.id).run()
        assert "deleted" in str(err.value.message)


def test_map_conflicts_not_found_and_viewer(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        pharmacy = customer_named(partner_id, "contoso pharmacy")
        company = company_named(partner_id, "Contoso Pharmacy")
        mapping = MapCustomerCommand(actor, pharmacy.id, company.id, method="suggestion", score=99).run()
        assert mapping.method == "suggestion" and mapping.created_by == "pilot.admin"
        other = customer_named(partner_id, "Northwind Traders")
        with pytest.raises(ConflictError) as err:
            MapCustomerCommand(actor, other.id, company.id).run()
        assert "contoso pharmacy" in err.value.message
        with pytest.raises(NotFoundError) as err:
            MapCustomerCommand(actor, other.id, remote_company_id=987654).run()
        assert "Refresh the ConnectWise directory" in err.value.message
        b_customer = tenants.first_customer(tenants.other().id)
        with pytest.raises(NotFoundError):
            MapCustomerCommand(actor, b_customer.id, company.id).run()
        with pytest.raises(ForbiddenError):
            MapCustomerCommand(viewer(), other.id, company_named(partner_id, "Northwind Traders").id).run()


def test_concurrent_mapping_of_one_customer_gives_one_winner(app, cw_live, monkeypatch):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer = customer_named(partner_id, "contoso pharmacy")
        first, second = company_named(partner_id, "Contoso Pharmacy"), company_named(partner_id, "Globex Corporation")
        MapCustomerCommand(actor, customer.id, first.id).run()
        # The second tab validated before the first committed: its reads saw no mapping.
        stale = iter([None, None])
        real = CustomerMappingDAO.active_for_customer
        monkeypatch.setattr(
            CustomerMappingDAO, "active_for_customer", staticmethod(lambda cid: next(stale, None) or real(cid))
        )
        monkeypatch.setattr(CustomerMappingDAO, "active_for_company", staticmethod(lambda cid: None))
        with pytest.raises(ConflictError) as err:
            MapCustomerCommand(actor, customer.id, second.id).run()
        assert "already mapped to Contoso Pharmacy" in err.value.message
        active = (
            session()
            .scalars(
                select(CustomerMapping).where(
                    CustomerMapping.customer_id == customer.id, CustomerMapping.ended_at.is_(None)
                )
            )
            .all()
        )
        assert [m.company_id for m in active] == [first.id]


def _map_subscription(partner_id, customer, agreement):
    """A subscription mapping as the next issue's command will make it (with the totals recomputed)."""
    sub = session().scalar(select(Subscription).where(Subscription.customer_id == customer.id))
    session().add(
        SubscriptionMapping(
            partner_id=partner_id,
            customer_id=customer.id,
            subscription_id=sub.id,
            agreement_id=agreement.id,
            from_date_mode="auto",
            from_date=sub.start_date,
            created_by="test",
        )
    )
    session().flush()
    state = ReconciliationStateDAO.ensure(partner_id, lock=True)
    RevenueTotalsDAO.recompute_customers(state, [customer.id])
    session().commit()
    return sub


def test_running_totals_follow_mappings_and_new_transactions(app, cw_live):
    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        total = ReconciliationSummaryCommand(actor).run().unsynchronized_revenue
        assert total == oracle_unsynchronized(partner_id) > 0
        customer = customer_named(partner_id, "Northwind Traders")
        company = company_named(partner_id, "Northwind Traders")
        MapCustomerCommand(actor, customer.id, company.id).run()
        # Mapping the customer auto-associates subscriptions with exactly one eligible agreement.
        assert ReconciliationSummaryCommand(actor).run().unsynchronized_revenue == oracle_unsynchronized(partner_id)
        from msphub_psa.daos.mapping import SubscriptionMappingDAO

        SubscriptionMappingDAO.end_for_customer(customer.id, "test")
        RevenueTotalsDAO.recompute_customers(ReconciliationStateDAO.ensure(partner_id), [customer.id])
        session().commit()
        assert ReconciliationSummaryCommand(actor).run().unsynchronized_revenue == total  # subscriptions unmapped again
        agreement = session().scalar(select(PsaAgreement).where(PsaAgreement.company_id == company.id))
        sub = _map_subscription(partner_id, customer, agreement)
        mapped_total = ReconciliationSummaryCommand(actor).run().unsynchronized_revenue
        assert mapped_total == oracle_unsynchronized(partner_id) < total
        today = partner_today(partner_id)  # the partner's day, which may not be UTC's
        session().add(
            BillingTransaction(
                partner_id=partner_id,
                customer_id=customer.id,
                subscription_id=sub.id,
                kind="credit",
                period_start=today,
                period_end=today,
                quantity=1,
                unit_price=Decimal("5"),
                unit_cost=Decimal("4"),
                amount=Decimal("5"),
                currency="USD",
            )
        )
        other_sub = session().scalar(
            select(Subscription).where(Subscription.partner_id == partner_id, Subscription.customer_id != customer.id)
        )
        session().add(
            BillingTransaction(
                partner_id=partner_id,
                customer_id=other_sub.customer_id,
                subscription_id=other_sub.id,
                kind="charge",
                period_start=today,
                period_end=today,
                quantity=1,
                unit_price=Decimal("7.5"),
                unit_cost=Decimal("4"),
                amount=Decimal("7.5"),
                currency="USD",
            )
        )
        session().commit()
        assert ReconciliationSummaryCommand(actor).run().unsynchronized_revenue == mapped_total + Decimal("7.5")
        month = today.replace(day=1)
        assert ReconciliationSummaryCommand(
            actor, period="this_month"
        ).run().unsynchronized_revenue == oracle_unsynchronized(partner_id, month)
        assert UnmapCustomerCommand(actor, customer.id).run() == 1
        assert ReconciliationSummaryCommand(actor).run().unsynchronized_revenue == oracle_unsynchronized(partner_id)
        assert (
            session().scalar(select(SubscriptionMapping.active).where(SubscriptionMapping.subscription_id == sub.id))
            is False
        )
        with pytest.raises(ConflictError):
            UnmapCustomerCommand(actor, customer.id).run()


def test_rest_map_list_unmap_and_bad_input(app, client, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        pharmacy = customer_named(partner_id, "contoso pharmacy").id
        company = company_named(partner_id, "Contoso Pharmacy").id
        b_customer = tenants.first_customer(tenants.other().id).id
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    before = client.get(f"{API}/summary").get_json()
    unmapped = client.get(f"{API}/customers?state=unmapped&q=CONTOSO%20PHARM").get_json()
    assert [r["name"] for r in unmapped["result"]] == ["contoso pharmacy"]
    suggestions = client.get(f"{API}/suggestions?customer_ids={pharmacy}").get_json()["result"][str(pharmacy)]
    assert suggestions[0]["company_name"] == "Contoso Pharmacy" and suggestions[0]["reason"] == "case"
    assert client.post(f"{API}/mappings", json={"customer_id": pharmacy, "company_id": company}).status_code == 400
    created = client.post(f"{API}/mappings", headers=headers, json={"customer_id": pharmacy, "company_id": company})
    assert created.status_code == 201, created.get_json()
    after = client.get(f"{API}/summary").get_json()
    assert after["unmapped_customers"] == before["unmapped_customers"] - 1
    mapped = client.get(f"{API}/customers?state=mapped&q=pharmacy").get_json()["result"]
    assert mapped[0]["company"]["name"] == "Contoso Pharmacy" and mapped[0]["mapped_by"] == "pilot.admin"
    again = client.post(f"{API}/mappings", headers=headers, json={"customer_id": pharmacy, "company_id": company})
    assert again.status_code == 409 and "contoso pharmacy" in again.get_json()["message"]
    assert (
        client.post(
            f"{API}/mappings", headers=headers, json={"customer_id": b_customer, "company_id": company}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"{API}/mappings", headers=headers, json={"customer_id": pharmacy, "company_id": 999999}
        ).status_code
        == 404
    )
    with app.app_context():  # another tenant's cached company id answers 404 too
        b_company = PsaCompany(partner_id=tenants.other().id, remote_id=5, identifier="B5", name="B company")
        session().add(b_company)
        session().commit()
        b_company_id = b_company.id
    assert (
        client.post(
            f"{API}/mappings", headers=headers, json={"customer_id": pharmacy, "company_id": b_company_id}
        ).status_code
        == 404
    )
    bad = client.post(f"{API}/mappings", headers=headers, json={"customer_id": "x"})
    assert bad.status_code == 400 and bad.get_json()["errors"]
    assert client.get(f"{API}/customers?page_size=5000").status_code == 400
    assert client.get(f"{API}/summary?period=decade").status_code == 400
    assert client.delete(f"{API}/mappings/{b_customer}", headers=headers).status_code == 404
    assert client.delete(f"{API}/mappings/{pharmacy}", headers=headers).status_code == 200
    assert client.delete(f"{API}/mappings/{pharmacy}", headers=headers).status_code == 409
    preview = client.get(f"{API}/exact-matches").get_json()
    assert preview["pairs"] and all(p["customer_name"] == p["company_name"] for p in preview["pairs"])
    chosen = [preview["pairs"][0]["customer_id"]]
    done = client.post(f"{API}/exact-matches", headers=headers, json={"customer_ids": chosen}).get_json()
    assert [p["customer_id"] for p in done["mapped"]] == chosen
    assert len(client.get(f"{API}/chart").get_json()["months"]) == 12


def test_viewer_reads_but_cannot_write(app, client, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live)
        customer = customer_named(partner_id, "contoso pharmacy").id
        company = company_named(partner_id, "Contoso Pharmacy").id
    login(client, "pilot.viewer")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/reconciliation/")}
    page = client.get("/psa/reconciliation/").get_data(as_text=True)
    assert 'data-can-write="false"' in page and 'id="map-exact"' not in page
    assert client.get(f"{API}/customers").status_code == 200
    assert (
        client.post(
            f"{API}/mappings", headers=headers, json={"customer_id": customer, "company_id": company}
        ).status_code
        == 403
    )
    assert client.post(f"{API}/exact-matches", headers=headers, json={}).status_code == 403
    assert client.post(f"{API}/directory/refresh", headers=headers, json={}).status_code == 403


@pytest.mark.parametrize("username", ["pilot.admin", "fabrikam.admin"])
def test_page_needs_an_active_integration(app, client, username):
    login(client, username)
    assert client.get("/psa/reconciliation/").status_code == 403
    assert client.get(f"{API}/summary").status_code == 403


def test_cli_refresh_list_map_unmap_automap(app, cw_live):
    with app.app_context():
        partner_id, _ = pilot_ready(cw_live, refresh=False)
        pharmacy = customer_named(partner_id, "contoso pharmacy").id
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id), "--as", "pilot.admin"]
    out = runner.invoke(args=["psa", "directory", "refresh", *base])
    assert out.exit_code == 0 and "customers mapped by exact name" in out.output, out.output
    out = runner.invoke(args=["psa", "customers", "automap", *base, "--dry-run"])
    assert out.exit_code == 0 and "0 customer(s) would be mapped" in out.output, out.output
    with app.app_context():
        remote_id = company_named(partner_id, "Contoso Pharmacy").remote_id
    out = runner.invoke(
        args=["psa", "customers", "map", *base, "--customer", str(pharmacy), "--cw-company", str(remote_id)]
    )
    assert out.exit_code == 0 and "Contoso Pharmacy" in out.output, out.output
    out = runner.invoke(args=["psa", "customers", "map", *base, "--customer", str(pharmacy), "--cw-company", "424242"])
    assert out.exit_code == 2 and "Error (404)" in out.output and "Refresh the ConnectWise directory" in out.output
    out = runner.invoke(
        args=["psa", "customers", "map", *base, "--customer", str(pharmacy), "--cw-company", str(remote_id)]
    )
    assert out.exit_code == 2 and "Error (409)" in out.output and "already mapped" in out.output
    out = runner.invoke(args=["psa", "customers", "list", *base, "--state", "mapped", "--search", "pharmacy"])
    assert "contoso pharmacy -> Contoso Pharmacy" in out.output
    out = runner.invoke(args=["psa", "customers", "unmap", *base, "--customer", str(pharmacy)])
    assert out.exit_code == 0 and "disassociated" in out.output
    out = runner.invoke(
        args=[
            "psa",
            "customers",
            "map",
            "--partner",
            str(partner_id),
            "--as",
            "pilot.viewer",
            "--customer",
            str(pharmacy),
            "--cw-company",
            str(remote_id),
        ]
    )
    assert out.exit_code == 2 and "Error (403)" in out.output
