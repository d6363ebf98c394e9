"""The scheduled run reads the PSA back before it pushes: its alert e-mail carries the open findings; a push that
wrote to the PSA is followed by a read-back job on the sync queue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from msphub_psa import tasks
from msphub_psa.commands.billing.status import RetryFailedCommand
from msphub_psa.daos.base import session
from msphub_psa.jobqueue import SYNC, SYNC_LATER, get_queue
from msphub_psa.models.hub import BillingTransaction
from tests.support import alerts
from tests.support.assurance import first, pushed_ledger
from tests.support.settings import configure

pytestmark = pytest.mark.usefixtures("empty_sync_queues")
REFUSE_ONE = {
    "kind": "status",
    "status": 400,
    "methods": ["POST"],
    "path": "/additions$",
    "count": 1,
    "body": {"code": "InvalidObject", "message": "The agreement does not allow this product."},
}


def test_scheduled_run_alert_carries_the_findings_and_a_read_back_follows(app, cw_live):
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record")
    alerts.SENT.clear()
    with app.app_context():
        partner_id, actor, rows = pushed_ledger(cw_live)
        row = first(rows)
        agreement, record = row.agreement_remote_id, row.remote_record_id
        last = session().get(BillingTransaction, row.transaction_id)
        session().add(
            BillingTransaction(
                partner_id=partner_id,
                customer_id=last.customer_id,
                subscription_id=last.subscription_id,
                kind="charge",
                period_start=last.period_start,
                period_end=last.period_end,
                quantity=Decimal(1),
                unit_price=Decimal(10),
                unit_cost=Decimal(8),
                amount=Decimal(10),
                currency="USD",
            )
        )
        session().commit()
    cw_live.client().delete_addition(agreement, record)
    cw_live.set_faults([REFUSE_ONE])
    with app.app_context():
        result = tasks.scheduled_sync(partner_id, "2026-12-07T06:00:00+00:00")
    cw_live.clear_faults()
    assert result["status"] == "partial", result
    [email] = alerts.SENT
    assert email.drift["records"] == 1 and email.drift["by_code"]["missing"]["records"] == 1
    assert "Revenue assurance: 1 record(s)" in email.body and "#assurance" in email.body

    with app.app_context():
        RetryFailedCommand(actor, partner_id).run()
        result = tasks.push_billing(partner_id, "pilot.admin")  # the refused one goes now: a read-back follows
        assert result["counts"] == {"pushed": 1}
        queued = {kind: [job.func_name for job in get_queue(kind).jobs] for kind in (SYNC, SYNC_LATER)}
    assert queued == {SYNC: [], SYNC_LATER: ["msphub_psa.tasks.assurance_readback"]}  # behind every fresh push


def test_a_scheduled_run_without_alert_mails_new_findings_once(app, cw_live):
    configure(app, PSA_ALERT_EMAIL_HOOK="tests.support.alerts:record")
    alerts.SENT.clear()
    with app.app_context():
        partner_id, _actor, rows = pushed_ledger(cw_live)
        row = first(rows)
    cw_live.client().delete_addition(row.agreement_remote_id, row.remote_record_id)
    with app.app_context():
        result = tasks.scheduled_sync(partner_id, "2026-12-07T06:00:00+00:00")
    assert result["status"] not in ("failed", "partial", "stopped", "abandoned"), result
    [email] = alerts.SENT
    assert email.status == "drift" and "1 new finding(s)" in email.subject
    assert email.drift["by_code"]["missing"]["records"] == 1 and "#assurance" in email.body
    assert not any(secret in repr(email.as_dict()) for secret in ("private", "Sandbox"))

    with app.app_context():
        tasks.scheduled_sync(partner_id, "2026-12-08T06:00:00+00:00")  # the same finding: not new, no e-mail
    assert alerts.SENT == [email]
