"""Pre-flight checks of the agreements a push writes to, against the sandbox over HTTP: the agreements are re-read
in batches (never one call per agreement), the cache follows, the preview names the rows, the push makes no call
for them and pushes the others, and the next push sends them once the agreement is open again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.billing.preview import PreviewCommand
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaAgreement
from tests.integration.preflight.sandbox import creates, edit, last_seq, put_back, touching
from tests.support.push import expected_transactions, items, push_setup


def _cancel(record):
    record["cancelledFlag"] = True


def _expire(record):
    record["agreementStatus"] = "Expired"


def _end(record):
    record.update(endDate="2020-01-31T00:00:00Z", noEndingDateFlag=False)


def _delete_company(record):
    record["deletedFlag"] = True


def _inactive_company(record):
    record["status"] = {"id": 2, "name": "Inactive"}


CAUSES = {
    "AgreementCancelled": ("agreements", _cancel),
    "AgreementExpired": ("agreements", _expire),
    "AgreementEnded": ("agreements", _end),
    "CompanyDeleted": ("companies", _delete_company),
    "CompanyInactive": ("companies", _inactive_company),
}


def _lines(actor, partner_id) -> dict[int, dict]:
    preview = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()
    return {line["transaction_id"]: line for g in preview["groups"]["result"] for line in g["lines"]}, preview


def _agreement_reads(cw_live, since: int) -> list[dict]:
    return [r for r in cw_live.requests(since) if r["method"] == "GET" and "/finance/agreements" in r["path"]]


@pytest.mark.parametrize("code", sorted(CAUSES))
def test_rows_on_a_closed_agreement_are_blocked_without_a_call_and_go_once_it_is_open(ctx, cw_live, code):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    txs = expected_transactions(customers)
    victim_customer = customers[0]
    victim_txs = {t.id for t in txs if t.customer_id == victim_customer}
    lines, preview = _lines(actor, partner_id)  # before any cause: nothing blocked
    assert preview["totals"]["blocked"] == 0
    target = next(g for g in preview["groups"]["result"] if g["customer_id"] == victim_customer)
    agreement_id = target["agreement_remote_id"]
    resource, change = CAUSES[code]
    record_id = agreement_id
    if resource == "companies":
        record_id = cw_live.sandbox.store.get(cw_live.company_id, "agreements", agreement_id)["company"]["id"]
    old = edit(cw_live, resource, record_id, change)

    start = last_seq(cw_live)
    lines, preview = _lines(actor, partner_id)
    assert {t for t, line in lines.items() if line["status"] == "blocked"} == victim_txs
    assert {lines[t]["check"]["code"] for t in victim_txs} == {code}
    assert preview["totals"]["blocked_causes"] == {code: len(victim_txs)}
    assert len(_agreement_reads(cw_live, start)) == 1  # one batched read for every agreement of the preview

    start = last_seq(cw_live)
    first = PushBillingCommand(partner_id).run()
    assert first.counts["blocked"] == len(victim_txs) and first.status == "partial"
    assert first.counts["pushed"] == len(txs) - len(victim_txs)
    assert touching(cw_live, start, agreement_id) == []  # zero calls for the blocked rows
    assert len(creates(cw_live, start)) == len(txs) - len(victim_txs)
    reads = _agreement_reads(cw_live, start)
    assert len(reads) == 1 and "conditions=" in reads[0]["query"]
    by_tx = {r.transaction_id: r for r in items(partner_id)}
    assert {by_tx[t].state for t in victim_txs} == {"blocked"}
    assert {by_tx[t].last_error_code for t in victim_txs} == {code}
    cached = session().scalar(select(PsaAgreement).where(PsaAgreement.remote_id == agreement_id))
    if code == "AgreementCancelled":
        assert cached.cancelled  # the cache follows what was read

    put_back(cw_live, resource, old)
    start = last_seq(cw_live)
    fixed = PushBillingCommand(partner_id).run()
    assert fixed.status == "succeeded", dict(fixed.counts)
    assert fixed.counts["pushed"] == len(victim_txs) == len(creates(cw_live, start))
    assert {r.state for r in items(partner_id)} == {"pushed"}


def test_steady_state_with_nothing_new_makes_no_call(ctx, cw_live):
    partner_id, _actor, _customers = push_setup(cw_live, customers=2)
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    start = last_seq(cw_live)
    again = PushBillingCommand(partner_id).run()
    assert again.psa_calls == 0 and cw_live.requests(start) == []
