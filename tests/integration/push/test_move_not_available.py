"""Moving already-pushed transactions to a new agreement is not built yet: asking for it is refused."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from plugin.commands.exceptions import InvalidInputError
from plugin.commands.push import PushBillingCommand
from plugin.commands.subscriptions import RemapSubscriptionCommand
from plugin.daos.base import session
from plugin.models.psa import SubscriptionMapping
from tests.support.push import agreement_named, items, push_setup


def test_move_of_pushed_transactions_is_refused_and_changes_nothing(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=1)
    PushBillingCommand(partner_id).run()
    pushed = [r for r in items(partner_id) if r.state == "pushed"]
    assert pushed
    mapping = session().scalar(select(SubscriptionMapping).where(
        SubscriptionMapping.subscription_id == pushed[0].subscription_id, SubscriptionMapping.ended_at.is_(None)))
    other = agreement_named(mapping.agreement.company_id, "Microsoft CSP - Annual") or mapping.agreement
    target = other.id if other.id != mapping.agreement_id else mapping.agreement_id
    custom = dt.date.today() - dt.timedelta(days=1) if target == mapping.agreement_id else None
    with pytest.raises(InvalidInputError, match="not available yet"):
        RemapSubscriptionCommand(actor, mapping.subscription_id, target, "custom" if custom else "all", custom,
                                 move_pushed=True).run()
    session().expire_all()
    still = session().scalar(select(SubscriptionMapping).where(
        SubscriptionMapping.subscription_id == mapping.subscription_id, SubscriptionMapping.ended_at.is_(None)))
    assert still.id == mapping.id
