"""Run history, progress and alerts of the billing push: queries over ``psa_sync_run`` and the rows a run failed.

A run *alerts* when it ended ``failed``, ``partial``, ``stopped`` or ``abandoned``; the alert stays until someone
acknowledges it. DAOs only flush; the commands commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_appbuilder.security.sqla.models import Role, User, assoc_user_role
from sqlalchemy import func, select, update

from msphub_psa import clock
from msphub_psa.daos.base import session
from msphub_psa.models.hub import BillingTransaction as Tx
from msphub_psa.models.hub import Customer, Product, Subscription
from msphub_psa.models.sync import SyncItem, SyncLease, SyncRun, SyncTransition
from msphub_psa.models.tenancy import UserTenant

ALERT_STATUSES = ("failed", "partial", "stopped", "abandoned")
"""Run outcomes that flag the card and the Reconciliation Center until acknowledged (and send the email)."""


@dataclass(frozen=True)
class FailedRow:
    """A row that failed in a run: the outbox row now, the transaction, its product and customer, and the reason."""

    item_id: int
    reference: str
    state: str
    code: str | None
    message: str | None
    transaction_id: int
    kind: str
    period_start: dt.date
    period_end: dt.date
    amount: Decimal
    currency: str
    product: str
    subscription_id: int
    subscription: str
    customer_id: int
    customer: str


def _split_reason(detail: str | None) -> tuple[str | None, str | None]:
    """``"code: message"`` (the failure transition's detail) as (code, message)."""
    if not detail:
        return None, None
    code, sep, message = detail.partition(": ")
    if not sep:
        return None, detail
    return (None if code == "None" else code), message


class SyncRunHistoryDAO:
    """Runs for the history page, the live progress, the alerts and the email's recipients."""

    @staticmethod
    def page(partner_id: int, page: int, page_size: int) -> tuple[list[SyncRun], int]:
        """One page of the partner's runs, newest first, and how many there are."""
        where = SyncRun.partner_id == partner_id
        total = session().scalar(select(func.count(SyncRun.id)).where(where))
        runs = session().scalars(
            select(SyncRun).where(where).order_by(SyncRun.id.desc()).offset((page - 1) * page_size).limit(page_size)
        )
        return list(runs), total

    @staticmethod
    def set_progress(run_id: int, done: int, total: int | None, failed: int, **figures) -> None:
        """Record a running run's progress, its heartbeat and ``figures`` (counts, calls; joins the caller's
        transaction)."""
        session().execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                progress_done=done, progress_total=total, progress_failed=failed, heartbeat_at=clock.now(), **figures
            )
            .execution_options(synchronize_session=False)
        )

    @staticmethod
    def running(partner_id: int) -> SyncRun | None:
        """The run holding the partner's unexpired lease, if it is still running."""
        query = (
            select(SyncRun)
            .join(SyncLease, SyncLease.run_id == SyncRun.id)
            .where(
                SyncLease.partner_id == partner_id,
                SyncLease.holder.is_not(None),
                SyncLease.expires_at >= clock.now(),
                SyncRun.status == "running",
            )
        )
        return session().scalar(query)

    @staticmethod
    def open_alerts(partner_id: int) -> tuple[SyncRun | None, int]:
        """The newest unacknowledged alerting run and how many are unacknowledged in all."""
        where = (
            SyncRun.partner_id == partner_id,
            SyncRun.status.in_(ALERT_STATUSES),
            SyncRun.acknowledged_at.is_(None),
        )
        count = session().scalar(select(func.count(SyncRun.id)).where(*where))
        if not count:
            return None, 0
        return session().scalar(select(SyncRun).where(*where).order_by(SyncRun.id.desc()).limit(1)), count

    @staticmethod
    def acknowledge(partner_id: int, up_to_run_id: int, username: str) -> list[int]:
        """Acknowledge the partner's unacknowledged alerting runs up to this one; their ids."""
        where = (
            SyncRun.partner_id == partner_id,
            SyncRun.id <= up_to_run_id,
            SyncRun.status.in_(ALERT_STATUSES),
            SyncRun.acknowledged_at.is_(None),
        )
        ids = list(session().scalars(select(SyncRun.id).where(*where).order_by(SyncRun.id)))
        if ids:
            session().execute(
                update(SyncRun)
                .where(SyncRun.id.in_(ids))
                .values(acknowledged_by=username, acknowledged_at=clock.now())
                .execution_options(synchronize_session=False)
            )
            session().expire_all()
        return ids

    @staticmethod
    def claim_alert(run_id: int) -> bool:
        """Mark an ended alerting run's email as sent, once (compare-and-set); False when not to send."""
        return (
            session()
            .execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.alert_sent_at.is_(None), SyncRun.status.in_(ALERT_STATUSES))
                .values(alert_sent_at=clock.now())
                .execution_options(synchronize_session=False)
            )
            .rowcount
            == 1
        )

    @staticmethod
    def failed_rows(run_id: int, page: int, page_size: int) -> tuple[list[FailedRow], int]:
        """Rows that failed in this run (whatever they became since), in transaction order, and how many."""
        failed_here = (
            select(SyncTransition.item_id)
            .where(SyncTransition.run_id == run_id, SyncTransition.to_state == "failed")
            .distinct()
        )
        where = SyncItem.id.in_(failed_here)
        total = session().scalar(select(func.count(SyncItem.id)).where(where))
        reason = (
            select(SyncTransition.detail)
            .where(
                SyncTransition.item_id == SyncItem.id,
                SyncTransition.run_id == run_id,
                SyncTransition.to_state == "failed",
            )
            .order_by(SyncTransition.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(SyncItem, Tx, Product.title, Subscription.name, Customer.name, reason)
            .join(Tx, Tx.id == SyncItem.transaction_id)
            .join(Subscription, Subscription.id == SyncItem.subscription_id)
            .join(Product, Product.id == Subscription.product_id)
            .join(Customer, Customer.id == SyncItem.customer_id)
            .where(where)
            .order_by(SyncItem.transaction_id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        return [_failed_row(run_id, *row) for row in session().execute(query)], total

    @staticmethod
    def partner_admin_emails(partner_id: int) -> list[str]:
        """E-mail addresses of the partner's active Partner Admin users (the alert's partner contacts)."""
        query = (
            select(User.email)
            .join(UserTenant, UserTenant.user_id == User.id)
            .join(assoc_user_role, assoc_user_role.c.user_id == User.id)
            .join(Role, Role.id == assoc_user_role.c.role_id)
            .where(UserTenant.partner_id == partner_id, User.active.is_(True), Role.name == "Partner Admin")
            .order_by(User.email)
            .distinct()
        )
        return [email for email in session().scalars(query) if email]


def _failed_row(
    run_id: int, item: SyncItem, tx: Tx, product: str, subscription: str, customer: str, detail: str | None
) -> FailedRow:
    """One failed row: ConnectWise's code and reason as they were in the run (the row may have moved on)."""
    code, message = _split_reason(detail)
    if item.state == "failed" and item.run_id == run_id:
        code, message = item.last_error_code, item.last_error_message
    return FailedRow(
        item.id,
        item.reference,
        item.state,
        code,
        message,
        tx.id,
        tx.kind,
        tx.period_start,
        tx.period_end,
        tx.amount,
        tx.currency,
        product,
        item.subscription_id,
        subscription,
        item.customer_id,
        customer,
    )
