"""Prepared previews: push a chosen subset, approve only what is still eligible, discard, expire; the approval
setting's default flips after the first successful push; Sync now with approval prepares and waits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing.preview import (
    ApprovePreviewCommand,
    DiscardPreviewCommand,
    PreparePreviewCommand,
    PreviewDetailCommand,
)
from msphub_psa.commands.billing.settings import UpdateSyncSettingsCommand, approval_required
from msphub_psa.commands.billing.status import RunPushCommand, SyncStatusCommand
from msphub_psa.commands.exceptions import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaAgreement
from msphub_psa.models.sync import SyncRun
from msphub_psa.models.tenancy import AuditEvent
from tests.support.control import end_customer_mapping, preview_row, run_queued
from tests.support.push import by_reference, cw_records, expected_transactions, items, push_setup
from tests.support.reconciliation import viewer

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)


def _groups(actor, partner_id, preview_id) -> list[dict]:
    return PreviewDetailCommand(actor, preview_id, partner_id, page_size=200, lines=0).run()["groups"]["result"]


def _in_sandbox(cw_live, agreement_cw_ids) -> set[int]:
    additions, adjustments = cw_records(cw_live, agreement_cw_ids)
    return set(by_reference(additions, "serialNumber")) | set(by_reference(adjustments, "description"))


def test_subset_push_pushes_exactly_the_chosen_groups_and_the_rest_stays_pending(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=3)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    groups = _groups(actor, partner_id, preview_id)
    assert len(groups) >= 3 and all(g["selected"] for g in groups)
    chosen = groups[1]
    all_agreements = {g["agreement_remote_id"] for g in groups}

    result = ApprovePreviewCommand(actor, preview_id, partner_id, [chosen["agreement_id"]]).run_inline()

    chosen_txs = {t.id for t in expected_transactions([chosen["customer_id"]])}
    assert result["status"] == "succeeded" and result["counts"] == {"pushed": len(chosen_txs)}
    assert result["transactions"] == len(chosen_txs) == chosen["transactions"]
    assert _in_sandbox(cw_live, all_agreements) == chosen_txs  # nothing of the other groups reached ConnectWise
    states = {r.transaction_id: r.state for r in items(partner_id)}
    assert {t for t, s in states.items() if s == "pushed"} == chosen_txs
    assert {s for t, s in states.items() if t not in chosen_txs} == {"pending"}  # the others wait, untouched
    stored = preview_row(preview_id)
    assert (stored.status, stored.approved_by, stored.selection) == (
        "approved",
        "pilot.admin",
        {"agreement_ids": [chosen["agreement_id"]]},
    )
    assert stored.run_id == result["run_id"] and stored.note is None
    detail = _groups(actor, partner_id, preview_id)
    assert [g["selected"] for g in detail] == [g["agreement_id"] == chosen["agreement_id"] for g in detail]
    actions = session().scalars(select(AuditEvent.action).where(AuditEvent.partner_id == partner_id)).all()
    assert {"sync.preview", "sync.preview.approve"} <= set(actions)


def test_approve_pushes_only_what_is_still_eligible_and_the_run_says_so(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=2)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    gone = {t.id for t in expected_transactions([customers[0]])}
    end_customer_mapping(customers[0])  # disassociated after the preview was prepared

    result = ApprovePreviewCommand(actor, preview_id, partner_id).run_inline()

    kept = {t.id for t in expected_transactions([customers[1]])}
    assert result["counts"]["pushed"] == len(kept) and result["counts"]["ineligible"] == len(gone)
    assert {r.transaction_id for r in items(partner_id) if r.state == "pushed"} == kept
    run = session().get(SyncRun, result["run_id"])
    assert run.counts["ineligible"] == len(gone)
    assert preview_row(preview_id).note.startswith(f"{len(gone)} of the {len(gone) + len(kept)} approved")


def test_discard_expire_and_decided_previews_refuse_a_second_decision(ctx, cw_live):
    partner_id, actor, _customers = push_setup(cw_live, customers=1)
    first = PreparePreviewCommand(actor, partner_id).run()
    second = PreparePreviewCommand(actor, partner_id).run()  # a newer preview expires the awaiting one
    assert preview_row(first).status == "expired" and preview_row(second).status == "awaiting_approval"
    with pytest.raises(ConflictError):
        ApprovePreviewCommand(actor, first, partner_id).run()
    assert DiscardPreviewCommand(actor, second, partner_id).run() == {"id": second, "status": "discarded"}
    for command in (ApprovePreviewCommand(actor, second, partner_id), DiscardPreviewCommand(actor, second, partner_id)):
        with pytest.raises(ConflictError):
            command.run()
    assert items(partner_id) == [] and cw_live.state("additions", parent=None) == []
    with pytest.raises(NotFoundError):
        ApprovePreviewCommand(actor, 987654, partner_id).run()


def test_approve_refuses_bad_choices_and_the_viewer(ctx, cw_live):
    partner_id, actor, _customers = push_setup(cw_live, customers=1)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    in_preview = {g["agreement_id"] for g in _groups(actor, partner_id, preview_id)}
    outside = session().scalar(
        select(PsaAgreement.id).where(PsaAgreement.partner_id == partner_id, PsaAgreement.id.not_in(in_preview))
    )
    with pytest.raises(InvalidInputError):
        ApprovePreviewCommand(actor, preview_id, partner_id, []).run()
    with pytest.raises(InvalidInputError):
        ApprovePreviewCommand(actor, preview_id, partner_id, [outside]).run()
    with pytest.raises(NotFoundError):
        ApprovePreviewCommand(actor, preview_id, partner_id, [987654]).run()
    with pytest.raises(ForbiddenError):
        ApprovePreviewCommand(viewer(), preview_id, partner_id).run()
    with pytest.raises(ForbiddenError):
        PreparePreviewCommand(viewer(), partner_id).run()
    assert preview_row(preview_id).status == "awaiting_approval" and items(partner_id) == []


def test_approval_is_required_until_the_first_push_succeeded_then_sync_now_pushes(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    assert approval_required(partner_id)
    answer = RunPushCommand(actor, partner_id).run()  # Sync now: prepares a preview and waits
    awaiting = answer["awaiting_approval"]
    assert answer["job_id"] is None and answer["created"] and awaiting["transactions"] > 0
    assert SyncStatusCommand(actor, partner_id).run().as_dict()["awaiting_approval"] == awaiting
    assert items(partner_id) == []  # nothing pushed, nothing even queued in the outbox
    approved = ApprovePreviewCommand(actor, awaiting["id"], partner_id).run()  # the REST path: a queued job
    assert approved["transactions"] == awaiting["transactions"]
    assert preview_row(awaiting["id"]).job_id == approved["job_id"]
    outcome = run_queued(approved["job_id"])
    assert outcome["status"] == "succeeded" and preview_row(awaiting["id"]).run_id == outcome["run_id"]
    status = SyncStatusCommand(actor, partner_id).run().as_dict()
    assert status["awaiting_approval"] is None and status["approval_required"] is False  # the default flipped

    queued = RunPushCommand(actor, partner_id).run()  # now Sync now pushes
    assert queued["job_id"] and "awaiting_approval" not in queued
    assert run_queued(queued["job_id"])["status"] == "succeeded"

    UpdateSyncSettingsCommand(actor, {"approval": "always"}, partner_id).run()
    assert approval_required(partner_id)
    assert RunPushCommand(actor, partner_id).run() == {"job_id": None, "created": False, "awaiting_approval": None}
