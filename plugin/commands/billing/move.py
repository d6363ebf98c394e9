"""The push's third phase: pushed rows a person chose to move to a subscription's new agreement.

``moving`` rows (and ``removing`` ones a dead run left): marked ``removing`` and committed before any call; our
record on the old agreement read first (by id, else by reference) and deleted only when it carries our reference
(a record already gone counts as removed); then ``pending`` for the new agreement, where the pending phase creates
it (exactly once). A refused delete fails the row, the record staying on the old agreement with its id; a role
that may create but not delete records fails that row, not every run.
"""

from __future__ import annotations

from msphub_psa import clock
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.delivery import Conflict, Delivery
from msphub_psa.commands.billing.rows import Outcome, Removal
from msphub_psa.commands.billing.run import PsaUnavailable, PushRun
from msphub_psa.daos.outbox import OutboxDAO
from msphub_psa.domain import billing
from msphub_psa.domain.billing import OutboxEvent as Ev
from msphub_psa.domain.billing import OutboxState
from msphub_psa.psa import errors as psa

PENDING, PUSHED, FAILED = OutboxState.PENDING.value, OutboxState.PUSHED.value, OutboxState.FAILED.value
MOVING, REMOVING = OutboxState.MOVING.value, OutboxState.REMOVING.value


class NotOurs(Exception):
    """The record at our PSA id no longer carries our reference: it is never deleted."""

    code = "ReferenceMissing"


class MovePushedRows:
    """Moves one partner's chosen pushed rows, for one run."""

    def __init__(self, run: PushRun, delivery: Delivery):
        self.run, self.delivery = run, delivery

    def __call__(self) -> None:
        """Every ``removing`` row, then every ``moving`` one."""
        for item_id in _ids(self.run.partner_id, REMOVING) + _ids(self.run.partner_id, MOVING):
            self.run.guard()
            self.run.heartbeat()
            removal = self._begin(item_id)
            if removal is not None:
                self._end(removal, self._remove(removal))

    @transaction
    def _begin(self, item_id: int) -> Removal | None:
        """Mark a ``moving`` row ``removing`` (committed before the calls); cancel a move no longer wanted.

        Wanted = the transaction is still eligible and its mapping's agreement is another one than the record's.
        """
        item = OutboxDAO.get(item_id, lock=True)
        if item is None or item.state not in (MOVING, REMOVING):
            return None
        target = OutboxDAO.eligible(self.run.partner_id, [item.transaction_id]).get(item.transaction_id)
        target_id = target.agreement_remote_id if target is not None else None
        wanted = target_id is not None and target_id != item.agreement_remote_id
        if item.state == REMOVING:
            self.run.result.counts["recovered"] += 1
        elif not wanted:
            self.run.transition(
                item,
                Ev.MOVE_CANCELLED,
                f"move cancelled: {'no longer eligible' if target is None else 'mapped to this agreement again'}"
                f"; stays on agreement {item.agreement_remote_id}",
            )
            self.run.result.counts["move_cancelled"] += 1
            self.run.touched_customers.add(item.customer_id)
            return None
        else:
            self.run.transition(
                item,
                Ev.REMOVE_ATTEMPT,
                f"removing {item.record_kind} {item.remote_record_id} from agreement {item.agreement_remote_id}",
                sending_since=clock.now(),
                run_id=self.run.run_id,
            )
        return Removal(
            item.id,
            item.transaction_id,
            item.record_kind,
            item.agreement_remote_id,
            item.remote_record_id,
            item.reference,
            target_id,
            wanted,
        )

    def _remove(self, removal: Removal) -> Outcome:
        """Read ours on the old agreement and delete it: PENDING once gone, PUSHED when kept (move no longer
        wanted), FAILED when the PSA refuses or the record no longer carries our reference.

        :raises PsaUnavailable: transient errors outlasted the client's retries (the row stays ``removing``: the
            next run reads first again).
        """
        try:
            record_id = self._find_ours(removal)
            if record_id is None:
                return Outcome(PENDING)
            if not removal.wanted:
                return Outcome(PUSHED, remote_id=record_id)
            self.run.result.writes += 1
            self.run.psa.remove(removal.agreement, removal.kind, record_id)
            return Outcome(PENDING, remote_id=record_id)
        except (Conflict, NotOurs) as err:
            return Outcome(FAILED, code=err.code, message=str(err))
        except psa.NotFound:
            return Outcome(PENDING)  # gone meanwhile: a repeated delete whose first try landed, or a deleted agreement
        except psa.Forbidden as err:
            return Outcome(
                FAILED,
                code=err.code or "Forbidden",
                message=(
                    f"{err.message} — the API user's security role may not read or delete agreement records; grant it "
                    "in the PSA, then Retry failed."
                ),
            )
        except psa.Transient as err:
            raise PsaUnavailable(
                f"The PSA kept failing while removing {removal.reference}: {err}; the next run reads it first."
            ) from err
        except psa.Permanent as err:
            return Outcome(FAILED, code=err.code or type(err).__name__, message=err.message)

    def _find_ours(self, removal: Removal) -> int | None:
        """Our record's id on the old agreement: read by id (one call), by reference when that id is gone; None:
        gone.

        :raises NotOurs: the record at our id no longer carries our reference (never deleted).
        :raises Conflict: several records carry our reference (none is deleted).
        """
        if removal.record_id is not None:
            self.run.result.lookups += 1
            try:
                found = self.run.psa.get_record(removal.agreement, removal.kind, removal.record_id)
            except psa.NotFound:
                found = None
            if found is not None:
                if billing.parse_reference(found.reference_text) != removal.transaction_id:
                    raise NotOurs(
                        f"PSA record {found.id} on agreement {removal.agreement} no longer carries "
                        f"{removal.reference} ({found.reference_text!r}), so it was not removed. Remove it "
                        "in the PSA or put the reference back, then Retry failed."
                    )
                return found.id
        record = self.delivery.lookup(removal)
        return record.id if record is not None else None

    @transaction
    def _end(self, removal: Removal, outcome: Outcome) -> None:
        """Record the removal's outcome (committed right after the calls)."""
        item = OutboxDAO.get(removal.item_id, lock=True)
        old = removal.agreement
        if outcome.state == PENDING:
            target = removal.target or item.agreement_remote_id
            done = f"ours ({outcome.remote_id}) removed" if outcome.remote_id else "ours already gone"
            self.run.transition(
                item,
                Ev.REMOVED,
                f"{done} from agreement {old}; to push to agreement {target}",
                agreement_remote_id=target,
                remote_record_id=None,
                pushed_at=None,
                sending_since=None,
                reason=None,
                last_error_code=None,
                last_error_message=None,
            )
            self.run.result.counts["removed"] += 1
        elif outcome.state == PUSHED:
            self.run.transition(
                item,
                Ev.MOVE_CANCELLED,
                f"move no longer wanted; ours ({outcome.remote_id}) stays on agreement {old}",
                remote_record_id=outcome.remote_id,
                sending_since=None,
            )
            self.run.result.counts["move_cancelled"] += 1
            self.run.touched_customers.add(item.customer_id)
        else:
            self.run.transition(
                item,
                Ev.REMOVE_REFUSED,
                f"{outcome.code}: {outcome.message}",
                sending_since=None,
                last_error_code=(outcome.code or "")[:100],
                last_error_message=outcome.message,
            )
            self.run.result.counts[FAILED] += 1


@transaction
def _ids(partner_id: int, state: str) -> list[int]:
    """Row ids in one state (own short transaction)."""
    return OutboxDAO.item_ids(partner_id, state)
