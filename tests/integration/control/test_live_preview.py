"""The live preview counts and sums the plain charges in the database and builds lines for the page only: its JSON is
exactly what a line built for every eligible row gives (``summarize``), blocked, prorated, credited or not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing.preview import CatalogView, PreviewCommand, stored_checker, summarize
from msphub_psa.daos.base import session
from msphub_psa.daos.control import PreviewRowsDAO
from msphub_psa.models.hub import BillingTransaction
from msphub_psa.models.reconciliation import SubscriptionMapping
from tests.integration.preflight.sandbox import edit
from tests.support.push import add_history, expected_transactions, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


def _same_as_every_line(actor, partner_id: int, page: int, page_size: int, lines: int) -> dict:
    data = PreviewCommand(actor, partner_id, page, page_size, lines).run()
    rows = PreviewRowsDAO.eligible(partner_id)
    view = CatalogView.from_dict(data["catalog"])
    again = summarize(rows, view, page, page_size, lines, checker=stored_checker(partner_id, view, rows))
    session().rollback()
    assert data["totals"] == again["totals"], (page, page_size, lines)
    assert data["groups"] == again["groups"], (page, page_size, lines)
    return data


def _odd_charge(tx, **values) -> None:
    fields = {c.key: getattr(tx, c.key) for c in BillingTransaction.__table__.columns if c.key != "id"}
    session().add(BillingTransaction(**{**fields, "kind": "charge", **values}))


def test_the_live_preview_is_what_every_line_gives(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=3)
    add_history(partner_id, customers, len(expected_transactions(customers)) + 60)  # prorations, credits
    tx = expected_transactions(customers[:1])[0]
    _odd_charge(tx, quantity=Decimal(2), unit_price=Decimal(10), amount=Decimal(25))  # does not add up
    _odd_charge(tx, quantity=Decimal(0), unit_price=Decimal(10), amount=Decimal(0))  # no quantity
    _odd_charge(tx, quantity=Decimal(3), unit_price=Decimal("0.1"), amount=Decimal("0.3"))  # exact only in Decimal
    _odd_charge(tx, quantity=Decimal("1.5"), unit_price=Decimal("9.99"), amount=Decimal("14.985"))  # part of a seat
    _odd_charge(tx, quantity=Decimal(4), unit_price=Decimal("2.5"), amount=Decimal("3.75"))  # a proration
    session().commit()

    data = _same_as_every_line(actor, partner_id, 1, 200, 500)
    assert data["totals"]["blocked"] >= 2 and data["totals"]["adjustments"] > 0
    for paging in ((1, 1, 3), (2, 1, 0), (3, 2, 1)):
        _same_as_every_line(actor, partner_id, *paging)

    # an agreement cancelled in ConnectWise blocks its group's lines; a mapping with a mismatch accepted or not
    group = data["groups"]["result"][1]
    edit(cw_live, "agreements", group["agreement_remote_id"], lambda r: r.update(cancelledFlag=True))
    mapping = session().scalar(
        select(SubscriptionMapping).where(
            SubscriptionMapping.customer_id == customers[2], SubscriptionMapping.ended_at.is_(None)
        )
    )
    mapping.mismatch_accepted = not mapping.mismatch_accepted
    session().commit()
    blocked = _same_as_every_line(actor, partner_id, 1, 200, 500)
    assert 0 < blocked["totals"]["blocked_causes"]["AgreementCancelled"] <= group["transactions"]
