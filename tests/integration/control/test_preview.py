"""Preview (dry run) against the sandbox over HTTP: it writes nothing, and a push then writes exactly it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from msphub_psa import clock
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreviewCommand
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import OutboxDAO
from msphub_psa.models.hub import BillingTransaction
from msphub_psa.models.sync import SyncItem
from tests.support.push import dec, expected_transactions, items, push_setup

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


def _lines(data) -> dict:
    """{reference: (group, line)} of every line of the preview."""
    return {line["reference"]: (group, line) for group in data["groups"]["result"] for line in group["lines"]}


def _writes(cw_live, since: int) -> list:
    """Requests other than GET after sequence number ``since``."""
    return [r for r in cw_live.requests(since) if r["method"] != "GET"]


def test_preview_writes_nothing_and_push_then_writes_exactly_it(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    txs = expected_transactions(customers)
    credit = next(t for t in txs if t.kind == "charge")
    session().add(
        BillingTransaction(
            partner_id=partner_id,
            customer_id=credit.customer_id,
            subscription_id=credit.subscription_id,
            kind="credit",
            period_start=credit.period_start,
            period_end=credit.period_end,
            quantity=Decimal(1),
            unit_price=Decimal("7.25"),
            unit_cost=Decimal(5),
            amount=Decimal("7.25"),
            currency="USD",
        )
    )
    session().commit()
    txs = expected_transactions(customers)
    start = cw_live.requests()[-1]["seq"] if cw_live.requests() else 0
    seeded = {c["id"] for c in cw_live.state("catalog")}

    data = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()

    assert _writes(cw_live, start) == []  # a dry run: ConnectWise reads only
    assert session().scalar(select(func.count()).select_from(SyncItem)) == 0  # and no outbox row
    assert set(OutboxDAO.eligible(partner_id)) == {t.id for t in txs}  # the engine's eligibility, unchanged
    totals = data["totals"]
    charges = [t for t in txs if t.kind == "charge"]
    credits = [t for t in txs if t.kind == "credit"]
    assert totals["transactions"] == len(txs)
    assert (totals["additions"], totals["adjustments"]) == (len(charges), len(credits))
    assert dec(totals["charges"]) == sum(t.amount for t in charges)
    assert dec(totals["credits"]) == -sum(abs(t.amount) for t in credits)
    assert totals["customers"] == 2 and data["lookups"]["count"] == 0
    assert data["catalog"]["create"] and data["catalog"]["new_lists"]  # a fresh sandbox: items and values to create
    lines = _lines(data)
    assert len(lines) == len(txs)

    result = PushBillingCommand(partner_id, "pilot.admin").run()
    assert result.status == "succeeded" and result.counts["pushed"] == len(txs)

    catalog = {c["id"]: c["identifier"] for c in cw_live.state("catalog")}
    created = sorted(identifier for remote_id, identifier in catalog.items() if remote_id not in seeded)
    assert created == sorted(c["identifier"] for c in data["catalog"]["create"])
    for value in data["catalog"]["new_lists"]:
        kind, name = value.split(": ", 1)
        resource = {"category": "categories", "subcategory": "subcategories", "type": "productTypes"}[kind]
        assert name in [r["name"] for r in cw_live.state(resource)]
    seen = 0
    for group in data["groups"]["result"]:
        for record in cw_live.state("additions", parent=group["agreement_remote_id"]):
            g, line = lines[record["serialNumber"]]
            assert g["agreement_remote_id"] == group["agreement_remote_id"] and line["kind"] == "addition"
            assert dec(record["quantity"]) == dec(line["quantity"])
            assert dec(record["unitPrice"]) == dec(line["unit_price"])
            assert dec(record["quantity"]) * dec(record["unitPrice"]) == dec(line["amount"])
            assert record["effectiveDate"][:10] == line["period_start"]
            assert record["cancelledDate"][:10] == line["period_end"]
            assert record["invoiceDescription"] == line["description"]
            assert catalog[record["product"]["id"]] == line["catalog"]["identifier"]
            seen += 1
        for record in cw_live.state("adjustments", parent=group["agreement_remote_id"]):
            reference = record["description"].rsplit(" ", 1)[-1]
            g, line = lines[reference]
            assert g["agreement_remote_id"] == group["agreement_remote_id"] and line["kind"] == "adjustment"
            assert dec(record["amount"]) == dec(line["amount"]) < 0
            assert record["description"] == line["description"]
            seen += 1
    assert seen == len(txs)

    after = PreviewCommand(actor, partner_id).run()  # everything pushed: an empty preview, catalog cached
    assert after["totals"]["transactions"] == 0 and after["catalog"]["create"] == []
    assert {r.state for r in items(partner_id)} == {"pushed"}


def test_preview_pages_groups_and_bounds_lines_but_totals_are_complete(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=3)
    total = len(expected_transactions(customers))
    first = PreviewCommand(actor, partner_id, page=1, page_size=1, lines=1).run()
    groups = first["groups"]
    assert groups["total"] >= 3 and len(groups["result"]) == 1 and len(groups["agreement_ids"]) == groups["total"]
    assert first["totals"]["transactions"] == total
    assert len(groups["result"][0]["lines"]) == 1 <= groups["result"][0]["line_count"]
    second = PreviewCommand(actor, partner_id, page=2, page_size=1, lines=0).run()
    assert second["groups"]["result"][0]["agreement_id"] == groups["agreement_ids"][1]
    assert second["groups"]["result"][0]["lines"] == []
    counted = sum(
        PreviewCommand(actor, partner_id, page=p, page_size=1, lines=0).run()["groups"]["result"][0]["transactions"]
        for p in range(1, groups["total"] + 1)
    )
    assert counted == total


def test_preview_leaves_out_failed_rows_and_lists_rows_in_sending_as_lookups(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    cw_live.set_faults(
        [
            {
                "kind": "status",
                "status": 400,
                "methods": ["POST"],
                "path": "/additions$",
                "count": 1,
                "body": {"code": "InvalidObject", "message": "refused"},
            }
        ]
    )
    PushBillingCommand(partner_id).run()
    failed = [r for r in items(partner_id) if r.state == "failed"]
    assert len(failed) == 1
    txs = expected_transactions(customers)
    new = BillingTransaction(
        partner_id=partner_id,
        customer_id=txs[0].customer_id,
        subscription_id=txs[0].subscription_id,
        kind="charge",
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 1, 31),
        quantity=Decimal(2),
        unit_price=Decimal("10.00"),
        unit_cost=Decimal(8),
        amount=Decimal("20.00"),
        currency="USD",
    )
    session().add(new)
    pushed = next(r for r in items(partner_id) if r.state == "pushed")
    pushed.state, pushed.sending_since = "sending", clock.now()  # as a killed run leaves it
    session().commit()
    data = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()
    assert set(_lines(data)) == {f"MSPHUB-T{new.id}"}  # not the failed row (Retry failed), not the sending one
    assert data["lookups"]["count"] == 1 and data["lookups"]["result"][0]["reference"] == pushed.reference
    result = PushBillingCommand(partner_id).run()
    assert (result.lookups, result.writes, result.counts["recovered"]) == (1, 1, 1)  # adopted, and the new one
    assert {r.transaction_id: r.state for r in items(partner_id)}[new.id] == "pushed"
