"""Reconciliation Center use cases: figures, lists, customer mapping, exact matches.

Every command checks tenant (another partner's ids answer 404), the feature and the
active integration, and the role (a Partner Viewer may read, never write).
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
from msphub_psa.commands.billing.common import pending_and_failed
from msphub_psa.commands.exceptions import ConflictError, InvalidInputError, NotFoundError
from msphub_psa.commands.subscriptions import auto_associate
from msphub_psa.daos.base import session
from msphub_psa.daos.directory import PsaCompanyDAO, ReconciliationStateDAO
from msphub_psa.daos.hub import PartnerDAO
from msphub_psa.daos.mapping import CustomerMappingDAO, ReconciliationCustomerDAO, SubscriptionMappingDAO
from msphub_psa.daos.outbox import SyncFiguresDAO
from msphub_psa.daos.revenue import RevenueTotalsDAO
from msphub_psa.domain import names
from msphub_psa.domain.actor import Actor
from msphub_psa.models.directory import PsaCompany
from msphub_psa.models.reconciliation import CustomerMapping

PERIODS = {"this_month": "This month", "last_3_months": "Last 3 months", "all": "All time"}
MANUAL_METHODS = ("manual", "suggestion")
MAX_PAGE_SIZE = 200


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month ``count`` months from ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def period_start(period: str, today: dt.date) -> dt.date | None:
    """First billing month a period selector covers (None for all).

    :raises InvalidInputError: for an unknown period.
    """
    if period not in PERIODS:
        raise InvalidInputError(f"Unknown period {period!r}.", {"period": [f"One of: {', '.join(PERIODS)}."]})
    first = today.replace(day=1)
    return {"this_month": first, "last_3_months": add_months(first, -2), "all": None}[period]


def current_totals(partner_id: int) -> dict:
    """Fold new billing transactions into the running totals (own short transaction); return the
    directory refresh state as the page shows it (read before the commit, so not read again)."""
    try:
        return _fold(partner_id)
    except IntegrityError:  # two first requests created the partner's state row at once: the other won
        return _fold(partner_id)


@transaction
def _fold(partner_id: int):
    """One fold in its own transaction."""
    state = ReconciliationStateDAO.ensure(partner_id, lock=True)
    RevenueTotalsDAO.fold_new(state)
    return directory_state(state)


def page_window(page: int, size: int) -> tuple[int, int]:
    """(offset, limit) of a 1-based page.

    :raises InvalidInputError: for a page below 1 or a size outside 1..200.
    """
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInputError("Invalid paging.", {"page_size": [f"page >= 1, page_size 1..{MAX_PAGE_SIZE}."]})
    return (page - 1) * size, size


@dataclass
class Summary:
    """The indicators at the top of the Reconciliation Center."""

    partner_id: int
    currency: str
    period: str
    since: dt.date | None
    counts: dict
    unsynchronized_revenue: Decimal
    directory: dict = field(default_factory=dict)
    sync: dict = field(default_factory=dict)


class ReconciliationSummaryCommand(BaseCommand):
    """Unmapped customers, unmapped subscriptions, unsynchronized revenue (with its period)."""

    def __init__(self, actor: Actor, partner_id: int | None = None, period: str = "all"):
        self.actor, self.partner_id, self.period = actor, partner_id, period

    def validate(self) -> None:
        """Tenant, integration, read permission and a known period."""
        self.partner_id = scope(self.actor, self.partner_id)
        self.partner = PartnerDAO.find_by_id(self.partner_id)  # held: the session's identity map keeps it weakly
        self.since = period_start(self.period, clock.today(self.partner.timezone))

    def run(self) -> Summary:
        """Bring the totals up to date, then read every figure (a fixed number of queries)."""
        self.validate()
        currency = self.partner.currency  # read before the fold's commit expires it
        directory = current_totals(self.partner_id)
        return Summary(
            self.partner_id,
            currency,
            self.period,
            self.since,
            ReconciliationCustomerDAO.counts(self.partner_id),
            RevenueTotalsDAO.unsynchronized_total(self.partner_id, self.since),
            directory,
            pending_and_failed(self.partner_id, self.since),
        )

    def monthly(self, months: int = 12) -> list[dict]:
        """Per billing month, pushed (from the outbox) and unsynchronized revenue."""
        self.validate()
        current_totals(self.partner_id)
        last = partner_today(self.partner_id).replace(day=1)
        first = add_months(last, 1 - months)
        values = RevenueTotalsDAO.unsynchronized_by_month(self.partner_id, first)
        pushed = SyncFiguresDAO.pushed_by_month(self.partner_id, first)
        return [
            {
                "month": add_months(first, i),
                "unsynchronized": values.get(add_months(first, i), Decimal(0)),
                "pushed": pushed.get(add_months(first, i), Decimal(0)),
            }
            for i in range(months)
        ]


def directory_state(state) -> dict:
    """The directory refresh state as the page shows it."""
    return {
        "status": state.refresh_status,
        "last_refreshed_at": state.last_refreshed_at,
        "started_at": state.refresh_started_at,
        "progress": state.refresh_progress or {},
        "error": state.refresh_error,
        "job_id": state.refresh_job_id,
    }


class CustomerListCommand(BaseCommand):
    """A page of the Unmapped or Mapped customers, searchable, with unsynchronized revenue."""

    def __init__(
        self,
        actor: Actor,
        state: str,
        search: str = "",
        page: int = 1,
        page_size: int = 50,
        period: str = "all",
        partner_id: int | None = None,
    ):
        self.actor, self.state, self.search = actor, state, (search or "").strip()
        self.page, self.page_size, self.period, self.partner_id = page, page_size, period, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission, state and paging."""
        self.partner_id = scope(self.actor, self.partner_id)
        if self.state not in ("unmapped", "mapped"):
            raise InvalidInputError("Unknown list.", {"state": ["unmapped or mapped."]})
        self.offset, self.limit = page_window(self.page, self.page_size)
        self.since = period_start(self.period, partner_today(self.partner_id))

    def run(self) -> tuple[list[dict], int]:
        """The rows of the page and the total (a fixed number of queries)."""
        self.validate()
        current_totals(self.partner_id)
        if self.state == "unmapped":
            customers, total = ReconciliationCustomerDAO.unmapped_page(
                self.partner_id, self.search, self.offset, self.limit
            )
            rows = [{"customer": c, "mapping": None, "company": None} for c in customers]
        else:
            found, total = CustomerMappingDAO.mapped_page(self.partner_id, self.search, self.offset, self.limit)
            rows = [{"customer": c, "mapping": m, "company": co} for m, c, co in found]
        ids = [row["customer"].id for row in rows]
        revenue = RevenueTotalsDAO.unsynchronized_by_customer(self.partner_id, ids, self.since)
        subs = SubscriptionMappingDAO.counts_by_customer(ids)
        for row in rows:
            row["unsynchronized"] = revenue.get(row["customer"].id, Decimal(0))
            row["subscriptions_mapped"], row["subscriptions"] = subs.get(row["customer"].id, (0, 0))
        return rows, total


class CompanyListCommand(BaseCommand):
    """A page of the cached ConnectWise companies, searchable (unmapped ones unless asked)."""

    def __init__(
        self,
        actor: Actor,
        search: str = "",
        page: int = 1,
        page_size: int = 50,
        include_mapped: bool = False,
        partner_id: int | None = None,
    ):
        self.actor, self.search, self.page, self.page_size = actor, (search or "").strip(), page, page_size
        self.include_mapped, self.partner_id = include_mapped, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission and paging."""
        self.partner_id = scope(self.actor, self.partner_id)
        self.offset, self.limit = page_window(self.page, self.page_size)

    def run(self) -> tuple[list[PsaCompany], int]:
        """The companies of the page and the total."""
        self.validate()
        return PsaCompanyDAO.page(self.partner_id, self.search, self.offset, self.limit, self.include_mapped)


_INDEXES: dict[tuple, names.CompanyIndex] = {}


def company_index(partner_id: int) -> names.CompanyIndex:
    """The name index of the partner's cached companies, rebuilt when the cache changed."""
    rows = PsaCompanyDAO.match_rows(partner_id)
    key = (partner_id, hash(tuple(rows)))
    if key not in _INDEXES:
        for old in [k for k in _INDEXES if k[0] == partner_id]:
            del _INDEXES[old]
        _INDEXES[key] = names.CompanyIndex(rows)
    return _INDEXES[key]


class SuggestionsCommand(BaseCommand):
    """Near-match companies (case, punctuation, suffix, fuzzy) for unmapped customers: never mapped automatically."""

    def __init__(self, actor: Actor, customer_ids: list[int], limit: int = 3, partner_id: int | None = None):
        self.actor, self.customer_ids, self.limit, self.partner_id = (
            actor,
            customer_ids[:MAX_PAGE_SIZE],
            limit,
            partner_id,
        )

    def validate(self) -> None:
        """Tenant, integration, read permission; unknown or other tenant's customers answer 404."""
        self.partner_id = scope(self.actor, self.partner_id)
        self.names = ReconciliationCustomerDAO.names(self.customer_ids)
        rows = {c for c, _ in ReconciliationCustomerDAO.match_rows(self.partner_id)} if self.names else set()
        missing = [c for c in self.customer_ids if c not in self.names or c not in rows]
        if missing:
            raise NotFoundError(f"Customer {missing[0]} not found.")

    def run(self) -> dict[int, list[names.Suggestion]]:
        """{customer id: suggestions among companies not mapped yet}, best first."""
        self.validate()
        index = company_index(self.partner_id)
        _, mapped_companies = CustomerMappingDAO.mapped_ids(self.partner_id)
        result = {}
        for customer_id in self.customer_ids:
            found = index.suggest(self.names[customer_id], limit=self.limit + 5)
            result[customer_id] = [s for s in found if s.company_id not in mapped_companies][: self.limit]
        return result


def _company_label(company: PsaCompany) -> str:
    """A company as messages name it."""
    return f"{company.name} (ConnectWise #{company.remote_id})"


class MapCustomerCommand(BaseCommand):
    """Map one customer to one cached ConnectWise company (manual or an accepted suggestion)."""

    def __init__(
        self,
        actor: Actor,
        customer_id: int,
        company_id: int | None = None,
        remote_company_id: int | None = None,
        method: str = "manual",
        score: int | None = None,
        partner_id: int | None = None,
    ):
        self.actor, self.customer_id, self.company_id, self.remote_company_id = (
            actor,
            customer_id,
            company_id,
            remote_company_id,
        )
        self.method, self.score, self.partner_id = method, score, partner_id

    def validate(self) -> None:
        """Both exist in the tenant, the company is live and neither is mapped already.

        :raises NotFoundError: unknown/other tenant's customer or company; company not in the cache.
        :raises InvalidInputError: deleted company, bad method.
        :raises ConflictError: customer or company already mapped.
        """
        self.partner_id = scope(self.actor, self.partner_id, write=True)
        if self.method not in MANUAL_METHODS:
            raise InvalidInputError("Unknown method.", {"method": ["manual or suggestion."]})
        self.customer = ReconciliationCustomerDAO.in_partner(self.partner_id, self.customer_id)
        if self.customer is None:
            raise NotFoundError(f"Customer {self.customer_id} not found.")
        self.company = self._find_company()
        if self.company.deleted:
            raise InvalidInputError(f"{_company_label(self.company)} is deleted in ConnectWise and cannot be mapped.")
        self._check_free()

    def _find_company(self) -> PsaCompany:
        """The cached company by local id or ConnectWise id.

        :raises NotFoundError: with a hint to refresh when a ConnectWise id is not cached.
        """
        if self.company_id is not None:
            company = PsaCompanyDAO.in_partner(self.partner_id, self.company_id)
            if company is None:
                raise NotFoundError(f"Company {self.company_id} not found.")
            return company
        if self.remote_company_id is None:
            raise InvalidInputError("Choose a ConnectWise company.", {"company_id": ["Required."]})
        company = PsaCompanyDAO.by_cw_id(self.partner_id, self.remote_company_id)
        if company is None:
            raise NotFoundError(
                f"ConnectWise company #{self.remote_company_id} is not in the local directory. "
                "Refresh the ConnectWise directory, then try again."
            )
        return company

    def _check_free(self) -> None:
        """:raises ConflictError: naming the existing mapping."""
        existing = CustomerMappingDAO.active_for_customer(self.customer.id)
        if existing is not None:
            raise ConflictError(f"{self.customer.name} is already mapped to {_company_label(existing.company)}.")
        holder = CustomerMappingDAO.active_for_company(self.company.id)
        if holder is not None:
            raise ConflictError(
                f"{_company_label(self.company)} is already mapped to customer "
                f"{holder.customer.name}. Disassociate it there first."
            )

    @transaction
    def run(self) -> CustomerMapping:
        """Create the mapping; a concurrent winner turns this into a clear 409."""
        self.validate()
        try:
            mapping = CustomerMappingDAO.create(
                partner_id=self.partner_id,
                customer_id=self.customer.id,
                company_id=self.company.id,
                method=self.method,
                score=self.score,
                created_by_id=self.actor.user_id,
                created_by=self.actor.username,
            )
        except IntegrityError as exc:
            session().rollback()
            self._check_free()
            raise ConflictError("This customer or company was mapped by someone else; reload.") from exc
        audit(
            self.actor,
            "customer.map",
            "customer",
            self.customer.id,
            partner_id=self.partner_id,
            company_id=self.company.id,
            remote_company_id=self.company.remote_id,
            company=self.company.name,
            method=self.method,
            score=self.score,
        )
        self.auto = auto_associate(self.actor, self.partner_id, [self.customer.id])
        return mapping


class UnmapCustomerCommand(BaseCommand):
    """Disassociate a customer: it returns to Unmapped and its subscription mappings end."""

    def __init__(self, actor: Actor, customer_id: int, partner_id: int | None = None):
        self.actor, self.customer_id, self.partner_id = actor, customer_id, partner_id

    def validate(self) -> None:
        """:raises NotFoundError: unknown customer. :raises ConflictError: not mapped (any more)."""
        self.partner_id = scope(self.actor, self.partner_id, write=True)
        self.customer = ReconciliationCustomerDAO.in_partner(self.partner_id, self.customer_id)
        if self.customer is None:
            raise NotFoundError(f"Customer {self.customer_id} not found.")
        self.mapping = CustomerMappingDAO.active_for_customer(self.customer.id)
        if self.mapping is None:
            raise ConflictError(f"{self.customer.name} is not mapped (it may just have been disassociated).")

    @transaction
    def run(self) -> int:
        """End the mapping and the customer's subscription mappings; return how many subscriptions were unmapped."""
        self.validate()
        state = ReconciliationStateDAO.ensure(self.partner_id, lock=True)
        RevenueTotalsDAO.fold_new(state)
        company = self.mapping.company
        CustomerMappingDAO.end(self.mapping, self.actor.username)
        ended = SubscriptionMappingDAO.end_for_customer(self.customer.id, self.actor.username)
        RevenueTotalsDAO.recompute_customers(state, [self.customer.id])
        audit(
            self.actor,
            "customer.unmap",
            "customer",
            self.customer.id,
            partner_id=self.partner_id,
            company_id=company.id,
            remote_company_id=company.remote_id,
            company=company.name,
            mapping_id=self.mapping.id,
            subscription_mappings_ended=ended,
        )
        return ended


@dataclass
class ExactPreview:
    """What "Map exact matches" would map, and the same names it leaves out (with reasons)."""

    pairs: list[tuple[int, str, int, str]]
    excluded: list[dict]


class ExactMatchesPreviewCommand(BaseCommand):
    """The exact, case-sensitive name matches that would be mapped now."""

    def __init__(self, actor: Actor, partner_id: int | None = None):
        self.actor, self.partner_id = actor, partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission."""
        self.partner_id = scope(self.actor, self.partner_id)

    def run(self) -> ExactPreview:
        """Pairs (customer id, name, company id, name) and exclusions."""
        self.validate()
        return exact_preview(self.partner_id)


def exact_preview(partner_id: int) -> ExactPreview:
    """Exact matches over every customer and cached company (docs/billing.md "Names and matching")."""
    customers = ReconciliationCustomerDAO.match_rows(partner_id)
    companies = PsaCompanyDAO.match_rows(partner_id)
    mapped_customers, mapped_companies = CustomerMappingDAO.mapped_ids(partner_id)
    found = names.exact_matches(customers, companies, mapped_customers, mapped_companies)
    customer_names, company_rows = dict(customers), {row[0]: row for row in companies}
    pairs = [(c, customer_names[c], k, company_rows[k][1]) for c, k in found.pairs]
    excluded = [
        {
            "name": e.name,
            "customer_ids": list(e.customer_ids),
            "company_ids": list(e.company_ids),
            "reasons": [str(r) for r in e.reasons],
            "text": e.text,
        }
        for e in found.excluded
        if names.ExclusionReason.CUSTOMER_MAPPED not in e.reasons
    ]
    return ExactPreview(sorted(pairs, key=lambda p: p[1]), excluded)


class MapExactMatchesCommand(BaseCommand):
    """Map every exact-name match (or those of them the user saw in the preview), method ``exact``."""

    def __init__(self, actor: Actor, partner_id: int | None = None, customer_ids: list[int] | None = None):
        self.actor, self.partner_id, self.customer_ids = actor, partner_id, customer_ids
        self.automapped: list[int] = []
        """The subscriptions' mappings the auto-association after these mappings created."""

    def validate(self) -> None:
        """Tenant, integration, write permission."""
        self.partner_id = scope(self.actor, self.partner_id, write=True)

    @transaction
    def run(self) -> list[tuple[int, str, int, str]]:
        """Create the mappings, each audited, then auto-associate their customers' subscriptions (``automapped``);
        return the pairs mapped."""
        self.validate()
        pairs = exact_preview(self.partner_id).pairs
        if self.customer_ids is not None:
            chosen = set(self.customer_ids)
            pairs = [p for p in pairs if p[0] in chosen]
        now = clock.now()
        try:  # one statement each for the mappings and their audit events, however many
            CustomerMappingDAO.insert_all(
                [
                    {
                        "partner_id": self.partner_id,
                        "customer_id": customer_id,
                        "company_id": company_id,
                        "method": "exact",
                        "score": 100,
                        "created_at": now,
                        "created_by_id": self.actor.user_id,
                        "created_by": self.actor.username,
                    }
                    for customer_id, _, company_id, _name in pairs
                ]
            )
        except IntegrityError as exc:
            raise ConflictError("Mappings changed while mapping exact matches; reload and try again.") from exc
        audit_many(
            self.actor,
            "customer.map",
            "customer",
            [(c, {"company_id": co, "company": name, "method": "exact"}) for c, _, co, name in pairs],
            partner_id=self.partner_id,
        )
        if pairs:
            self.automapped = auto_associate(self.actor, self.partner_id, [p[0] for p in pairs]).created_ids
        return pairs
