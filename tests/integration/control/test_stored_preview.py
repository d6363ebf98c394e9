"""A prepared preview stores its page: reading a page of it is a bounded number of SQL statements, the same for
1,000 and 100,000 transactions, and gives exactly the JSON its transactions would give computed again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from msphub_psa.commands.billing import preview
from msphub_psa.commands.billing.preview import (
    ApprovePreviewCommand,
    CatalogView,
    PreparePreviewCommand,
    PreviewCommand,
    PreviewDetailCommand,
    stored_checker,
    summarize,
)
from msphub_psa.daos.base import session
from msphub_psa.daos.bulk import insert_rows, next_id, sync_sequence
from msphub_psa.daos.control import PreviewRowsDAO
from msphub_psa.models.hub import BillingTransaction
from msphub_psa.models.sync import SyncPreviewGroup
from tests.support.control import preview_row
from tests.support.push import expected_transactions, push_setup
from tests.support.sql import counting

pytestmark = pytest.mark.calendar  # runs again at hostile dates in CI (.ci/run)

MAX_STATEMENTS = 15
"""Every statement of reading one page of a stored preview: the tenant's checks, the preview, its page of groups,
their lines, the order of its agreements, the look-ups, the approval setting and the preview awaiting approval."""


def _grow_to(customers: list[int], total: int) -> None:
    """Copies of the mapped customers' transactions (new ids, same subscriptions and periods: all eligible) until
    ``total`` are eligible."""
    txs = expected_transactions(customers)
    first, missing = next_id(BillingTransaction), total - len(txs)
    columns = [c.key for c in BillingTransaction.__table__.columns if c.key != "id"]
    insert_rows(
        BillingTransaction,
        ({"id": first + i, **{c: getattr(txs[i % len(txs)], c) for c in columns}} for i in range(max(missing, 0))),
    )
    sync_sequence(BillingTransaction)
    session().commit()


def _never(*args, **kwargs):
    raise AssertionError("a stored page is read, not recomputed")


def _page_statements(actor, partner_id: int, preview_id: int, **paging) -> tuple[int, dict]:
    """(statements, JSON) of reading one page of a stored preview (warmed up once)."""
    PreviewDetailCommand(actor, preview_id, partner_id, **paging).run()
    with counting(session().get_bind()) as statements:
        data = PreviewDetailCommand(actor, preview_id, partner_id, **paging).run()
    return len(statements), data


def test_a_stored_page_costs_the_same_statements_for_1000_and_100000_transactions(ctx, cw_live, monkeypatch):
    partner_id, actor, customers = push_setup(cw_live, customers=3)
    counts = {}
    for size in (1_000, 100_000):
        _grow_to(customers, size)
        preview_id = PreparePreviewCommand(actor, partner_id).run()
        assert preview_row(preview_id).totals["transactions"] == size
        with monkeypatch.context() as patched:  # a stored page loads no row of the preview beyond it, builds no line
            patched.setattr(PreviewRowsDAO, "of_preview", _never)
            patched.setattr(preview, "line_of", _never)
            for page, lines in ((1, 20), (1, 500), (2, 1)):
                count, data = _page_statements(actor, partner_id, preview_id, page=page, page_size=2, lines=lines)
                counts[(size, page, lines)] = count
                shown = data["groups"]["result"]
                assert data["totals"]["transactions"] == size and data["groups"]["total"] == 3
                assert len(shown) == (2 if page == 1 else 1)
                assert all(len(g["lines"]) == min(lines, g["line_count"]) for g in shown)
    print("statements per stored page:", counts)
    assert len(set(counts.values())) == 1, counts
    assert next(iter(counts.values())) <= MAX_STATEMENTS, counts


def test_a_stored_page_is_the_page_its_transactions_give_and_its_totals_are_read(ctx, cw_live):
    partner_id, actor, customers = push_setup(cw_live, customers=3)
    live = PreviewCommand(actor, partner_id, page_size=200, lines=500).run()
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    stored = preview_row(preview_id)
    rows = PreviewRowsDAO.of_preview(preview_id)
    view = CatalogView.from_dict(stored.catalog)
    assert stored.lines_stored and stored.totals == live["totals"]
    groups = session().scalars(select(SyncPreviewGroup).where(SyncPreviewGroup.preview_id == preview_id)).all()
    assert len(groups) == live["groups"]["total"]

    def both(page: int, page_size: int, lines: int, selected=None) -> tuple[dict, dict]:
        data = PreviewDetailCommand(actor, preview_id, partner_id, page, page_size, lines).run()
        again = summarize(
            rows, view, page, page_size, lines, selected=selected, checker=stored_checker(partner_id, view, rows)
        )
        return {k: data[k] for k in ("totals", "groups")}, again

    for paging in ((1, 200, 500), (1, 1, 3), (2, 1, 0), (3, 1, 1), (4, 1, 20), (1, 2, 2)):
        assert both(*paging)[0] == both(*paging)[1], paging
    assert both(1, 200, 500)[0]["groups"] == live["groups"]  # the same lines as the live preview showed

    chosen = live["groups"]["result"][1]["agreement_id"]
    ApprovePreviewCommand(actor, preview_id, partner_id, [chosen])._approve()
    got, again = both(1, 200, 5, selected={chosen})
    assert got == again
    assert [g["selected"] for g in got["groups"]["result"]] == [
        g["agreement_id"] == chosen for g in live["groups"]["result"]
    ]
