"""Revenue assurance for people: start a read-back, list the findings and the drift, decide on a finding.

Every decision is a person's, recorded on the finding and audited; none is automatic. Re-create (a missing
record) puts its outbox row back to ``sending`` so the next push reads the agreement for our reference first and
creates the record only when none is there: exactly one record with the same reference. Accept (an edit) keeps
what we sent and what the PSA holds on the finding; the ledger's transaction is never changed. Ignore keeps a
reason. Nothing is written to a PSA record by any of them.
"""

from __future__ import annotations

from decimal import Decimal

from msphub_psa import clock
from msphub_psa.commands.base import BaseCommand, audit, transaction
from msphub_psa.commands.billing.assurance import ReadBackCommand, run_json
from msphub_psa.commands.billing.common import sync_scope
from msphub_psa.commands.exceptions import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from msphub_psa.daos.assurance import AssuranceDAO
from msphub_psa.daos.base import session
from msphub_psa.daos.outbox import PUSHED, OutboxDAO
from msphub_psa.domain import billing
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.assurance import RECORD_CODES, Code
from msphub_psa.jobqueue import QueueUnavailable, enqueue_push, enqueue_readback

ACTIONS = {"recreate": (Code.MISSING,), "accept": (Code.EDITED,), "ignore": tuple(Code)}
"""Each action and the kinds of finding it applies to."""
STATUS_OF = {"recreate": "recreating", "accept": "accepted", "ignore": "ignored"}
CODES = tuple(code.value for code in Code)
STATUSES = ("open", "recreating", "recreated", "accepted", "ignored", "cleared")


def finding_json(row) -> dict:
    """A finding: its kind, the record, what we sent, what the PSA holds, the money, the decision."""
    return {
        "id": row.id,
        "code": row.code,
        "status": row.status,
        "agreement_remote_id": row.agreement_remote_id,
        "transaction_id": row.transaction_id,
        "reference": f"{billing.REFERENCE_PREFIX}{row.transaction_id}" if row.transaction_id else None,
        "record_id": row.record_id,
        "sent": row.sent,
        "held": row.held,
        "amount": str(Decimal(row.amount).quantize(Decimal("0.01"))),
        "detail": row.detail,
        "first_seen_at": row.first_seen_at.isoformat() if row.first_seen_at else None,
        "last_seen_at": row.last_seen_at.isoformat() if row.last_seen_at else None,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "reason": row.reason,
        "actions": [a for a, codes in ACTIONS.items() if row.status == "open" and row.code in codes],
    }


def drift_json(partner_id: int) -> dict:
    """The drift figure: open record findings' count and money (invoiced periods apart), and every kind's."""
    by_code = AssuranceDAO.drift(partner_id)
    records = [by_code[c.value] for c in RECORD_CODES if c.value in by_code]
    count = sum(c for c, _ in records)
    amount = sum((a for _, a in records), Decimal(0))
    return {
        "records": count,
        "amount": str(amount.quantize(Decimal("0.01"))),
        "by_code": {
            code: {
                "records": by_code.get(code, (0, 0))[0],
                "amount": str(Decimal(by_code.get(code, (0, 0))[1]).quantize(Decimal("0.01"))),
            }
            for code in CODES
        },
    }


class RunAssuranceCommand(BaseCommand):
    """Start a read-back: the job on the sync queue, or in this process (``inline``)."""

    def __init__(self, actor: Actor, partner_id: int | None = None, inline: bool = False):
        self.actor, self.partner_id, self.inline = actor, partner_id, inline

    def validate(self) -> None:
        """Tenant, integration, write permission on the sync."""
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)

    def run(self) -> dict:
        """Enqueue (or run) the read-back; audited."""
        job = self._start()
        if not self.inline:
            return job
        return ReadBackCommand(self.partner_id, self.actor.username).run()

    @transaction
    def _start(self) -> dict:
        """Checks, the audit, and the job unless inline.

        :raises UnavailableError: the job queue does not answer.
        """
        self.validate()
        job_id, created = None, False
        if not self.inline:
            try:
                job, created = enqueue_readback(self.partner_id, self.actor.username)
                job_id = job.id
            except QueueUnavailable as exc:
                raise UnavailableError("The job queue does not answer; the read-back could not be started.") from exc
        audit(self.actor, "assurance.run", "partner", self.partner_id, partner_id=self.partner_id, inline=self.inline)
        return {"job_id": job_id, "created": created}


class FindingsCommand(BaseCommand):
    """The findings (filtered by kind and status, largest money first), the drift and the latest read-back."""

    def __init__(
        self,
        actor: Actor,
        partner_id: int | None = None,
        codes: list[str] | None = None,
        statuses: list[str] | None = None,
        page: int = 1,
        page_size: int = 50,
    ):
        self.actor, self.partner_id = actor, partner_id
        self.codes, self.statuses = codes or [], statuses if statuses is not None else ["open"]
        self.page, self.page_size = page, page_size

    def validate(self) -> None:
        """Tenant, integration, read permission; known kinds and statuses; a sane page."""
        self.partner_id = sync_scope(self.actor, self.partner_id)
        unknown = [c for c in self.codes if c not in CODES] + [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise InvalidInputError(f"Unknown kind or status: {', '.join(unknown)}.", {"filter": unknown})
        if self.page < 1 or not 1 <= self.page_size <= 500:
            raise InvalidInputError("page must be 1 or more and page_size between 1 and 500.", {})

    def run(self) -> dict:
        """Read the findings."""
        self.validate()
        rows, total = AssuranceDAO.page(self.partner_id, self.codes, self.statuses, self.page, self.page_size)
        latest = AssuranceDAO.latest_run(self.partner_id)
        result = {
            "partner_id": self.partner_id,
            "drift": drift_json(self.partner_id),
            "latest_run": run_json(latest) if latest else None,
            "findings": [finding_json(r) for r in rows],
            "total": total,
            "page": self.page,
            "page_size": self.page_size,
        }
        session().rollback()
        return result


class ResolveFindingCommand(BaseCommand):
    """A person's decision on an open finding: ``recreate``, ``accept`` or ``ignore`` (with a reason)."""

    def __init__(
        self, actor: Actor, finding_id: int, action: str, reason: str | None = None, partner_id: int | None = None
    ):
        self.actor, self.finding_id, self.action = actor, finding_id, action
        self.reason, self.partner_id = (reason or "").strip() or None, partner_id
        self.finding = None

    def validate(self) -> None:
        """Tenant, integration, write permission; the finding open and the action fitting its kind.

        :raises NotFoundError: not one of the partner's findings.
        :raises ConflictError: already decided, or its record no longer pushed.
        :raises InvalidInputError: an unknown action, one that does not fit, or ignore without a reason.
        """
        self.partner_id = sync_scope(self.actor, self.partner_id, write=True)
        if self.action not in ACTIONS:
            raise InvalidInputError(f"Unknown action {self.action!r}.", {"action": list(ACTIONS)})
        self.finding = AssuranceDAO.get(self.partner_id, self.finding_id, lock=True)
        if self.finding is None:
            raise NotFoundError(f"Finding {self.finding_id} not found.")
        if self.finding.status != "open":
            raise ConflictError(f"Finding {self.finding_id} is already {self.finding.status}.")
        if self.finding.code not in ACTIONS[self.action]:
            raise InvalidInputError(f"A {self.finding.code} finding cannot be resolved by {self.action}.", {})
        if self.action == "ignore" and not self.reason:
            raise InvalidInputError("Say why the finding is ignored.", {"reason": ["Required."]})

    def run(self) -> dict:
        """Record the decision (audited); a re-create then enqueues a push."""
        result = self._decide()
        if self.action == "recreate":
            try:
                enqueue_push(self.partner_id, self.actor.username)
            except QueueUnavailable:
                result["note"] = "The job queue does not answer: the next push re-creates the record."
        return result

    @transaction
    def _decide(self) -> dict:
        self.validate()
        finding = self.finding
        if self.action == "recreate":
            self._recreate(finding)
        finding.status, finding.reason = STATUS_OF[self.action], self.reason
        finding.resolved_by, finding.resolved_at = self.actor.username, clock.now()
        audit(
            self.actor,
            f"assurance.{self.action}",
            "assurance_finding",
            finding.id,
            partner_id=self.partner_id,
            code=finding.code,
            transaction_id=finding.transaction_id,
            record_id=finding.record_id,
            amount=str(finding.amount),
            sent=finding.sent,
            held=finding.held,
            reason=self.reason,
        )
        session().flush()
        return finding_json(finding)

    def _recreate(self, finding) -> None:
        """The missing record's outbox row back to ``sending``: the push looks it up by reference, then creates.

        :raises ConflictError: the row is no longer pushed (a push or a move is on it).
        """
        item = OutboxDAO.get(finding.item_id, lock=True) if finding.item_id else None
        if item is None or item.partner_id != self.partner_id or item.state != PUSHED:
            raise ConflictError("Its sync row is no longer pushed; run the read-back again.")
        event = billing.OutboxEvent.RECREATE
        OutboxDAO.set_state(
            item,
            billing.transition(item.state, event).value,
            event.value,
            by_run=None,
            actor=self.actor.username,
            detail=f"re-create: PSA record {item.remote_record_id} was deleted in the PSA",
            remote_record_id=None,
            sending_since=clock.now(),
        )
