"""The push with concurrent creates: the same ConnectWise records as row by row, exactly once under faults
in the middle of a batch, and a run-stopping error leaves no row in ``sending`` unless its outcome is unknown.

In-process push (``PushBillingCommand``), the sandbox over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.connectwise import RetryPolicy, Timeouts
from msphub_psa.connectwise.adapter import ConnectWisePsa
from msphub_psa.daos.base import session
from msphub_psa.daos.integration import IntegrationDAO
from msphub_psa.models.sync import SyncItem, SyncRun, SyncTransition
from tests.integration.push.test_push_basic import _settled_check
from tests.support.push import add_history, by_reference, cw_records, expected_transactions, items, push_setup

TOTAL = 40  # at least: the demo data of the pinned day may give the two customers more
AUTH_REFUSED = {
    "kind": "status",
    "status": 401,
    "methods": ["POST"],
    "body": {"code": "ConnectWiseApi", "message": "UserNotAuthenticated", "errors": None},
}


def _setup(cw_live, total: int = TOTAL):
    """Two customers' subscriptions mapped, their history grown to at least ``total`` transactions (charges,
    credits); returns (partner id, actor, customers, how many transactions they have: what the day gave, or more)."""
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    add_history(partner_id, customers, total)
    return partner_id, actor, customers, len(expected_transactions(customers))


def _records(cw_live, partner_id) -> dict[str, dict]:
    """Our records in the sandbox by reference, without what ConnectWise assigns (ids, timestamps)."""
    additions, adjustments = cw_records(cw_live, {r.agreement_remote_id for r in items(partner_id)})
    found = {}
    for record in additions + adjustments:
        key = record.get("serialNumber") or record["description"].rsplit(" ", 1)[-1]
        assert key not in found, f"{key} twice"
        found[key] = {k: v for k, v in record.items() if k not in ("id", "_info")}
    return found


def _forget_pushes(cw_live, partner_id) -> None:
    """Remove our records from the sandbox and the outbox, so the same transactions are pushed anew."""
    store = cw_live.sandbox.store
    for row in {r.agreement_remote_id for r in items(partner_id)}:
        for resource in ("additions", "adjustments"):
            for record in list(store.scan(cw_live.company_id, resource, row)):
                store.delete(cw_live.company_id, resource, record["id"])
    session().execute(delete(SyncTransition))
    session().execute(delete(SyncItem))
    session().commit()


def _states(partner_id) -> dict[str, int]:
    """Outbox rows per state."""
    counts: dict[str, int] = {}
    for row in items(partner_id):
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def _exactly_once_for_pushed(cw_live, partner_id, landed: frozenset[int] = frozenset()) -> None:
    """Every pushed row has exactly one record in the sandbox, with its id; no other row has one
    (but the transactions ``landed`` whose answer was lost)."""
    rows = items(partner_id)
    additions, adjustments = cw_records(cw_live, {r.agreement_remote_id for r in rows})
    refs = by_reference(additions, "serialNumber") + by_reference(adjustments, "description")
    pushed = {r.transaction_id for r in rows if r.state == "pushed"}
    assert set(refs) == pushed | landed and set(refs.values()) <= {1}
    ids = {r["id"] for r in additions + adjustments}
    assert all(r.remote_record_id in ids for r in rows if r.state == "pushed")


def test_concurrent_push_gives_the_same_records_as_row_by_row(ctx, cw_live):
    partner_id, _actor, customers, total = _setup(cw_live)
    one = PushBillingCommand(partner_id, concurrency=1).run()
    assert one.status == "succeeded" and one.counts["pushed"] == total
    row_by_row = _records(cw_live, partner_id)
    _forget_pushes(cw_live, partner_id)

    many = PushBillingCommand(partner_id, concurrency=8).run()
    assert many.status == "succeeded" and many.counts["pushed"] == total
    assert _records(cw_live, partner_id) == row_by_row
    _settled_check(cw_live, partner_id, customers)
    assert many.writes == total and many.lookups == 0
    assert many.psa_calls == many.writes + many.catalog_calls + many.check_calls
    assert many.catalog_calls == 1  # catalog already synced by the first run: its batched re-read only
    attempts = (
        session()
        .scalars(
            select(SyncTransition.event).where(SyncTransition.run_id == many.run_id, SyncTransition.event == "attempt")
        )
        .all()
    )
    assert len(attempts) == total


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "429", "rate": 0.3, "retry_after": 0.2},
        {"kind": "500", "rate": 0.3},
        {"kind": "drop", "rate": 0.3},
        {"kind": "timeout", "rate": 0.2, "ms": 500},
    ],
    ids=["429", "timeout-500", "commit-then-drop", "read-timeout-then-applied"],
)
def test_a_fault_in_the_middle_of_a_batch_still_ends_with_each_reference_once(ctx, cw_live, fault):
    partner_id, _actor, customers, total = _setup(cw_live)
    cw_live.set_faults([{**fault, "methods": ["POST"], "path": "/(additions|adjustments)$"}], seed=3)
    # a read timeout shorter than the fault's delay; a backoff longer than it, so the look-up sees the record
    client = cw_live.client(
        timeouts=Timeouts(connect=2, read=0.3, write=2, pool=2),
        retry=RetryPolicy(max_attempts=3, max_elapsed=10, backoff_base=1.0, backoff_max=1.0),
    )
    result = PushBillingCommand(partner_id, concurrency=8, client=ConnectWisePsa(client)).run()
    assert result.status == "succeeded", result.error
    assert _states(partner_id) == {"pushed": total}
    _settled_check(cw_live, partner_id, customers)
    faulted = [r for r in cw_live.requests() if r["fault"] == fault["kind"]]
    assert faulted, "the fault fired"
    if fault["kind"] in ("drop", "timeout"):  # outcome unknown: looked up before any create
        assert result.lookups >= 1
        assert result.psa_calls == result.catalog_calls + result.check_calls + result.writes + result.lookups


def test_a_run_stopper_mid_batch_leaves_no_row_in_sending(ctx, cw_live):
    partner_id, _actor, customers, total = _setup(cw_live)
    seen = []

    def refuse_keys_after_the_first_batch(item_id):
        seen.append(item_id)
        if len(seen) == 8:
            cw_live.set_faults([{**AUTH_REFUSED, "rate": 0.5}], seed=5)

    result = PushBillingCommand(partner_id, concurrency=8, after_item=refuse_keys_after_the_first_batch).run()
    assert result.status == "failed" and "UserNotAuthenticated" in result.error
    states = _states(partner_id)
    assert "sending" not in states and set(states) <= {"pushed", "pending"}
    assert 8 <= states["pushed"] < total
    _exactly_once_for_pushed(cw_live, partner_id)
    refused = [r for r in cw_live.requests() if r["status"] == 401]
    assert refused, "the keys were refused in the second batch"
    back = session().scalars(select(SyncTransition).where(SyncTransition.event == "transient_error")).all()
    assert back and all(t.from_state == "sending" and t.to_state == "pending" for t in back)

    cw_live.clear_faults()
    again = PushBillingCommand(partner_id, concurrency=8).run()
    assert again.status == "succeeded" and again.lookups == 0  # nothing was uncertain: no look-up needed
    assert _states(partner_id) == {"pushed": total}
    _settled_check(cw_live, partner_id, customers)


def test_an_uncertain_row_stays_sending_when_the_run_stops_and_recovery_adopts_it(ctx, cw_live):
    partner_id, _actor, customers, total = _setup(cw_live, total=16)
    PushBillingCommand(partner_id, concurrency=8).run()  # the catalog synced once, so the faults hit records only
    _forget_pushes(cw_live, partner_id)
    # one POST lands but its answer is lost; its look-up (and every other call) is then refused
    cw_live.set_faults(
        [
            {"kind": "drop", "methods": ["POST"], "count": 1},
            {
                "kind": "status",
                "status": 401,
                "methods": ["GET"],
                "path": "/(additions|adjustments)$",
                "body": AUTH_REFUSED["body"],
            },
        ]
    )
    first = PushBillingCommand(partner_id, concurrency=8).run()
    assert first.status == "failed"
    sending = [r for r in items(partner_id) if r.state == "sending"]
    assert len(sending) == 1, _states(partner_id)
    assert set(_states(partner_id)) <= {"pushed", "pending", "sending"}
    _exactly_once_for_pushed(cw_live, partner_id, frozenset({sending[0].transaction_id}))  # landed, answer lost

    cw_live.clear_faults()
    second = PushBillingCommand(partner_id, concurrency=8).run()
    assert second.status == "succeeded" and second.counts["recovered"] == 1 and second.lookups == 1
    assert _states(partner_id) == {"pushed": len(expected_transactions(customers))}
    _settled_check(cw_live, partner_id, customers)
    assert next(r for r in items(partner_id) if r.id == sending[0].id).state == "pushed"


def test_deactivation_during_a_batch_stops_the_run_at_the_next_batch(ctx, cw_live):
    partner_id, _actor, _customers, total = _setup(cw_live, total=20)
    seen = []

    def deactivate(item_id):
        seen.append(item_id)
        if len(seen) == 2:  # while the first batch of 4 is being settled
            IntegrationDAO.update(IntegrationDAO.for_partner(partner_id), status="deactivated")
            session().commit()

    result = PushBillingCommand(partner_id, concurrency=4, after_item=deactivate).run()
    assert result.status == "stopped" and result.counts["pushed"] == 4
    assert _states(partner_id) == {"pushed": 4, "pending": total - 4}
    _exactly_once_for_pushed(cw_live, partner_id)
    run = session().get(SyncRun, result.run_id)
    assert run.status == "stopped" and run.writes == 4


def test_an_unexpected_answer_in_a_batch_keeps_the_others_outcomes_and_recovery_settles_that_row(ctx, cw_live):
    partner_id, _actor, customers, total = _setup(cw_live, total=16)
    PushBillingCommand(partner_id, concurrency=8).run()  # the catalog synced once, so the fault hits a record
    _forget_pushes(cw_live, partner_id)
    cw_live.set_faults(
        [
            {
                "kind": "status",
                "status": 201,
                "body": {"unexpected": True},
                "methods": ["POST"],
                "path": "/(additions|adjustments)$",
                "count": 1,
            }
        ]
    )  # not created; no id in the answer
    with pytest.raises(KeyError):
        PushBillingCommand(partner_id, concurrency=8).run()
    states = _states(partner_id)
    assert states == {"pushed": 7, "sending": 1, "pending": total - 8}, states
    assert session().scalars(select(SyncRun.status).order_by(SyncRun.id.desc())).first() == "failed"
    _exactly_once_for_pushed(cw_live, partner_id)
    recovery = PushBillingCommand(partner_id, concurrency=8).run()
    assert recovery.status == "succeeded" and recovery.counts["recovered"] == 1 and recovery.lookups == 1
    _settled_check(cw_live, partner_id, customers)
