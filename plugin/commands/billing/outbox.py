"""The push's second phase: the outbox brought up to date with eligibility (docs/billing.md).

New eligible transactions become ``pending`` rows; pending rows no longer eligible become ``skipped``, skipped ones
eligible again ``pending``; pending rows follow a re-mapped subscription to its new agreement. In chunks of
``CHUNK`` rows, one short transaction and a few queries each (never a query per row), each renewing the lease.
"""

from __future__ import annotations

from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.run import CHUNK, PushRun
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import OutboxDAO
from msphub_psa.domain import billing
from msphub_psa.domain.billing import OutboxEvent as Ev
from msphub_psa.domain.billing import OutboxState

PENDING, SKIPPED = OutboxState.PENDING.value, OutboxState.SKIPPED.value
BLOCKED = OutboxState.BLOCKED.value


class OutboxRefresh:
    """Brings one partner's outbox up to date, for one run."""

    def __init__(self, run: PushRun):
        self.run = run

    def __call__(self) -> None:
        """Add the new rows, then follow eligibility, chunk by chunk. Between two full chunks (each committed) a
        sliced run may yield (``PushRun.check_steps``): a large partner's first push spends minutes here on a
        loaded machine, and each continuation follows all its pending rows again."""
        after = 0
        while (added := self._add_new_rows(after)) is not None:
            after, count = added
            self.run.known_rows += count
            if count == CHUNK:  # more may follow
                self.run.check_steps("new outbox rows", progress=True)
        after = 0
        while (followed := self._follow_chunk(after)) is not None:
            after, count = followed
            if count == CHUNK:
                self.run.check_steps("eligibility", progress=False)

    @transaction
    def _add_new_rows(self, after: int) -> tuple[int, int] | None:
        """Pending rows (and their ``created`` transitions) for a chunk of new eligible transactions; (the last
        transaction id seen, how many), or None when there were none."""
        self.run.renew()  # the heartbeat: a long refresh keeps its lease
        new = OutboxDAO.eligible_new(self.run.partner_id, after, CHUNK)
        if not new:
            return None
        OutboxDAO.add_pending([new_row(self.run.partner_id, t, self.run.run_id) for t in new])
        OutboxDAO.record_created(OutboxDAO.created_rows([t.transaction_id for t in new]), self.run.run_id)
        return new[-1].transaction_id, len(new)

    @transaction
    def _follow_chunk(self, after: int) -> tuple[int, int] | None:
        """A chunk of pending/skipped rows against the current eligibility; (the last row id, how many), or None at
        the end."""
        self.run.renew()
        rows = OutboxDAO.follow_page(self.run.partner_id, (PENDING, BLOCKED, SKIPPED), after, CHUNK)
        if not rows:
            return None
        targets = OutboxDAO.targets(self.run.partner_id, [r.transaction_id for r in rows])
        moving = {r.id for r in rows if _follow_needed(r, targets.get(r.transaction_id))}
        for item in OutboxDAO.get_many(sorted(moving)):
            self._follow(item, targets.get(item.transaction_id))
        session().flush()
        return rows[-1].id, len(rows)

    def _follow(self, item, target) -> None:
        """One pending or skipped row against the current eligibility."""
        if target is None:
            if item.state in (PENDING, BLOCKED):
                self.run.transition(
                    item,
                    Ev.BECAME_INELIGIBLE,
                    "no longer eligible (unmapped or before the From Date)",
                    reason="not eligible",
                    flush=False,
                )
            return
        if item.state == SKIPPED:
            self.run.transition(
                item,
                Ev.BECAME_ELIGIBLE,
                f"eligible for agreement {target.agreement_remote_id}",
                reason=None,
                agreement_remote_id=target.agreement_remote_id,
                flush=False,
            )
        elif item.agreement_remote_id != target.agreement_remote_id:
            OutboxDAO.set_state(
                item,
                item.state,
                "retarget",
                by_run=self.run.run_id,
                detail=f"agreement {item.agreement_remote_id} → {target.agreement_remote_id}",
                agreement_remote_id=target.agreement_remote_id,
                flush=False,
            )


def new_row(partner_id: int, target, run_id: int | None) -> dict:
    """A new pending outbox row for an eligible transaction (its record: a charge or a credit, as it is)."""
    now = clock.now()
    return {
        "partner_id": partner_id,
        "transaction_id": target.transaction_id,
        "subscription_id": target.subscription_id,
        "customer_id": target.customer_id,
        "reference": billing.reference(target.transaction_id),
        "record_kind": target.kind,
        "state": PENDING,
        "agreement_remote_id": target.agreement_remote_id,
        "attempts": 0,
        "run_id": run_id,
        "created_at": now,
        "updated_at": now,
    }


def _follow_needed(row, target) -> bool:
    """True when a pending/skipped row (id, transaction, state, agreement) must move for ``target``."""
    if target is None:
        return row.state in (PENDING, BLOCKED)
    return row.state == SKIPPED or row.agreement_remote_id != target.agreement_remote_id
