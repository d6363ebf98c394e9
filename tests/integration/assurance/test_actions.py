"""Each decision on a finding does what it says, against the sandbox over HTTP; a second read-back after it is
clean; nothing is written to a record without our reference."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.commands.billing.assurance_actions import FindingsCommand, ResolveFindingCommand
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.exceptions import ConflictError, InvalidInputError
from msphub_psa.daos.base import session
from msphub_psa.models.tenancy import AuditEvent
from tests.support.assurance import first, pushed_ledger, writes
from tests.support.reconciliation import viewer


def _findings(actor, partner_id, **kw):
    session().expire_all()
    return FindingsCommand(actor, partner_id, **kw).run()


def _only(actor, partner_id):
    [finding] = _findings(actor, partner_id)["findings"]
    return finding


def test_recreate_makes_exactly_one_record_with_the_same_reference(ctx, cw_live):
    partner_id, actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    ReadBackCommand(partner_id).run()
    finding = _only(actor, partner_id)
    assert finding["code"] == "missing" and finding["actions"] == ["recreate", "ignore"]
    drift = _findings(actor, partner_id)["drift"]
    assert drift["records"] == 1 and drift["amount"] == finding["amount"]

    since = len(cw_live.requests())
    resolved = ResolveFindingCommand(actor, finding["id"], "recreate", partner_id=partner_id).run()
    assert resolved["status"] == "recreating"
    push = PushBillingCommand(partner_id).run()
    assert push.counts["recovered"] == 1 and push.counts["pushed"] == 1 and push.lookups == 1
    posted = writes(cw_live, since)
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in posted] == [("POST", "additions")]
    serials = Counter(a["serialNumber"] for a in cw_live.state("additions", parent=row.agreement_remote_id))
    assert serials[row.reference] == 1

    ReadBackCommand(partner_id).run()
    assert _findings(actor, partner_id)["findings"] == []
    assert _findings(actor, partner_id, statuses=["recreated"])["total"] == 1
    assert session().scalar(select(AuditEvent).where(AuditEvent.action == "assurance.recreate")) is not None


def test_accept_keeps_both_values_and_the_next_read_back_is_clean(ctx, cw_live):
    partner_id, actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client().update_addition(row.agreement_remote_id, row.remote_record_id, {"unitPrice": 99.5})
    ReadBackCommand(partner_id).run()
    finding = _only(actor, partner_id)
    assert finding["code"] == "edited" and finding["actions"] == ["accept", "ignore"]
    since = len(cw_live.requests())
    resolved = ResolveFindingCommand(actor, finding["id"], "accept", "price agreed", partner_id=partner_id).run()
    assert resolved["status"] == "accepted" and resolved["held"]["unit_price"] == "99.5"
    assert resolved["sent"]["unit_price"] != "99.5"
    ReadBackCommand(partner_id).run()
    assert _findings(actor, partner_id)["findings"] == [] and writes(cw_live, since) == []
    # a further edit is a new drift
    cw_live.client().update_addition(row.agreement_remote_id, row.remote_record_id, {"unitPrice": 1})
    ReadBackCommand(partner_id).run()
    assert _only(actor, partner_id)["held"]["unit_price"] == "1"


def test_ignore_needs_a_reason_and_holds_while_nothing_changes(ctx, cw_live):
    partner_id, actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    ours = cw_live.client().get_addition(row.agreement_remote_id, row.remote_record_id)
    theirs = cw_live.client()._json(
        "POST",
        "/finance/agreements/{id}/additions",
        body={"product": {"id": ours.product.id}, "billCustomer": "Billable", "quantity": 1, "unitPrice": 5},
        id=row.agreement_remote_id,
    )
    ReadBackCommand(partner_id).run()
    finding = _only(actor, partner_id)
    assert finding["code"] == "double_billing" and finding["record_id"] == theirs["id"]
    with pytest.raises(InvalidInputError):
        ResolveFindingCommand(actor, finding["id"], "ignore", partner_id=partner_id).run()
    with pytest.raises(InvalidInputError):
        ResolveFindingCommand(actor, finding["id"], "recreate", partner_id=partner_id).run()
    since = len(cw_live.requests())
    ResolveFindingCommand(actor, finding["id"], "ignore", "setup fee, not a seat", partner_id=partner_id).run()
    with pytest.raises(ConflictError):
        ResolveFindingCommand(actor, finding["id"], "ignore", "again", partner_id=partner_id).run()
    ReadBackCommand(partner_id).run()
    assert _findings(actor, partner_id)["findings"] == []
    assert _findings(actor, partner_id, statuses=["ignored"])["findings"][0]["reason"] == "setup fee, not a seat"
    assert writes(cw_live, since) == []  # the line without our reference was never written to


def test_a_viewer_reads_findings_but_may_not_decide(ctx, cw_live):
    from msphub_psa.commands.exceptions import ForbiddenError

    partner_id, actor, rows = pushed_ledger(cw_live)
    row = first(rows)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    ReadBackCommand(partner_id).run()
    finding = _only(viewer(), partner_id)
    assert Decimal(finding["amount"]) > 0
    with pytest.raises(ForbiddenError):
        ResolveFindingCommand(viewer(), finding["id"], "recreate", partner_id=partner_id).run()


def test_another_partners_finding_is_not_found_and_unchanged(ctx, cw_live):
    from msphub_psa.commands.exceptions import NotFoundError
    from msphub_psa.daos.assurance import AssuranceDAO
    from tests.support import tenants

    partner_id, actor, _rows = pushed_ledger(cw_live)
    other = tenants.other().id
    theirs = AssuranceDAO.add(
        partner_id=other, key="missing:1:1", code="missing", status="open", amount=Decimal(5), detail="x"
    )
    session().commit()
    with pytest.raises(NotFoundError):
        ResolveFindingCommand(actor, theirs.id, "ignore", "not mine", partner_id=partner_id).run()
    assert _findings(actor, partner_id)["total"] == 0
    session().expire_all()
    assert AssuranceDAO.get(other, theirs.id).status == "open"
