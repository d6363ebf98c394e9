"""The read-back and a re-create through the second PSA: revenue assurance needs nothing of ConnectWise's."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from msphub_psa.commands import psa_client
from msphub_psa.commands.billing.assurance import ReadBackCommand
from msphub_psa.commands.billing.assurance_actions import FindingsCommand, ResolveFindingCommand
from msphub_psa.commands.billing.orchestrator import PushBillingCommand
from msphub_psa.connectwise.adapter import ConnectWisePsa
from msphub_psa.daos.base import session
from msphub_psa.models.directory import PsaAgreement, PsaCompany
from msphub_psa.psa.port import LIST_KINDS
from msphub_psa.psa.records import Agreement, Company
from tests.support.push import push_setup
from tests.support.second_psa import RECORD_NAMES, SecondPsa, check


@pytest.fixture
def second(ctx, cw_live, monkeypatch):
    """The pilot on the sandbox's directory, then served by the in-memory second PSA."""
    partner_id, actor, _customers = push_setup(cw_live, customers=1)
    side = SecondPsa(
        [
            Agreement(a.remote_id, a.name, a.remote_company_id, a.type_name, a.start_date, a.end_date)
            for a in session().scalars(select(PsaAgreement).where(PsaAgreement.partner_id == partner_id))
        ],
        [Company(c.remote_id, c.identifier, c.name) for c in session().scalars(select(PsaCompany))],
    )
    with ConnectWisePsa(cw_live.client()) as cw:
        side.lists = {kind: cw.list_entries(kind) for kind in LIST_KINDS}
    adapter = psa_client.Adapter(lambda integration, throttle=None, **options: side.client(), check, RECORD_NAMES)
    monkeypatch.setitem(psa_client.ADAPTERS, ConnectWisePsa.kind, adapter)
    session().commit()
    before = max((entry["seq"] for entry in cw_live.requests()), default=0)
    yield partner_id, actor, side
    assert cw_live.requests(before) == [], "the read-back reached ConnectWise"


def test_read_back_and_recreate_through_the_second_psa(second):
    partner_id, actor, side = second
    assert PushBillingCommand(partner_id).run().status == "succeeded"
    side.calls.clear()
    assert ReadBackCommand(partner_id).run()["counts"] == {}
    agreements = {r.agreement_id for r in side.records.values()}
    assert Counter(side.calls) == {
        "iter_records": 2 * len(agreements),
        "get_agreements": 1,
        "iter_agreement_invoices": 1,
    }

    gone = next(r for r in side.records.values() if r.kind == "charge")
    del side.records[gone.id]
    ReadBackCommand(partner_id).run()
    [finding] = FindingsCommand(actor, partner_id).run()["findings"]
    assert finding["code"] == "missing" and finding["reference"] == gone.reference_text
    ResolveFindingCommand(actor, finding["id"], "recreate", partner_id=partner_id).run()
    assert PushBillingCommand(partner_id).run().counts["pushed"] == 1
    assert side.ours()[gone.reference_text] == 1
    ReadBackCommand(partner_id).run()
    session().expire_all()
    assert FindingsCommand(actor, partner_id).run()["findings"] == []
