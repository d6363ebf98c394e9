"""The pilot with an active integration, its directory cached, one mapping and one rule: own ids to aim at."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaCompany
from msphub_psa.models.rules import ProductRule
from tests.support import tenants


@pytest.fixture
def pilot_ids(app, cw_live) -> dict[str, int]:
    """Ids of the pilot's own records, by the names the routes and the spec use."""
    from msphub_psa.commands.reconciliation import MapCustomerCommand
    from tests.support.reconciliation import pilot_ready

    with app.app_context():
        partner_id, actor = pilot_ready(cw_live)
        customer = tenants.first_customer(partner_id)
        company = session().scalar(
            select(PsaCompany).where(PsaCompany.partner_id == partner_id).order_by(PsaCompany.id)
        )
        MapCustomerCommand(actor, customer.id, company_id=company.id).run()
        rule = ProductRule(
            partner_id=partner_id,
            priority=1,
            category="Own",
            subcategory="S",
            product_type="T",
            product_class="Agreement",
            conditions=[{"field": "publisher", "operator": "equals", "value": "Microsoft"}],
        )
        session().add(rule)
        session().commit()
        ids = {"partner_id": partner_id, "customer_id": customer.id, "rule_id": rule.id, "company_id": company.id}
        session().remove()
        return ids


@pytest.fixture(autouse=True)
def _empty_queues_after(app):
    """The sweeps enqueue real jobs (refreshes) that no worker runs here: drop them so a later test's worker
    on the same queues (this process's ``PSA_QUEUE_PREFIX``) does not run them against its own database."""
    yield
    from msphub_psa.jobqueue import FAST, SYNC, SYNC_LATER, get_queue

    with app.app_context():
        for kind in (FAST, SYNC, SYNC_LATER):
            get_queue(kind).empty()
