"""Fixtures of the Configure Product Defaults tests: an active pilot integration, API helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from msphub_psa.daos.base import session
from msphub_psa.models.hub import Product
from msphub_psa.models.rules import ProductRule
from msphub_psa.models.tenancy import AuditEvent
from tests.support import tenants
from tests.support.integration import make_active_integration
from tests.support.web import csrf_token, login

API = "/api/v1/psa_rules/"
MS_NCE = [
    {"field": "publisher", "operator": "equals", "value": "Microsoft"},
    {"field": "item_type", "operator": "equals", "value": "OnlineServicesNCE"},
]
ATTRS = {"category": "Microsoft", "subcategory": "NCE", "type": "License-Based", "product_class": "Agreement"}


@pytest.fixture
def active(app, cw_live):
    """The pilot partner with an active integration on the live sandbox; returns its id."""
    with app.app_context():
        partner_id = tenants.pilot().id
        make_active_integration(partner_id, cw_live)
    return partner_id


class Api:
    """A logged-in client speaking JSON to the rules API with the CSRF header."""

    def __init__(self, client, username: str):
        self.client = login(client, username)
        self.headers = {"X-CSRFToken": csrf_token(client, "/psa/my-organization/")}

    def get(self, path: str = "", **kw):
        """GET under the API root."""
        return self.client.get(API + path, headers=self.headers, **kw)

    def send(self, method: str, path: str = "", json=None):
        """A write under the API root."""
        return self.client.open(API + path, method=method, json=json, headers=self.headers)


@pytest.fixture
def admin_api(client, active):
    """pilot.admin's API session."""
    return Api(client, "pilot.admin")


def rule_body(conditions=None, **attrs) -> dict:
    """A POST body: Microsoft NCE conditions by default."""
    return {"conditions": MS_NCE if conditions is None else conditions, **ATTRS, **attrs}


def product_count(app, **where) -> int:
    """Products of the pilot's distributor with these exact field values (independent of the engine)."""
    with app.app_context():
        query = select(func.count(Product.id)).where(Product.distributor_id == tenants.pilot().distributor_id)
        for name, value in where.items():
            query = query.where(getattr(Product, name) == value)
        return session().scalar(query)


def rows_and_audit(app) -> tuple[int, int]:
    """How many rules and audit events exist (to prove nothing was saved)."""
    with app.app_context():
        return (
            session().scalar(select(func.count(ProductRule.id))),
            session().scalar(select(func.count(AuditEvent.id))),
        )
