"""Seed deterministic demo data: tenants, users per role, catalog, customers, billing."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from msphub_psa import clock, permissions
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.exceptions import ConflictError, ForbiddenError
from msphub_psa.daos import bulk
from msphub_psa.daos.base import session
from msphub_psa.daos.feature import PartnerFeatureDAO
from msphub_psa.daos.hub import CustomerDAO, DistributorDAO, PartnerDAO
from msphub_psa.daos.tenancy import UserTenantDAO
from msphub_psa.demo import catalog
from msphub_psa.demo.generate import DemoGenerator, DemoSize
from msphub_psa.domain.actor import Actor
from msphub_psa.models.hub import BillingTransaction, Customer, Distributor, Product, Subscription
from msphub_psa.settings import settings

log = logging.getLogger(__name__)
SYSTEM = Actor(user_id=None, username="system:demo-data", roles=(permissions.ADMIN,))


def ensure_roles() -> list[str]:
    """Create the plugin's role rows if missing (their permissions are builtin data); the host's admin role
    only where the plugin declares it (``PSA_BUILTIN_ADMIN_ROLE``)."""
    sm = current_app.appbuilder.sm
    created = []
    for name in (*permissions.builtin_roles(settings()), sm.auth_role_public):
        if sm.find_role(name) is None:
            sm.add_role(name)
            created.append(name)
    return created


@dataclass
class DemoSummary:
    """What the seeding created."""

    partners: list[str] = field(default_factory=list)
    users: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class SeedDemoDataCommand(BaseCommand):
    """Create the demo distributor, partners, users, catalog and months of billing."""

    def __init__(self, size: DemoSize, today: dt.date | None = None):
        self.size = size
        self.today = today or clock.today(catalog.PARTNERS[0][2])  # the pilot partner's today

    def validate(self) -> None:
        """Refuse outside the demo and test modes (it writes the marketplace relations), and to seed twice.

        :raises ForbiddenError: in production mode.
        :raises ConflictError: the demo distributor already exists.
        """
        if not settings().local:
            raise ForbiddenError(
                "Demo data writes the marketplace tables: only in the demo and test modes (PSA_ENV=demo or test)."
            )
        if session().scalar(select(Distributor).where(Distributor.name == catalog.DISTRIBUTOR)):
            raise ConflictError("Demo data is already present in this database.")

    @transaction
    def run(self) -> DemoSummary:
        """Seed everything in one transaction."""
        self.validate()
        ensure_roles()
        summary = DemoSummary()
        distributor = DistributorDAO.create(name=catalog.DISTRIBUTOR)
        partners = [
            PartnerDAO.create(distributor_id=distributor.id, name=name, currency=cur, timezone=tz)
            for name, cur, tz, _pilot in catalog.PARTNERS
        ]
        summary.partners = [p.name for p in partners]
        summary.users = self._users(distributor.id, partners)
        for partner, (_n, _c, _t, pilot) in zip(partners, catalog.PARTNERS, strict=True):
            if pilot:
                PartnerFeatureDAO.create(partner_id=partner.id, enabled=True, changed_at=clock.now())
                audit(
                    SYSTEM,
                    "feature.enable",
                    "partner",
                    partner.id,
                    partner_id=partner.id,
                    distributor_id=distributor.id,
                    before=False,
                    after=True,
                )
        summary.counts = self._marketplace(distributor.id, partners)
        return summary

    def _users(self, distributor_id: int, partners: list) -> list[tuple[str, str, str]]:
        """One user per role (and an admin per other partner), tied to its tenant."""
        sm = current_app.appbuilder.sm
        users = []
        names = permissions.role_names(settings())
        for username, role, tenant, password, first, last in catalog.USERS:
            user = sm.find_user(username=username) or sm.add_user(
                username, first, last, f"{username}@example.com", sm.find_role(names[role]), password=password
            )
            if tenant == "distributor":
                UserTenantDAO.assign(user.id, distributor_id=distributor_id)
            elif tenant is not None:
                UserTenantDAO.assign(user.id, partner_id=partners[tenant].id)
            users.append((username, names[role], password))
        return users

    def _marketplace(self, distributor_id: int, partners: list) -> dict[str, int]:
        """Bulk-insert products, customers, subscriptions and transactions."""
        gen = DemoGenerator(self.size, self.today)
        products = gen.products(distributor_id, bulk.next_id(Product))
        bulk.insert_rows(Product, products)
        ids = {
            "customer": bulk.next_id(Customer),
            "subscription": bulk.next_id(Subscription),
            "transaction": bulk.next_id(BillingTransaction),
        }
        counts = {"products": len(products), "customers": 0, "subscriptions": 0, "transactions": 0}
        for partner, (_n, _c, _t, pilot) in zip(partners, catalog.PARTNERS, strict=True):
            count = self.size.customers if pilot else self.size.other_partner_customers
            customers = gen.customers(partner.id, count, pilot, ids["customer"])
            ids["customer"] += len(customers)
            counts["customers"] += bulk.insert_rows(Customer, customers)
            per = self.size.subscriptions_per_customer
            self._insert_book(gen.book(customers, products, partner.currency, ids, per), counts)
        for model in (Product, Customer, Subscription, BillingTransaction):
            bulk.sync_sequence(model)
        return counts

    @staticmethod
    def _insert_book(book, counts: dict[str, int]) -> None:
        """Insert subscriptions before their transactions, in large batches."""
        subs, txs = [], []
        for new_subs, new_txs in book:
            subs.extend(new_subs)
            txs.extend(new_txs)
            if len(txs) >= 50_000:
                counts["subscriptions"] += bulk.insert_rows(Subscription, subs)
                counts["transactions"] += bulk.insert_rows(BillingTransaction, txs)
                subs, txs = [], []
        counts["subscriptions"] += bulk.insert_rows(Subscription, subs)
        counts["transactions"] += bulk.insert_rows(BillingTransaction, txs)


def pilot_customer_names() -> list[str]:
    """The customer names of the demo's pilot partner (the sandbox's companies match them)."""
    return CustomerDAO.names_of_pilot()
