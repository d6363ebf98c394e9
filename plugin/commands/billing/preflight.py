"""Pre-flight checks of a push and of a preview: the rows the PSA would refuse, found before any call.

``Checker`` holds what the checks need beyond a row's own figures (the agreements as the PSA answers them now,
the catalog items of the products) and answers each row's first block (``domain.checks``). ``PreflightPhase`` is
the push's step between the catalog sync and the delivery: pending rows that fail a check become ``blocked`` (the
check's code and message recorded, and the transition), blocked rows whose cause is gone become ``pending`` again;
chunk by chunk, a few queries each. A blocked row is never claimed, so no call is ever made for it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from msphub_psa import clock
from msphub_psa.commands.access import partner_today
from msphub_psa.commands.base import transaction
from msphub_psa.commands.billing.run import CHUNK, PushRun
from msphub_psa.daos.base import session
from msphub_psa.daos.directory import PsaAgreementDAO, PsaCompanyDAO
from msphub_psa.daos.outbox import OutboxDAO, PushDataDAO
from msphub_psa.domain import checks
from msphub_psa.domain.billing import OutboxEvent as Ev
from msphub_psa.domain.billing import OutboxState
from msphub_psa.psa.port import PsaClient
from msphub_psa.psa.records import CHARGE, Agreement, Company

PENDING, BLOCKED = OutboxState.PENDING.value, OutboxState.BLOCKED.value


@dataclass(frozen=True)
class Candidate:
    """One row to check, as plain values."""

    transaction_id: int
    kind: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    period_start: date
    period_end: date
    agreement_remote_id: int | None = None
    product_pk: int | None = None


def candidate_of(tx, agreement_remote_id: int | None, product_pk: int | None) -> Candidate:
    """A candidate from a transaction (ORM row or preview row) and its target."""
    return Candidate(
        tx.id,
        tx.kind,
        Decimal(tx.quantity),
        Decimal(tx.unit_price),
        Decimal(tx.amount),
        tx.period_start,
        tx.period_end,
        agreement_remote_id,
        product_pk,
    )


@dataclass
class Checker:
    """Every check for rows of one partner (what the PSA answered is read once, before).

    ``agreements``: the target agreements as the PSA answered them (``read_agreements``); an agreement not in
    it (not read: the PSA could not be asked) is not checked.
    """

    today: date = field(default_factory=lambda: clock.today(None))
    agreements: dict[int, checks.AgreementFacts] = field(default_factory=dict)
    fits: dict[int, tuple[str | None, bool]] = field(default_factory=dict)  # tx -> (frequency, mismatch accepted)

    def first_block(self, row: Candidate) -> checks.Block | None:
        """The row's first block, or None when nothing stops it."""
        found = self.blocks(row)
        return found[0] if found else None

    def blocks(self, row: Candidate) -> list[checks.Block]:
        """Every block of the row, the row's own figures first."""
        found = []
        if row.kind == CHARGE:
            found += checks.charge_blocks(row.quantity, row.unit_price, row.amount, row.period_start, row.period_end)
        facts = self.agreements.get(row.agreement_remote_id) if row.agreement_remote_id is not None else None
        if facts is not None:
            found += checks.agreement_blocks(facts, self.today)
        fit = self.fits.get(row.transaction_id)
        cycle = checks.cycle_block(facts, *fit) if facts is not None and fit is not None else None
        return found + ([cycle] if cycle else [])


# -- what the PSA answers now ----------------------------------------------------------------------------------


def read_agreements(partner_id: int, client: PsaClient, remote_ids: list[int]) -> dict[int, checks.AgreementFacts]:
    """The agreements as the PSA has them now, with their companies: two batched reads (``id in (...)``, never
    one call per agreement); the directory cache is updated with what was read."""
    if not remote_ids:
        return {}
    agreements = client.get_agreements(remote_ids)
    companies = client.get_companies(sorted({a.company_id for a in agreements.values() if a.company_id}))
    _update_cache(
        partner_id, list(agreements.values()), list(companies.values()), sorted(set(remote_ids) - set(agreements))
    )
    return {i: facts_of(i, agreements.get(i), companies) for i in remote_ids}


def facts_of(remote_id: int, agreement: Agreement | None, companies: dict[int, Company]) -> checks.AgreementFacts:
    """What the checks read of an agreement and its company (``found`` False when the PSA has none)."""
    if agreement is None:
        return checks.AgreementFacts(remote_id, found=False)
    company = companies.get(agreement.company_id) if agreement.company_id else None
    return checks.AgreementFacts(
        remote_id,
        agreement.name,
        cancelled=agreement.cancelled,
        status=agreement.status,
        end_date=agreement.end_date,
        no_ending_date=agreement.no_ending_date,
        billing_cycle=agreement.billing_cycle,
        company_deleted=bool(company and company.deleted),
        company_status=company.status if company else None,
    )


def facts_json(facts: dict[int, checks.AgreementFacts]) -> dict[str, dict]:
    """Agreement facts as JSON (a prepared preview keeps them: its detail makes no PSA call)."""
    return {
        str(i): {**dataclasses.asdict(f), "end_date": f.end_date.isoformat() if f.end_date else None}
        for i, f in facts.items()
    }


def facts_from_json(data: dict | None) -> dict[int, checks.AgreementFacts]:
    """Back from ``facts_json``."""
    result = {}
    for key, value in (data or {}).items():
        end = value.get("end_date")
        result[int(key)] = checks.AgreementFacts(**{**value, "end_date": date.fromisoformat(end) if end else None})
    return result


@transaction
def _update_cache(partner_id: int, agreements: list, companies: list, missing: list[int]) -> None:
    """The directory cache brought up to date with what was read (own short transaction)."""
    PsaCompanyDAO.upsert(partner_id, companies)
    PsaAgreementDAO.upsert(partner_id, agreements)
    PsaAgreementDAO.mark_deleted(partner_id, missing)
    PsaAgreementDAO.link_companies(partner_id)


def block_json(found: checks.Block | None) -> dict | None:
    """A block as JSON (None for none)."""
    if found is None:
        return None
    return {"code": found.code, "cause": found.cause, "message": found.message, "fix": found.fix}


class PreflightPhase:
    """The push's pre-flight step: block what would be refused, release what no longer would."""

    def __init__(self, run: PushRun, checker: Checker | None = None):
        self.run = run
        self.checker = checker or Checker()
        self.blocked: Counter[str] = Counter()

    def __call__(self) -> Counter[str]:
        """Check every pending and blocked row, chunk by chunk; the blocked rows' codes."""
        self.checker.today = _today(self.run.partner_id)
        remote_ids = _targets(self.run.partner_id)
        before = self.run.psa.call_count
        self.checker.agreements = read_agreements(self.run.partner_id, self.run.psa, remote_ids)
        self.run.result.check_calls += self.run.psa.call_count - before
        after = 0
        while (checked := self._chunk(after)) is not None:
            after, count = checked
            if count == CHUNK:  # more may follow: a sliced run may yield to a fresh job between chunks
                self.run.check_steps("pre-flight checks", progress=False)
        if self.blocked:
            self.run.result.counts["blocked"] += sum(self.blocked.values())
        return self.blocked

    @transaction
    def _chunk(self, after: int) -> tuple[int, int] | None:
        """One chunk of rows checked (one query, plain values); only the rows that change are loaded and moved;
        (the last row id, how many), or None at the end."""
        rows = OutboxDAO.check_page(self.run.partner_id, (PENDING, BLOCKED), after, CHUNK)
        if not rows:
            return None
        self.checker.fits = {r.id: (r.billing_frequency, bool(r.mismatch_accepted)) for r in rows if r.mapped}
        changes = {}
        for r in rows:
            found = self.checker.first_block(candidate_of(r, r.agreement_remote_id, r.product_id))
            if found is not None:
                self.blocked[found.code] += 1
            if _changes(r.state, r.last_error_code, found):
                changes[r.item_id] = found
        for item in OutboxDAO.get_many(sorted(changes)):
            self._apply(item, changes[item.id])
        session().flush()
        return rows[-1].item_id, len(rows)

    def _apply(self, item, found: checks.Block | None) -> None:
        """Block, release, or update the row's block (``_changes`` said it must)."""
        if found is not None and item.state == PENDING:
            detail = f"{found.code}: {found.message}"
            values = {"reason": "blocked", "last_error_code": found.code, "last_error_message": found.message}
            self.run.transition(item, Ev.BLOCK, detail, flush=False, **values)
        elif found is not None:
            item.last_error_code, item.last_error_message = found.code, found.message
        else:
            values = {"reason": None, "last_error_code": None, "last_error_message": None}
            self.run.transition(item, Ev.UNBLOCK, "the pre-flight checks pass", flush=False, **values)


def _changes(state: str, code: str | None, found: checks.Block | None) -> bool:
    """True when a row (its state and block code) must change for what the checks found: a pending row blocked, a
    blocked one's code changed, a blocked one released (not a catalog block: the catalog step releases those)."""
    if found is None:
        return state == BLOCKED and code not in checks.CATALOG_CODES
    return state == PENDING or code != found.code


@transaction
def _today(partner_id: int) -> date:
    """Today in the partner's timezone (own short transaction)."""
    return partner_today(partner_id)


@transaction
def _targets(partner_id: int) -> list[int]:
    """The agreements the push would write to: those of the pending rows and of the blocked ones that may go once
    the agreement allows it (a row blocked by its own figures stays blocked; own short transaction)."""
    return OutboxDAO.agreement_ids(partner_id, checks.RECORD_CODES)


@transaction
def release_catalog_blocks(run: PushRun, catalog: dict[int, int | None], blocks: dict) -> None:
    """Rows blocked by a catalog check whose product's item is fine now go back to ``pending`` (the catalog step
    has just looked at every such product); the others keep their block, its message brought up to date."""
    items = OutboxDAO.blocked_with(run.partner_id, checks.CATALOG_CODES)
    products = {
        tx_id: product.id
        for tx_id, (_tx, product) in PushDataDAO.transactions([i.transaction_id for i in items]).items()
    }
    for item in items:
        product_id = products.get(item.transaction_id)
        found = blocks.get(product_id)
        if found is not None:
            item.last_error_code, item.last_error_message = found.code, found.message
        elif catalog.get(product_id) is not None:
            values = {"reason": None, "last_error_code": None, "last_error_message": None}
            run.transition(item, Ev.UNBLOCK, "the catalog item is ours and active", flush=False, **values)
    session().flush()
