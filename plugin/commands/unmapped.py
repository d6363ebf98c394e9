"""Products / Subscriptions, "Unmapped only": the partner's unmapped subscriptions across customers.

One page at a time (bounded), with each row's customer, its ConnectWise company when the customer is
mapped, and why the subscription is not mapped, so several of one company can be associated at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from msphub_psa.commands.access import reconciliation_scope as scope
from msphub_psa.commands.base import BaseCommand
from msphub_psa.commands.reconciliation import page_window
from msphub_psa.commands.subscriptions import domain_agreement, domain_subscription, today_and_currency
from msphub_psa.daos.directory import PsaAgreementDAO
from msphub_psa.daos.mapping import SubscriptionRowsDAO
from msphub_psa.domain import periods
from msphub_psa.domain.actor import Actor

CUSTOMER_NOT_MAPPED = "customer not mapped to a ConnectWise company — map it on the Customers tab first"
"""Why a subscription of an unmapped customer cannot be associated yet."""


@dataclass
class UnmappedPage:
    """A page of unmapped subscriptions: rows, total, the partner's currency and today."""

    rows: list[dict]
    total: int
    currency: str
    today: dt.date


class UnmappedSubscriptionsCommand(BaseCommand):
    """A page of the partner's unmapped subscriptions across customers, searchable."""

    def __init__(
        self, actor: Actor, search: str = "", page: int = 1, page_size: int = 50, partner_id: int | None = None
    ):
        self.actor, self.search, self.page, self.page_size = actor, (search or "").strip(), page, page_size
        self.partner_id = partner_id

    def validate(self) -> None:
        """Tenant, integration, read permission, paging.

        :raises InvalidInputError: a page below 1 or a size outside 1..200.
        """
        self.partner_id = scope(self.actor, self.partner_id)
        self.offset, self.limit = page_window(self.page, self.page_size)

    def run(self) -> UnmappedPage:
        """The page (three queries whatever its size): rows with customer, company and reason."""
        self.validate()
        found, total = SubscriptionRowsDAO.unmapped_page(self.partner_id, self.search, self.offset, self.limit)
        today, currency = today_and_currency(self.partner_id)
        company_ids = sorted({mapping.company_id for *_, mapping, _ in found if mapping is not None})
        by_company: dict[int, list[periods.Agreement]] = {}
        for agreement in PsaAgreementDAO.live_for_companies(self.partner_id, company_ids):
            by_company.setdefault(agreement.company_id, []).append(domain_agreement(agreement))
        rows = [_row(row, by_company, currency, today) for row in found]
        return UnmappedPage(rows, total, currency, today)


def _row(row: tuple, by_company: dict[int, list[periods.Agreement]], currency: str, today: dt.date) -> dict:
    """One unmapped subscription with its customer, company and the reason it is not mapped."""
    subscription, frequency, customer, mapping, company = row
    if mapping is None:
        reason = CUSTOMER_NOT_MAPPED
    else:
        sub = domain_subscription(subscription, frequency, mapping.company_id, currency)
        reason = periods.auto_association(sub, by_company.get(mapping.company_id, []), today).reason
    return {
        "subscription": subscription,
        "frequency": frequency,
        "customer": customer,
        "company": company,
        "reason": reason,
    }
