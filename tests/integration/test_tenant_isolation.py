"""Tenant isolation sweep: partner A's session and token against partner B's ids, on every route.

Walks the app's URL map, fills each route's arguments with B's ids (the record of
the view's own model where the route has a ``pk``), sends every method the route
accepts as A — with a valid CSRF token, so only authorization can stop it — and
asserts that A gets 3xx/4xx, never B's data, and that nothing of B's changed.
Later features extend ``IDS`` and ``B_MARKERS`` as they add models.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.models.hub import BillingTransaction, Customer, Subscription
from msphub_psa.models.integration import Integration
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping
from msphub_psa.models.rules import ProductDefaultRule, ProductRule
from msphub_psa.models.tenancy import AuditEvent, PartnerFeature
from tests.support import tenants
from tests.support.web import api_token, csrf_token, login

SKIP = re.compile(r"^/api/v1/psa_health/|^/(static|appbuilder)/|^/(login|logout)/|^/swagger|^/api/v1/_openapi|^/lang/")
ALLOWED = {301, 302, 303, 400, 401, 403, 404, 405, 422, 409}  # 409: A's own state refuses it (card)


def b_snapshot():
    """Everything of B's that a write could change."""
    b = tenants.other().id
    return (
        session().scalar(select(func.count(Customer.id)).where(Customer.partner_id == b)),
        session().scalar(select(func.count(Subscription.id)).where(Subscription.partner_id == b)),
        session().scalar(select(func.count(BillingTransaction.id)).where(BillingTransaction.partner_id == b)),
        session().scalar(select(func.count(AuditEvent.id)).where(AuditEvent.partner_id == b)),
        session().scalar(select(PartnerFeature.enabled).where(PartnerFeature.partner_id == b)),
        session().scalar(select(Integration.version).where(Integration.partner_id == b)),  # card
        session().scalar(
            select(func.count(CustomerMapping.id)).where(
                CustomerMapping.partner_id == b, CustomerMapping.ended_at.is_(None)
            )
        ),
        session().scalar(
            select(func.count(SubscriptionMapping.id)).where(
                SubscriptionMapping.partner_id == b, SubscriptionMapping.ended_at.is_(None)
            )
        ),
        # Configure Product Defaults: B's rules and default rule, as stored
        tuple(
            session()
            .execute(
                select(ProductRule.id, ProductRule.priority, ProductRule.category, ProductRule.version).where(
                    ProductRule.partner_id == b
                )
            )
            .all()
        ),
        session().scalar(select(ProductDefaultRule.category).where(ProductDefaultRule.partner_id == b)),
        b_sync_snapshot(b),  # billing push: B's outbox rows and runs
    )


def b_records(app):
    """B's ids per model name, and strings only B's data contains."""
    with app.app_context():
        b = tenants.other()
        customer = tenants.first_customer(b.id)
        sub = session().scalar(select(Subscription).where(Subscription.partner_id == b.id))
        tx = session().scalar(select(BillingTransaction).where(BillingTransaction.partner_id == b.id))
        ids = {"Partner": b.id, "Customer": customer.id, "Subscription": sub.id, "BillingTransaction": tx.id}
        markers = [b.name, customer.external_id, sub.external_id]
        integration = b_integration(b.id)  # card: B's ConnectWise integration
        ids["Integration"] = integration.id
        markers.append(integration.company_name)
        recon_ids, recon_markers = b_reconciliation_records(b.id, customer, sub)  # Reconciliation Center
        ids.update(recon_ids)
        markers += recon_markers
        ids["Agreement"] = recon_ids["PsaAgreement"]  # Products / Subscriptions tab: any ``agreement_id`` argument
        # Configure Product Defaults: a rule and a default rule of B's (ids and a marker only B has)
        rule = ProductRule(
            partner_id=b.id,
            priority=1,
            category="B-ONLY-CATEGORY",
            subcategory="S",
            product_type="T",
            product_class="Agreement",
            conditions=[{"field": "publisher", "operator": "equals", "value": "Microsoft"}],
        )
        session().add_all(
            [
                rule,
                ProductDefaultRule(
                    partner_id=b.id,
                    category="B-ONLY-DEFAULT",
                    subcategory="S",
                    product_type="T",
                    product_class="Agreement",
                ),
            ]
        )
        session().commit()
        ids.update({"Rule": rule.id, "ProductRule": rule.id})
        markers += ["B-ONLY-CATEGORY", "B-ONLY-DEFAULT"]
        # Operations: an audit event of B's (console Audit Log, /api/v1/psa_audit/ and its CSV export)
        event = AuditEvent(
            username="fabrikam.admin",
            partner_id=b.id,
            action="b.only",
            object_type="marker",
            detail={"note": "B-ONLY-AUDIT"},
        )
        session().add(event)
        session().commit()
        ids["AuditEvent"] = event.id
        markers.append("B-ONLY-AUDIT")
        sync_ids, sync_markers = b_sync_records(b.id, tx)  # billing push: a run and an outbox row of B's
        ids.update(sync_ids)
        markers += sync_markers
        return ids, markers, b_snapshot()


def b_integration(partner_id: int) -> Integration:
    """An active ConnectWise integration of B (card issue), with a marker company name."""
    from msphub_psa.crypto import encrypt_secret

    row = Integration(
        partner_id=partner_id,
        status="active",
        client_id="b-client",
        client_id_locked=True,
        company_name="b_marker_company",
        public_key="BPublic",
        api_url="https://api-eu.myconnectwise.net",
        private_key_encrypted=encrypt_secret("b-private-key"),
    )
    session().add(row)
    session().commit()
    return row


def b_reconciliation_records(partner_id, customer, sub):
    """B's cached company and agreement, customer and subscription mappings."""
    from msphub_psa.models.directory import PsaAgreement, PsaCompany
    from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping

    company = PsaCompany(partner_id=partner_id, remote_id=777001, identifier="BOnlyCompany", name="B-only Company Zeta")
    session().add(company)
    session().flush()
    agreement = PsaAgreement(
        partner_id=partner_id, remote_id=888001, name="B-only Agreement Zeta", company_id=company.id
    )
    session().add(agreement)
    session().flush()
    mapping = CustomerMapping(
        partner_id=partner_id,
        customer_id=customer.id,
        company_id=company.id,
        method="manual",
        created_by="fabrikam.admin",
    )
    sub_mapping = SubscriptionMapping(
        partner_id=partner_id,
        customer_id=customer.id,
        subscription_id=sub.id,
        agreement_id=agreement.id,
        from_date_mode="all",
        from_date=sub.start_date,
        created_by="fabrikam.admin",
    )
    session().add_all([mapping, sub_mapping])
    session().commit()
    ids = {
        "PsaCompany": company.id,
        "PsaAgreement": agreement.id,
        "CustomerMapping": mapping.id,
        "SubscriptionMapping": sub_mapping.id,
    }
    return ids, ["B-only Company Zeta", "B-only Agreement Zeta"]


def _plugin_view(view) -> bool:
    """True for the plugin's own views and APIs."""
    return type(view).__module__.startswith("msphub_psa.")


def routes(app, ids):
    """(url, methods) for every route, arguments filled with B's ids."""
    views = {type(v).__name__: v for v in app.appbuilder.baseviews}
    for rule in app.url_map.iter_rules():
        if SKIP.search(rule.rule) or rule.endpoint == "static":
            continue
        view = views.get(rule.endpoint.split(".")[0])
        if "name" in rule.arguments and not getattr(view, "actions", None) and not _plugin_view(view):
            continue  # FAB's own views crash (500) on an unknown action name before any check
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        values = {}
        for arg in rule.arguments:
            if arg == "pk":
                values[arg] = ids.get(model.__name__, ids["Customer"]) if model else ids["Customer"]
            elif arg.endswith("_id") or arg in ("id",):
                values[arg] = ids.get(arg[:-3].title().replace("_", ""), ids["Partner"])
            else:
                values[arg] = next(iter(getattr(view, "actions", {}) or {}), "x")
        try:
            url = rule.build(values)[1]
        except Exception:  # noqa: BLE001 - a converter refused our value: nothing to call
            continue
        yield url, sorted(rule.methods - {"HEAD", "OPTIONS"})


def call(client, method, url, headers):
    """Send one request with a JSON body for writes."""
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {"enabled": True, "name": "hijack", "rowid": ["1"], "action": "x"}
    return client.open(url, method=method, **kwargs)


@pytest.mark.parametrize("auth", ["session", "jwt"])
def test_partner_a_cannot_reach_partner_b(app, client, auth, cw_live):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():  # A's integration is active, so the PSA pages and APIs answer past their gate
        from tests.support.integration import make_active_integration

        make_active_integration(tenants.pilot().id, cw_live)
    ids, markers, before = b_records(app)
    if auth == "session":
        login(client, "pilot.admin")
        headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    else:
        headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}
    failures, checked = [], 0
    b_ids = {str(v) for v in ids.values()}
    # Routes naming one of B's ids first; A's own id-less writes (e.g. deactivating A's own
    # integration) last, so they cannot close A's PSA pages before the rest is checked.
    ordered = sorted(routes(app, ids), key=lambda r: not (b_ids & set(urlsplit(r[0]).path.split("/"))))
    for url, methods in ordered:
        names_b = bool(b_ids & set(urlsplit(url).path.split("/")))
        for method in methods:
            response = call(client, method, url, headers)
            checked += 1
            body = response.get_data(as_text=True)
            leaked = [m for m in markers if m in body]
            if leaked or (response.status_code not in ALLOWED and response.status_code >= 300):
                failures.append((method, url, response.status_code, leaked))
            elif response.status_code < 300 and names_b and method != "GET":
                failures.append((method, url, response.status_code, "write accepted"))
    with app.app_context():
        after = b_snapshot()
    assert checked > 100
    assert not failures, "\n".join(map(str, failures))
    assert after == before, "partner B's data changed"


def test_card_endpoints_with_partner_b_id_answer_404(app, client):
    """The card's API takes a partner id only as ``?partner_id=`` (Admin): B's answers 404 to A."""
    ids, markers, before = b_records(app)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    query = f"?partner_id={ids['Partner']}"
    body = {"company_name": "x", "public_key": "y", "private_key": "z", "api_url": "https://api-na.myconnectwise.net"}
    answers = [
        client.get(f"/api/v1/psa_integration/{query}"),
        client.post(f"/api/v1/psa_integration/activate{query}", json=body, headers=headers),
        client.put(f"/api/v1/psa_integration/{query}", json=body, headers=headers),
        client.post(f"/api/v1/psa_integration/deactivate{query}", headers=headers),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert not any(m in r.get_data(as_text=True) for r in answers for m in markers)
    with app.app_context():
        assert b_snapshot() == before


def b_sync_records(partner_id, tx):
    """B's push run and a failed outbox row (billing push), with a marker only B has."""
    from msphub_psa.models.sync import SyncItem, SyncRun

    run = SyncRun(partner_id=partner_id, status="partial", requested_by="fabrikam.admin", error="B-ONLY-RUN-ERROR")
    session().add(run)
    session().flush()
    item = SyncItem(
        partner_id=partner_id,
        transaction_id=tx.id,
        subscription_id=tx.subscription_id,
        customer_id=tx.customer_id,
        reference=f"MSPHUB-T{tx.id}",
        record_kind="charge",
        state="failed",
        agreement_remote_id=888001,
        last_error_code="B-ONLY-CODE",
        last_error_message="B-ONLY-SYNC-MESSAGE",
        run_id=run.id,
    )
    session().add(item)
    # Billing sync control: a preview of B's awaiting approval
    from msphub_psa.models.sync import SyncPreview

    preview = SyncPreview(
        partner_id=partner_id,
        source="manual",
        prepared_by="fabrikam.admin",
        status="awaiting_approval",
        totals={"transactions": 1, "net": "1.00"},
        note="B-ONLY-PREVIEW-NOTE",
    )
    session().add(preview)
    session().commit()
    return {
        "Run": run.id,
        "SyncRun": run.id,
        "Item": item.id,
        "SyncItem": item.id,
        "Preview": preview.id,
        "SyncPreview": preview.id,
    }, ["B-ONLY-RUN-ERROR", "B-ONLY-SYNC-MESSAGE", "B-ONLY-PREVIEW-NOTE"]


def b_sync_snapshot(partner_id):
    """B's outbox rows (state, attempts), runs (status, alert acknowledgement), previews (status) and sync settings."""
    from msphub_psa.models.sync import SyncItem, SyncPreview, SyncRun, SyncSettings

    return (
        tuple(
            session()
            .execute(select(SyncItem.id, SyncItem.state, SyncItem.attempts).where(SyncItem.partner_id == partner_id))
            .all()
        ),
        tuple(
            session()
            .execute(
                select(SyncRun.id, SyncRun.status, SyncRun.acknowledged_at).where(SyncRun.partner_id == partner_id)
            )
            .all()
        ),
        tuple(
            session()
            .execute(
                select(SyncPreview.id, SyncPreview.status, SyncPreview.approved_by).where(
                    SyncPreview.partner_id == partner_id
                )
            )
            .all()
        ),
        tuple(
            session()
            .execute(select(SyncSettings.id, SyncSettings.updated_at).where(SyncSettings.partner_id == partner_id))
            .all()
        ),
    )


def test_sync_run_and_item_of_partner_b_answer_404(app, client, cw_live):
    """Billing push: B's run and outbox row ids answer 404 to A; retrying B's row is 404 and changes nothing."""
    with app.app_context():
        from tests.support.integration import make_active_integration

        make_active_integration(tenants.pilot().id, cw_live)
    ids, markers, before = b_records(app)
    login(client, "pilot.admin")
    headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}
    answers = [
        client.get(f"/api/v1/psa_sync/runs/{ids['Run']}"),
        client.get(f"/api/v1/psa_sync/items/{ids['Item']}"),
        client.post("/api/v1/psa_sync/retry-failed", json={"ids": [ids["Item"]]}, headers=headers),
        # The billing sync: B's run page, its failed rows, acknowledging its alert, the console views
        client.get(f"/psa/sync/runs/{ids['Run']}"),
        client.get(f"/api/v1/psa_sync/runs/{ids['Run']}/failed"),
        client.post(f"/api/v1/psa_sync/runs/{ids['Run']}/acknowledge", headers=headers),
        client.get(f"/syncrunview/show/{ids['Run']}"),
        client.get(f"/syncitemview/show/{ids['Item']}"),
        # sync control: B's preview
        client.get(f"/api/v1/psa_sync/previews/{ids['Preview']}"),
        client.post(f"/api/v1/psa_sync/previews/{ids['Preview']}/approve", json={}, headers=headers),
        client.post(f"/api/v1/psa_sync/previews/{ids['Preview']}/discard", headers=headers),
        client.get(f"/psa/sync/preview/?preview={ids['Preview']}"),
    ]
    assert [r.status_code for r in answers] == [404] * 12
    assert not any(m in r.get_data(as_text=True) for r in answers for m in markers)
    with app.app_context():
        assert b_snapshot() == before
