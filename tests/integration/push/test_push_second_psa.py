"""The push's exactly-once rules through a second PSA: the billing code needs nothing of ConnectWise's.

The partner's directory is read from the sandbox (the data set-up), then its integration's adapter is the
in-memory double of tests/support/second_psa.py: every push below makes no ConnectWise request (the sandbox's
log proves it), and the double's store holds each eligible transaction exactly once — through lost answers,
lost requests, transient failures, a crash right after a write, refusals, a revoked login and a move.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from msphub_psa.clock import now as utcnow
from msphub_psa.commands import psa_client
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.commands.subscriptions import RemapPreviewCommand, RemapSubscriptionCommand
from msphub_psa.connectwise.adapter import ConnectWisePsa
from msphub_psa.daos.base import session
from msphub_psa.domain import billing
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.models.hub import BillingTransaction, Subscription
from msphub_psa.models.sync import SyncLease
from msphub_psa.psa.port import LIST_KINDS
from msphub_psa.psa.records import Agreement, Company
from tests.support.push import expected_transactions, items, monthly_agreement, push_setup
from tests.support.second_psa import RECORD_NAMES, Crash, Faults, SecondPsa, check

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


@pytest.fixture
def second(ctx, cw_live, monkeypatch):
    """The pilot set up on the sandbox's directory, then served by the second PSA; (partner id, actor,
    customers, the double)."""
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    side = SecondPsa(
        [_agreement(a) for a in session().scalars(select(PsaAgreement).where(PsaAgreement.partner_id == partner_id))],
        [Company(c.remote_id, c.identifier, c.name) for c in session().scalars(select(PsaCompany))],
    )
    with ConnectWisePsa(cw_live.client()) as cw:  # the procurement lists the rules name, as the partner has them
        side.lists = {kind: cw.list_entries(kind) for kind in LIST_KINDS}
    adapter = psa_client.Adapter(lambda integration, throttle=None, **options: side.client(), check, RECORD_NAMES)
    monkeypatch.setitem(psa_client.ADAPTERS, ConnectWisePsa.kind, adapter)
    session().commit()
    sandbox_before = max((entry["seq"] for entry in cw_live.requests()), default=0)
    yield partner_id, actor, customers, side
    assert cw_live.requests(sandbox_before) == [], "a push reached ConnectWise"


def _agreement(row: PsaAgreement) -> Agreement:
    return Agreement(row.remote_id, row.name, row.remote_company_id, row.type_name, row.start_date, row.end_date)


def _settled(partner_id: int, customers: list[int], side: SecondPsa) -> list[BillingTransaction]:
    """Every eligible transaction exactly once in the second PSA, with MSP Hub's amounts and dates."""
    txs = expected_transactions(customers)
    counts = side.ours()
    assert sorted(counts) == sorted(billing.reference(t.id) for t in txs)
    assert set(counts.values()) == {1}
    found = side.by_reference()
    for tx in txs:
        record = found[billing.reference(tx.id)]
        if tx.kind == "charge":
            assert record.kind == "charge" and record.amount == tx.amount
            assert (record.period_start, record.period_end) == (tx.period_start, tx.period_end)
        else:
            assert record.kind == "credit" and record.amount == -abs(tx.amount)
    assert {r.state for r in items(partner_id)} == {"pushed"}
    return txs


def _push_until_settled(partner_id: int, runs: int = 6) -> list:
    """Push again while rows wait (a fault may leave some for the next run), at most ``runs`` times."""
    results = []
    for _ in range(runs):
        results.append(PushBillingCommand(partner_id).run())
        session().expire_all()
        if {r.state for r in items(partner_id)} <= {"pushed"}:
            break
    return results


def test_first_push_creates_each_record_once_and_a_rerun_calls_nothing(second):
    partner_id, _actor, customers, side = second
    first = PushBillingCommand(partner_id).run()
    assert first.status == "succeeded", first.error
    txs = _settled(partner_id, customers, side)
    assert first.counts["pushed"] == len(txs) > 0
    assert first.writes == len(txs) and first.lookups == 0
    calls = len(side.calls)
    second_run = PushBillingCommand(partner_id).run()
    assert second_run.status == "succeeded" and second_run.psa_calls == 0
    assert len(side.calls) == calls


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lost_answers_lost_requests_and_transient_failures_leave_each_reference_once(second, seed):
    partner_id, _actor, customers, side = second
    side.set_faults(Faults(seed=seed, transient=0.15, lost_answer=0.15, lost_request=0.1))
    results = _push_until_settled(partner_id)
    txs = _settled(partner_id, customers, side)
    lost = side.calls.count("find_ours")
    assert lost > 0  # some outcomes were unknown and read back before anything was sent again
    assert sum(r.writes for r in results) >= len(txs)


def test_a_crash_right_after_a_write_is_read_back_not_sent_twice(second):
    partner_id, _actor, customers, side = second
    side.set_faults(Faults(crash_after_write=5))
    with pytest.raises(Crash):
        PushBillingCommand(partner_id).run()
    session().rollback()
    sending = [r for r in items(partner_id) if r.state == "sending"]
    assert sending  # the crashed write (and the batch's others) were never settled
    session().execute(update(SyncLease).where(SyncLease.partner_id == partner_id).values(expires_at=utcnow()))
    session().commit()  # the dead run's lease has run out
    side.set_faults(Faults())
    results = _push_until_settled(partner_id)
    assert results[0].status == "succeeded", results[0].error
    assert results[0].lookups >= len(sending)  # each unsettled row was looked up first
    _settled(partner_id, customers, side)


def test_a_refused_record_fails_alone_and_the_others_are_pushed(second):
    partner_id, _actor, customers, side = second
    refused = expected_transactions(customers)[0]
    side.set_faults(Faults(refuse=frozenset({billing.reference(refused.id)})))
    result = PushBillingCommand(partner_id).run()
    rows = {r.transaction_id: r for r in items(partner_id)}
    assert rows[refused.id].state == "failed" and rows[refused.id].last_error_code == "Refused"
    assert result.counts["failed"] == 1 and result.counts["pushed"] == len(rows) - 1
    assert billing.reference(refused.id) not in side.ours()


def test_a_revoked_login_stops_the_run_and_nothing_is_lost(second):
    partner_id, _actor, customers, side = second
    side.set_faults(Faults(stop=True))
    result = PushBillingCommand(partner_id).run()
    assert result.status == "failed" and side.records == {}
    assert {r.state for r in items(partner_id)} <= {"pending"}
    side.set_faults(Faults())
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    _settled(partner_id, customers, side)


def test_a_value_the_second_psa_cannot_take_is_refused_before_any_call(second):
    partner_id, _actor, customers, side = second
    sub = session().scalar(select(Subscription).where(Subscription.customer_id == customers[0]))
    odd = BillingTransaction(
        partner_id=partner_id,
        customer_id=sub.customer_id,
        subscription_id=sub.id,
        kind="charge",
        period_start=dt.date(2026, 12, 1),
        period_end=dt.date(2026, 12, 31),
        quantity=Decimal(1),
        unit_price=Decimal(2_000_000),
        unit_cost=Decimal(9),
        amount=Decimal(2_000_000),
        currency="USD",
    )
    session().add(odd)
    session().commit()
    result = PushBillingCommand(partner_id).run()
    row = next(r for r in items(partner_id) if r.transaction_id == odd.id)
    assert row.state == "failed" and row.last_error_code == "PayloadError"
    assert billing.reference(odd.id) not in side.ours()
    assert side.calls.count("create_charge") == result.writes - side.calls.count("create_credit")


def test_moving_pushed_transactions_removes_ours_on_the_old_agreement_and_creates_them_once_on_the_new(second):
    partner_id, actor, customers, side = second
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    sub = session().scalar(select(Subscription).where(Subscription.customer_id == customers[0]))
    old = monthly_agreement(session().scalar(select(PsaAgreement.company_id).where(PsaAgreement.id == _mapped(sub))))
    new = PsaAgreement(
        partner_id=partner_id,
        remote_id=old.remote_id + 90_000,
        name="Microsoft CSP - Monthly 2026",
        remote_company_id=old.remote_company_id,
        company_id=old.company_id,
        type_name=old.type_name,
        start_date=old.start_date,
        no_ending_date=True,
        bill_start_date=old.bill_start_date,
        billing_cycle=old.billing_cycle,
    )
    session().add(new)
    session().commit()
    side.agreements[new.remote_id] = _agreement(new)
    allowed = RemapPreviewCommand(actor, sub.id, new.id).run().allowed
    RemapSubscriptionCommand(actor, sub.id, new.id, "custom", allowed.lower, move_pushed=True).run()
    side.set_faults(Faults(seed=9, lost_answer=0.2))
    _push_until_settled(partner_id)
    moved = {billing.reference(r.transaction_id) for r in items(partner_id) if r.agreement_remote_id == new.remote_id}
    assert moved and all(side.ours(new.remote_id)[ref] == 1 for ref in moved)
    assert not moved & set(side.ours(old.remote_id))
    _settled(partner_id, customers, side)


def _mapped(sub: Subscription) -> int:
    """The cache id of the agreement a subscription is mapped to."""
    from msphub_psa.models.reconciliation import SubscriptionMapping

    return session().scalar(
        select(SubscriptionMapping.agreement_id).where(
            SubscriptionMapping.subscription_id == sub.id, SubscriptionMapping.ended_at.is_(None)
        )
    )
