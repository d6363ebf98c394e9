"""Look-ups of the demo tenants for tests (through the DAOs' session)."""

from __future__ import annotations

from sqlalchemy import select

from msphub_psa.daos.base import session
from msphub_psa.demo import catalog
from msphub_psa.models.hub import Customer, Distributor, Partner


def partner(name_or_index) -> Partner:
    """A demo partner by index in catalog.PARTNERS or by name."""
    name = catalog.PARTNERS[name_or_index][0] if isinstance(name_or_index, int) else name_or_index
    return session().scalar(select(Partner).where(Partner.name == name))


def pilot() -> Partner:
    """The pilot partner (feature on)."""
    return partner(0)


def other() -> Partner:
    """A partner of the same distributor with the feature off."""
    return partner(1)


def first_customer(partner_id: int) -> Customer:
    """The lowest-id customer of a partner."""
    return session().scalar(select(Customer).where(Customer.partner_id == partner_id).order_by(Customer.id))


def foreign_partner() -> Partner:
    """A partner of another distributor (created on first use)."""
    found = session().scalar(select(Partner).where(Partner.name == "Foreign Partner"))
    if found:
        return found
    dist = Distributor(name="Other Distribution")
    session().add(dist)
    session().flush()
    found = Partner(distributor_id=dist.id, name="Foreign Partner", currency="USD", timezone="UTC")
    session().add(found)
    session().commit()
    return found
