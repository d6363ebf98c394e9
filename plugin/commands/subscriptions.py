"""Products / Subscriptions tab: list, auto-association, Associate and Change (docs/billing.md).

A subscription is mapped to one cached ConnectWise agreement of its customer's company,
from a From Date. Mappings are never edited: a change ends the active row and creates a
new one pointing at it (``previous_mapping_id``), so who/when/previous agreement and date
are kept. Auto-association only ever creates a mapping for an unmapped subscription.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from msphub_psa import clock
from msphub_psa.commands.access import partner_today
from msphub_psa.commands.access import reconciliation_scope as scope
from msphub_psa.commands.base import BaseCommand, audit, audit_many, transaction
from msphub_psa.commands.exceptions import ConflictError, InvalidInputError, NotFoundError
from msphub_psa.daos.base import session
from msphub_psa.daos.directory import PsaAgreementDAO, ReconciliationStateDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.mapping import (
    CustomerMappingDAO,
    ReconciliationCustomerDAO,
    SubscriptionMappingDAO,
    SubscriptionMappingHistoryDAO,
    SubscriptionRowsDAO,
    subscription_sync_status,
    transaction_push_states,
    transaction_push_states_of,
)
from msphub_psa.daos.outbox import REMOVING, SENDING, OutboxDAO
from msphub_psa.daos.revenue import RevenueTotalsDAO
from msphub_psa.domain import billing, periods
from msphub_psa.domain.actor import Actor
from msphub_psa.domain.errors import EmptyFromDateRangeError, FromDateOutOfRangeError
from msphub_psa.models.directory import PsaAgreement
from msphub_psa.models.reconciliation import CustomerMapping, SubscriptionMapping

MODES = ("all", "custom")
MAX_SELECTION = 500


# --- conversions to the pure domain ----------------------------------------------------------


def domain_agreement(agreement: PsaAgreement) -> periods.Agreement:
    """A cached agreement as eligibility sees it (ConnectWise exposes no agreement currency)."""
    return periods.Agreement(
        id=agreement.id,
        company_id=agreement.company_id,
        cancelled=bool(agreement.cancelled),
        status=agreement.agreement_status or periods.AgreementStatus.ACTIVE,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        no_ending=bool(agreement.no_ending_date),
        billing_cycle=agreement.billing_cycle,
        bill_start_date=agreement.bill_start_date,
    )


def domain_subscription(
    subscription, frequency: str, company_id: int | None, currency: str | None, mapped_agreement_id: int | None = None
) -> periods.Subscription:
    """A subscription as eligibility sees it."""
    return periods.Subscription(
        id=subscription.id,
        company_id=company_id,
        start_date=subscription.start_date,
        frequency=frequency,
        currency=currency,
        mapped_agreement_id=mapped_agreement_id,
    )


def agreement_bound(agreement: PsaAgreement) -> dt.date | None:
    """The agreement's side of the From Date's lower bound: billing start, else start."""
    return agreement.bill_start_date or agreement.start_date


def allowed_range(agreement: PsaAgreement, subscriptions: list, today: dt.date) -> periods.DateRange:
    """Allowed From Dates for all these subscriptions on this agreement (the latest lower bound).

    :raises InvalidInputError: when no date is possible yet (a bound after today).
    """
    try:
        ranges = [
            periods.from_date_range(agreement.bill_start_date, agreement.start_date, s.start_date, today)
            for s in subscriptions
        ]
    except EmptyFromDateRangeError as err:
        raise InvalidInputError(str(err), {"from_date": [str(err)]}) from err
    return periods.DateRange(max(r.lower for r in ranges), today)


def resolve_from_date(
    mode: str, custom: dt.date | None, agreement: PsaAgreement, subscription, allowed: periods.DateRange, today: dt.date
) -> dt.date:
    """The From Date of one subscription: its own "all history" bound, or the validated custom date.

    :raises InvalidInputError: unknown mode, missing date, or a date outside ``allowed`` (400, range in text).
    """
    if mode not in MODES:
        raise InvalidInputError("Unknown From Date option.", {"from_date_mode": ["all or custom."]})
    if mode == "all" and custom is not None:
        raise InvalidInputError(
            "A From Date is given only with the custom option.",
            {"from_date": ["Leave it out for all history, or choose the custom option."]},
        )
    if mode == "all":
        return periods.from_date_range(
            agreement.bill_start_date, agreement.start_date, subscription.start_date, today
        ).lower
    if custom is None:
        raise InvalidInputError("Choose a custom From Date.", {"from_date": ["Required for a custom From Date."]})
    try:
        return periods.validate_custom_from_date(custom, allowed)
    except FromDateOutOfRangeError as err:
        raise InvalidInputError(str(err), {"from_date": [str(err)]}) from err


def check_agreement(
    partner_id: int, agreement_id: int, company_id: int, subscription, frequency: str, currency: str, today: dt.date
) -> tuple[PsaAgreement, periods.Eligibility]:
    """The agreement, if it belongs to the customer's company and can take billing now.

    :raises NotFoundError: another partner's or company's agreement (or unknown).
    :raises InvalidInputError: deleted, cancelled, expired, inactive, ended or not started.
    """
    agreement = PsaAgreementDAO.in_partner(partner_id, agreement_id)
    if agreement is None or agreement.company_id != company_id:
        raise NotFoundError(f"Agreement {agreement_id} not found for this customer's ConnectWise company.")
    if agreement.deleted:
        raise InvalidInputError(f"Agreement {agreement.name} was deleted in ConnectWise and cannot be chosen.")
    eligibility = periods.agreement_eligibility(
        domain_agreement(agreement), domain_subscription(subscription, frequency, company_id, currency), today
    )
    if not eligibility.eligible:
        raise InvalidInputError(
            f"Agreement {agreement.name} is {eligibility.reason.value} and cannot take billing; "
            "choose an active agreement.",
            {"agreement_id": [str(eligibility.reason.value)]},
        )
    return agreement, eligibility


RECOMPUTE_CHUNK = 5000


def recompute_revenue(partner_id: int, customer_ids: list[int]) -> None:
    """Keep the running totals right after subscription mappings of these customers changed (5,000 customers a
    statement: a refresh may map tens of thousands, past SQLite's limit of bound values)."""
    state = ReconciliationStateDAO.ensure(partner_id, lock=True)
    RevenueTotalsDAO.fold_new(state)
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), RECOMPUTE_CHUNK):
        RevenueTotalsDAO.recompute_customers(state, ids[start : start + RECOMPUTE_CHUNK])


def mapped_customer(partner_id: int, customer_id: int) -> tuple:
    """(customer, its active customer mapping).

    :raises NotFoundError: unknown or another partner's customer.
    :raises ConflictError: the customer is not mapped to a ConnectWise company.
    """
    customer = ReconciliationCustomerDAO.in_partner(partner_id, customer_id)
    if customer is None:
        raise NotFoundError(f"Customer {customer_id} not found.")
    mapping = CustomerMappingDAO.active_for_customer(customer.id)
    if mapping is None:
        raise ConflictError(
            f"{customer.name} is not mapped to a ConnectWise company: map the customer on the "
            "Customers tab first, then associate its subscriptions."
        )
    return customer, mapping


# --- the expanded row ----------------------------------------------------------------------


@dataclass
class CustomerSubscriptions:
    """A mapped customer's subscriptions with agreement, sync status and, when unmapped, why."""

    customer: object
    mapping: CustomerMapping
    currency: str
    today: dt.date
    rows: list[dict] = field(default_factory=list)


def today_and_currency(partner_id: int) -> tuple[dt.date, str]:
    """The partner's today and currency."""
    return partner_today(partner_id), PartnerDAO.find_by_id(partner_id).currency


class MappedCustomerCommand(BaseCommand):
    """A read about one mapped customer of the partner's."""

    def __init__(self, actor: Actor, customer_id: int, partner_id: int | None = None):
        self.actor, self.customer_id, self.partner_id = actor, customer_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission; the customer exists and is mapped."""
        self.partner_id = scope(self.actor, self.partner_id)
        self.customer, self.mapping = mapped_customer(self.partner_id, self.customer_id)


class CustomerSubscriptionsCommand(MappedCustomerCommand):
    """View Subscriptions: every subscription of one mapped customer."""

    def run(self) -> CustomerSubscriptions:
        """The rows (a fixed number of queries whatever the number of subscriptions)."""
        self.validate()
        today, currency = today_and_currency(self.partner_id)
        found = SubscriptionRowsDAO.for_customer(self.customer.id)
        status = subscription_sync_status(self.partner_id, [row[0].id for row in found])
        agreements = (
            [
                domain_agreement(a)
                for a in PsaAgreementDAO.live_for_companies(self.partner_id, [self.mapping.company_id])
            ]
            if any(row[2] is None for row in found)
            else []
        )
        result = CustomerSubscriptions(self.customer, self.mapping, currency, today)
        for subscription, frequency, mapping, agreement in found:
            reason = None
            if mapping is None:
                sub = domain_subscription(subscription, frequency, self.mapping.company_id, currency)
                reason = periods.auto_association(sub, agreements, today).reason
            result.rows.append(
                {
                    "subscription": subscription,
                    "frequency": frequency,
                    "mapping": mapping,
                    "agreement": agreement,
                    "sync": status[subscription.id],
                    "unmapped_reason": reason,
                }
            )
        return result


class AgreementOptionsCommand(MappedCustomerCommand):
    """The popups' choices: the company's eligible agreements, with fit warnings and From Date bounds."""

    def run(self) -> dict:
        """{customer, company, today, agreements: [{agreement, eligible, reason, warnings by frequency}]}."""
        self.validate()
        today, currency = today_and_currency(self.partner_id)
        options = []
        for agreement in PsaAgreementDAO.live_for_companies(self.partner_id, [self.mapping.company_id]):
            probe = {f: periods.Subscription(0, agreement.company_id, today, f, currency) for f in periods.Frequency}
            checks = {f: periods.agreement_eligibility(domain_agreement(agreement), s, today) for f, s in probe.items()}
            first = checks[periods.Frequency.MONTHLY]
            options.append(
                {
                    "agreement": agreement,
                    "eligible": first.eligible,
                    "reason": first.reason.value if first.reason else None,
                    "bound": agreement_bound(agreement),
                    "warnings": {str(f): c.warning for f, c in checks.items() if c.warning},
                }
            )
        return {"customer": self.customer, "company": self.mapping.company, "today": today, "agreements": options}


# --- Associate -------------------------------------------------------------------------------


class MapSubscriptionsCommand(BaseCommand):
    """Create Subscription Mapping: map every selected unmapped subscription to one agreement, from a From Date."""

    def __init__(
        self,
        actor: Actor,
        customer_id: int,
        agreement_id: int,
        subscription_ids: list[int],
        from_date_mode: str = "all",
        from_date: dt.date | None = None,
        partner_id: int | None = None,
        accept_mismatch: bool = False,
    ):
        self.actor, self.customer_id, self.agreement_id = actor, customer_id, agreement_id
        self.accept_mismatch = bool(accept_mismatch)
        self.subscription_ids = list(dict.fromkeys(subscription_ids or []))
        self.mode, self.custom, self.partner_id = from_date_mode, from_date, partner_id

    def validate(self) -> None:
        """Every business rule of the popup (the popup's bad input).

        :raises InvalidInputError: empty selection, bad agreement state, From Date out of range.
        :raises NotFoundError: another tenant's or company's customer, agreement or subscription.
        :raises ConflictError: customer not mapped, or a subscription already mapped (use Change).
        """
        self.partner_id = scope(self.actor, self.partner_id, write=True)
        if not self.subscription_ids:
            raise InvalidInputError("Select at least one subscription.", {"subscription_ids": ["Select at least one."]})
        if len(self.subscription_ids) > MAX_SELECTION:
            raise InvalidInputError(f"Select at most {MAX_SELECTION} subscriptions at once.")
        self.customer, self.customer_mapping = mapped_customer(self.partner_id, self.customer_id)
        self.subs = self._subscriptions()
        self.today, currency = today_and_currency(self.partner_id)
        first, frequency = self.subs[0]
        self.agreement, _ = check_agreement(
            self.partner_id, self.agreement_id, self.customer_mapping.company_id, first, frequency, currency, self.today
        )
        self.warnings = self._warnings(currency)
        allowed = allowed_range(self.agreement, [s for s, _ in self.subs], self.today)
        self.from_dates = {
            s.id: resolve_from_date(self.mode, self.custom, self.agreement, s, allowed, self.today)
            for s, _ in self.subs
        }

    def _subscriptions(self) -> list[tuple]:
        """[(subscription, frequency)] of the selection, all the customer's and unmapped."""
        found = SubscriptionRowsDAO.with_frequency(self.partner_id, self.subscription_ids)
        for sid in self.subscription_ids:
            if sid not in found or found[sid][0].customer_id != self.customer.id:
                raise NotFoundError(f"Subscription {sid} not found for {self.customer.name}.")
        taken = SubscriptionMappingHistoryDAO.active_subscription_ids(self.subscription_ids)
        if taken:
            sid, mapping = next(iter(taken.items()))
            raise ConflictError(
                f"{found[sid][0].name} is already mapped to agreement {mapping.agreement.name}: "
                "use Change to re-map it."
            )
        return [found[sid] for sid in self.subscription_ids]

    def _warnings(self, currency: str) -> list[str]:
        """Fit warnings (cycle or currency) of the chosen agreement for the selection, once each."""
        agreement = domain_agreement(self.agreement)
        found = [
            periods.agreement_eligibility(
                agreement, domain_subscription(s, f, self.customer_mapping.company_id, currency), self.today
            ).warning
            for s, f in self.subs
        ]
        return list(dict.fromkeys(w for w in found if w))

    @transaction
    def run(self) -> list[SubscriptionMapping]:
        """Create the mappings in one transaction, audit each, update the running totals."""
        self.validate()
        created = []
        try:
            for subscription, _ in self.subs:
                created.append(
                    SubscriptionMappingDAO.create(
                        partner_id=self.partner_id,
                        customer_id=self.customer.id,
                        subscription_id=subscription.id,
                        agreement_id=self.agreement.id,
                        from_date_mode=self.mode,
                        from_date=self.from_dates[subscription.id],
                        method="manual",
                        active=True,
                        mismatch_accepted=self.accept_mismatch and bool(self.warnings),
                        created_by_id=self.actor.user_id,
                        created_by=self.actor.username,
                    )
                )
        except IntegrityError as exc:
            session().rollback()
            raise ConflictError("A selected subscription was mapped by someone else meanwhile; reload.") from exc
        for mapping in created:
            audit(
                self.actor,
                "subscription.map",
                "subscription",
                mapping.subscription_id,
                partner_id=self.partner_id,
                customer_id=self.customer.id,
                agreement_id=self.agreement.id,
                cw_agreement_id=self.agreement.remote_id,
                agreement=self.agreement.name,
                from_date_mode=self.mode,
                from_date=mapping.from_date.isoformat(),
                mapping_id=mapping.id,
                warnings=self.warnings or None,
            )
        recompute_revenue(self.partner_id, [self.customer.id])
        return created


@dataclass
class AssociatePlan:
    """What Create Subscription Mapping would do: per subscription its From Date and the preview of its
    transactions (to be pushed, skipped), and the totals over the selection."""

    agreement: PsaAgreement
    rows: list[dict]
    to_new: int
    to_new_amount: Decimal
    to_skip: int
    to_skip_amount: Decimal
    warnings: list[str]


class AssociatePreviewCommand(MapSubscriptionsCommand):
    """Create Subscription Mapping, before Confirm: the same checks, and what would be sent to ConnectWise."""

    def run(self) -> AssociatePlan:  # type: ignore[override]
        """The plan (a fixed number of queries whatever the selection); nothing is written."""
        self.validate()
        states = transaction_push_states_of([s.id for s, _ in self.subs])
        target = self.agreement.remote_id
        rows = []
        for subscription, _ in self.subs:
            from_date = self.from_dates[subscription.id]
            preview = billing.remap_preview(
                [billing.TransactionState(*row[:8]) for row in states[subscription.id]],
                None,
                billing.MappingTarget(target, from_date, self.agreement.name),
            )
            rows.append({"subscription": subscription, "from_date": from_date, "preview": preview})
        return AssociatePlan(
            self.agreement,
            rows,
            sum(len(r["preview"].to_new) for r in rows),
            sum((r["preview"].to_new_amount for r in rows), Decimal(0)),
            sum(len(r["preview"].to_skip) for r in rows),
            sum((r["preview"].to_skip_amount for r in rows), Decimal(0)),
            self.warnings,
        )


# --- Change ----------------------------------------------------------------------------------


@dataclass
class RemapPlan:
    """A validated change: old and new mapping targets and the preview of what happens."""

    subscription: object
    current: SubscriptionMapping
    agreement: PsaAgreement
    from_date: dt.date
    allowed: periods.DateRange
    preview: billing.RemapPreview
    warning: str | None
    pushed: int = 0
    move_from: list[str] = field(default_factory=list)


class RemapPreviewCommand(BaseCommand):
    """Change Subscription Mapping, before Confirm: what the change would do (docs/billing.md From Date)."""

    def __init__(
        self,
        actor: Actor,
        subscription_id: int,
        agreement_id: int,
        from_date_mode: str = "all",
        from_date: dt.date | None = None,
        partner_id: int | None = None,
        write: bool = False,
    ):
        self.actor, self.subscription_id, self.agreement_id = actor, subscription_id, agreement_id
        self.mode, self.custom, self.partner_id, self.write = from_date_mode, from_date, partner_id, write

    def validate(self) -> None:
        """The subscription is the partner's and mapped; the agreement its company's and usable; the date in range.

        :raises NotFoundError: / ConflictError: / InvalidInputError: as for Associate.
        """
        self.partner_id = scope(self.actor, self.partner_id, write=self.write)
        found = SubscriptionRowsDAO.with_frequency(self.partner_id, [self.subscription_id])
        if self.subscription_id not in found:
            raise NotFoundError(f"Subscription {self.subscription_id} not found.")
        self.subscription, frequency = found[self.subscription_id]
        _, customer_mapping = mapped_customer(self.partner_id, self.subscription.customer_id)
        self.current = SubscriptionMappingHistoryDAO.active_for_subscription(self.subscription.id)
        if self.current is None:
            raise ConflictError(f"{self.subscription.name} is not mapped yet: use Associate.")
        self.today, currency = today_and_currency(self.partner_id)
        self.agreement, eligibility = check_agreement(
            self.partner_id,
            self.agreement_id,
            customer_mapping.company_id,
            self.subscription,
            frequency,
            currency,
            self.today,
        )
        self.warning = eligibility.warning
        self.allowed = allowed_range(self.agreement, [self.subscription], self.today)
        self.from_date = resolve_from_date(
            self.mode, self.custom, self.agreement, self.subscription, self.allowed, self.today
        )

    def run(self) -> RemapPlan:
        """The plan, with ``remap_preview`` over the subscription's transactions, their push states and the
        agreement each pushed one is on (agreements compared by ConnectWise id)."""
        self.validate()
        rows = transaction_push_states(self.subscription.id)
        transactions = [billing.TransactionState(*row[:8]) for row in rows]
        current = self.current.agreement
        preview = billing.remap_preview(
            transactions,
            billing.MappingTarget(current.remote_id, self.current.from_date, current.name),
            billing.MappingTarget(self.agreement.remote_id, self.from_date, self.agreement.name),
        )
        pushed = sum(1 for tx in transactions if tx.held)
        candidates = set(preview.move_candidates)
        move_from = sorted({row[8] or f"ConnectWise agreement #{row[6]}" for row in rows if row[0] in candidates})
        return RemapPlan(
            self.subscription,
            self.current,
            self.agreement,
            self.from_date,
            self.allowed,
            preview,
            self.warning,
            pushed,
            move_from,
        )


class RemapSubscriptionCommand(BaseCommand):
    """Change Subscription Mapping, Confirm: end the active mapping and create the new one (history kept)."""

    def __init__(
        self,
        actor: Actor,
        subscription_id: int,
        agreement_id: int,
        from_date_mode: str = "all",
        from_date: dt.date | None = None,
        move_pushed: bool = False,
        partner_id: int | None = None,
        accept_mismatch: bool = False,
    ):
        self.actor, self.move_pushed, self.accept_mismatch = actor, bool(move_pushed), bool(accept_mismatch)
        self.preview_command = RemapPreviewCommand(
            actor, subscription_id, agreement_id, from_date_mode, from_date, partner_id, write=True
        )

    def validate(self) -> RemapPlan:
        """The preview's checks, plus: something changes, and nothing is being pushed right now.

        Keeping the agreement and From Date is a change when it moves transactions pushed to another
        agreement (the partner chose Move after an earlier Change).
        :raises InvalidInputError: the same agreement and From Date as now, and nothing to move.
        :raises ConflictError: transactions of the subscription are being sent to (or removed from) ConnectWise.
        """
        plan = self.preview_command.run()
        mode = self.preview_command.mode
        same = (plan.agreement.id, plan.from_date, mode) == (
            plan.current.agreement_id,
            plan.current.from_date,
            plan.current.from_date_mode,
        )
        if same and not (self.move_pushed and plan.preview.move_candidates):
            raise InvalidInputError(
                "Nothing to change: choose another agreement or From Date (or Move, for "
                "transactions pushed to another agreement)."
            )
        if plan.preview.in_flight:
            raise _in_flight(len(plan.preview.in_flight))
        return plan

    @transaction
    def run(self) -> tuple[SubscriptionMapping, RemapPlan]:
        """Swap the mapping in one transaction, mark the pushed rows to move (or cancel earlier moves), audit,
        update the totals. The push does the move: it removes ours from the old agreement, then creates it anew."""
        plan = self.validate()
        partner_id, old = self.preview_command.partner_id, plan.current
        SubscriptionMappingHistoryDAO.end(old, self.actor.username)
        candidates = list(plan.preview.move_candidates)
        moving = candidates if self.move_pushed else []
        new = SubscriptionMappingDAO.create(
            partner_id=partner_id,
            customer_id=old.customer_id,
            subscription_id=old.subscription_id,
            agreement_id=plan.agreement.id,
            from_date_mode=self.preview_command.mode,
            from_date=plan.from_date,
            method="manual",
            active=True,
            previous_mapping_id=old.id,
            move_pushed=bool(moving),
            move_transaction_ids=moving,
            mismatch_accepted=self.accept_mismatch and bool(plan.warning),
            created_by_id=self.actor.user_id,
            created_by=self.actor.username,
        )
        requested, cancelled = self._apply_move_choice(old.subscription_id, set(moving), plan.agreement, new.id)
        audit(
            self.actor,
            "subscription.remap",
            "subscription",
            old.subscription_id,
            partner_id=partner_id,
            mapping_id=new.id,
            previous_mapping_id=old.id,
            previous_agreement_id=old.agreement_id,
            previous_from_date=old.from_date.isoformat(),
            agreement_id=plan.agreement.id,
            cw_agreement_id=plan.agreement.remote_id,
            agreement=plan.agreement.name,
            from_date_mode=new.from_date_mode,
            from_date=new.from_date.isoformat(),
            to_new=len(plan.preview.to_new),
            to_skip=len(plan.preview.to_skip),
            move_candidates=len(candidates),
            move_pushed=self.move_pushed,
            moves_requested=requested,
            moves_cancelled=cancelled,
            warning=plan.warning,
        )
        recompute_revenue(partner_id, [old.customer_id])
        return new, plan

    def _apply_move_choice(
        self, subscription_id: int, moving: set[int], agreement: PsaAgreement, mapping_id: int
    ) -> tuple[int, int]:
        """Rows chosen to move → ``moving``; a move asked earlier (or refused) and not chosen now → ``pushed``.

        Rows are re-read locked: one a push started sending or removing meanwhile refuses the change.
        :raises ConflictError: a push is working on this subscription's rows.
        """
        rows = OutboxDAO.of_subscription(subscription_id, lock=True)
        busy = [r for r in rows if r.state in (SENDING, REMOVING)]
        if busy:
            raise _in_flight(len(busy))
        requested = cancelled = 0
        actor = self.actor.username
        for item in rows:
            if not billing.in_psa(item.state, item.remote_record_id):
                continue
            if item.transaction_id in moving and item.state != billing.OutboxState.MOVING:
                _move_event(
                    item,
                    billing.OutboxEvent.MOVE_REQUESTED,
                    actor,
                    f"move from agreement {item.agreement_remote_id} to {agreement.remote_id} ({agreement.name}), "
                    f"mapping {mapping_id}",
                    last_error_code=None,
                    last_error_message=None,
                    reason=None,
                )
                requested += 1
            elif item.transaction_id not in moving and item.state != billing.OutboxState.PUSHED:
                _move_event(
                    item,
                    billing.OutboxEvent.MOVE_CANCELLED,
                    actor,
                    f"not moved by the change to mapping {mapping_id}: stays on agreement {item.agreement_remote_id}",
                    last_error_code=None,
                    last_error_message=None,
                    reason=None,
                )
                cancelled += 1
        return requested, cancelled


def _move_event(item, event: billing.OutboxEvent, actor: str, detail: str, **values) -> None:
    """One move transition of an outbox row (checked by the domain, recorded as every transition)."""
    new = billing.transition(item.state, event)
    OutboxDAO.set_state(item, new.value, event.value, by_run=None, actor=actor, detail=detail, **values)


def _in_flight(count: int) -> ConflictError:
    """Refusal while a push sends or removes this subscription's transactions."""
    return ConflictError(
        f"{count} transaction(s) of this subscription are being pushed to (or removed from) "
        "ConnectWise right now; try again when the push has finished."
    )


# --- auto-association ------------------------------------------------------------------------


@dataclass
class AutoResult:
    """What an auto-association run did: the mappings created (ids; ``created`` loaded where a face lists them)
    and, per subscription left alone, why."""

    created_ids: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    created: list[SubscriptionMapping] = field(default_factory=list)


def auto_associate(actor: Actor, partner_id: int, customer_ids: list[int] | None = None) -> AutoResult:
    """Associate each unmapped subscription of mapped customers with its company's only eligible agreement.

    Runs inside the caller's transaction; never touches a subscription that has a mapping. A fixed number of
    statements however many subscriptions (a directory refresh may map thousands): the candidates and the
    agreements are read as plain rows, the mappings and their audit events written in one statement each.
    """
    rows = SubscriptionRowsDAO.unmapped_of_mapped_customers(partner_id, customer_ids)
    result = AutoResult()
    if not rows:
        return result
    today, currency = partner_today(partner_id), PartnerDAO.find_by_id(partner_id).currency
    by_company: dict[int, list[periods.Agreement]] = {}
    for agreement in PsaAgreementDAO.live_rows_for_companies(partner_id, {row[2] for row in rows}):
        by_company.setdefault(agreement.company_id, []).append(domain_agreement(agreement))
    chosen, now = [], clock.now()
    for subscription, frequency, company_id in rows:
        decision = periods.auto_association(
            domain_subscription(subscription, frequency, company_id, currency), by_company.get(company_id, []), today
        )
        if decision.associate:
            chosen.append(_auto_mapping(actor, partner_id, subscription, decision, now))
        else:
            result.skipped[subscription.id] = decision.reason
    if not chosen:
        return result
    try:
        created = SubscriptionMappingDAO.insert_new(partner_id, chosen)
    except IntegrityError as exc:  # mapped by someone else since we read it: never overwrite, start over
        raise ConflictError(
            "Subscriptions of these customers were mapped by someone else meanwhile; reload and try again."
        ) from exc
    result.created_ids = [created[row["subscription_id"]] for row in chosen]
    audit_many(
        actor,
        "subscription.automap",
        "subscription",
        [
            (
                row["subscription_id"],
                {
                    "customer_id": row["customer_id"],
                    "agreement_id": row["agreement_id"],
                    "from_date": row["from_date"].isoformat(),
                    "mapping_id": mapping_id,
                },
            )
            for row, mapping_id in zip(chosen, result.created_ids, strict=True)
        ],
        partner_id=partner_id,
    )
    recompute_revenue(partner_id, sorted({row["customer_id"] for row in chosen}))
    return result


def _auto_mapping(
    actor: Actor, partner_id: int, subscription, decision: periods.AutoAssociation, now: dt.datetime
) -> dict:
    """The values of one automatic mapping (From Date = start of the current period)."""
    return {
        "partner_id": partner_id,
        "customer_id": subscription.customer_id,
        "subscription_id": subscription.id,
        "agreement_id": decision.agreement_id,
        "from_date_mode": "auto",
        "from_date": decision.from_date,
        "method": "auto",
        "active": True,
        "created_at": now,
        "created_by_id": actor.user_id,
        "created_by": actor.username,
    }


class AutoAssociateSubscriptionsCommand(BaseCommand):
    """Auto-association on demand: after a directory refresh, a customer mapping, or new subscriptions (host)."""

    def __init__(self, actor: Actor, partner_id: int | None = None, customer_ids: list[int] | None = None):
        self.actor, self.partner_id, self.customer_ids = actor, partner_id, customer_ids

    def validate(self) -> None:
        """Tenant, integration, write permission; named customers must be the partner's."""
        self.partner_id = scope(self.actor, self.partner_id, write=True)
        for customer_id in self.customer_ids or []:
            if ReconciliationCustomerDAO.in_partner(self.partner_id, customer_id) is None:
                raise NotFoundError(f"Customer {customer_id} not found.")

    @transaction
    def run(self) -> AutoResult:
        """Create the automatic mappings in one transaction; ``created`` holds them, to be listed."""
        self.validate()
        result = auto_associate(self.actor, self.partner_id, self.customer_ids)
        result.created = sorted(SubscriptionMappingDAO.find_by_ids(result.created_ids), key=lambda m: m.id)
        return result


class SubscriptionHistoryCommand(BaseCommand):
    """Every mapping a subscription has had (who, when, agreement, From Date, move choice)."""

    def __init__(self, actor: Actor, subscription_id: int, partner_id: int | None = None):
        self.actor, self.subscription_id, self.partner_id = actor, subscription_id, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission; the subscription is the partner's."""
        self.partner_id = scope(self.actor, self.partner_id)
        if self.subscription_id not in SubscriptionRowsDAO.with_frequency(self.partner_id, [self.subscription_id]):
            raise NotFoundError(f"Subscription {self.subscription_id} not found.")

    def run(self) -> list[SubscriptionMapping]:
        """Newest first."""
        self.validate()
        return SubscriptionMappingHistoryDAO.history(self.subscription_id)
