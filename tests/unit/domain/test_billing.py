"""Billing: references, catalog identity, texts, the outbox, recovery and remap previews."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msphub_psa.domain.billing import (
    MAX_ADJUSTMENT_DESCRIPTION,
    MAX_DESCRIPTION,
    MAX_IDENTIFIER,
    MAX_INVOICE_DESCRIPTION,
    TRANSITIONS,
    MappingTarget,
    OutboxEvent,
    OutboxState,
    RecoveryAction,
    Transaction,
    TransactionState,
    adjustment_description,
    allowed_events,
    catalog_description,
    catalog_identifier,
    catalog_identifiers,
    customer_description,
    in_psa,
    invoice_description,
    net_amount,
    parse_reference,
    products_to_qualify,
    recovery_decision,
    reference,
    remap_preview,
    retry_event,
    transition,
)
from msphub_psa.domain.errors import IllegalTransitionError, PayloadError

JAN = (date(2026, 1, 1), date(2026, 1, 31))


def charge(tx_id=12, title="Microsoft 365 Business Basic", **changes):
    """A January charge."""
    values = dict(
        id=tx_id,
        kind="charge",
        period_start=JAN[0],
        period_end=JAN[1],
        quantity=Decimal("3"),
        unit_price=Decimal("12.5000"),
        unit_cost=Decimal("10.1000"),
        amount=Decimal("37.50"),
        product_title=title,
    )
    return Transaction(**{**values, **changes})


def credit(tx_id=13, title="Microsoft 365 Business Basic", amount=Decimal("12.34")):
    """A January credit."""
    return charge(tx_id, title, kind="credit", amount=amount)


# --- reference -------------------------------------------------------------------------


def test_reference_round_trip():
    assert reference(12) == "MSPHUB-T12"
    assert parse_reference("MSPHUB-T12") == 12


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Credit: Microsoft 365 (2026-01-01 to 2026-01-31) MSPHUB-T4711", 4711),
        ("edited by hand MSPHUB-T9 ", 9),
        ("LIC-42 MSPHUB-T77 x", 77),
        ("MSPHUB-T5 MSPHUB-T6", 6),
        ("MSPHUB-T123", 123),
        ("XMSPHUB-T12", None),
        ("MSPHUB-T12a", None),
        ("MSPHUB-T012", None),
        ("msphub-t12", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_reference(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("bad", [0, -1, True, "12", 1.0])
def test_reference_needs_a_positive_int(bad):
    with pytest.raises(ValueError):
        reference(bad)


@given(st.integers(1, 10**30))
def test_reference_always_parses_back_and_fits_a_serial_number(tx_id):
    assert parse_reference(f"note {reference(tx_id)}") == tx_id
    assert len(reference(tx_id)) <= 50  # ConnectWise's serialNumber


# --- catalog identity ---------------------------------------------------------------------


def test_identifier_is_the_product_id_unless_qualified():
    assert catalog_identifier(" CFQ7TTC0LH18:0001 ", "P1M", "monthly", False) == "CFQ7TTC0LH18:0001"
    assert catalog_identifier("CFQ7TTC0LH18:0001", "P1M", "monthly", True) == "CFQ7TTC0LH18:0001-P1M-monthly"
    assert catalog_identifier("ABC", None, "one_time", True) == "ABC-one_time"


def test_long_identifiers_are_shortened_deterministically_without_collisions():
    ids = [f"{'X' * 70}{i}" for i in range(2000)] + [f"{'X' * 70}{i}-P1Y-annual" for i in range(50)]
    shortened = [catalog_identifier(pid, "P1Y", "annual", False) for pid in ids]
    assert all(len(s) == MAX_IDENTIFIER for s in shortened)
    assert len(set(shortened)) == len(ids)
    assert shortened == [catalog_identifier(pid, "P1Y", "annual", False) for pid in ids]
    assert catalog_identifier("Y" * 60, None, None, False) == "Y" * 60


@given(
    st.text(min_size=1, max_size=120).filter(str.strip),
    st.sampled_from(["P1M", "P1Y", "P3Y"]),
    st.sampled_from(["monthly", "annual", "one_time"]),
    st.booleans(),
)
def test_identifier_always_fits(product_id, term, frequency, qualify):
    assert len(catalog_identifier(product_id, term, frequency, qualify)) <= MAX_IDENTIFIER


def test_empty_product_id_is_refused():
    with pytest.raises(PayloadError):
        catalog_identifier("  ", "P1M", "monthly", False)


def test_products_sold_on_several_terms_are_qualified():
    products = [
        ("NCE-1", "P1M", "monthly"),
        ("NCE-1", "P1Y", "annual"),
        ("NCE-1", "P1Y", "annual"),
        ("ADOBE-1", "P1Y", "annual"),
        ("NCE-2", "P1Y", "monthly"),
        ("NCE-2", "P1Y", "annual"),
    ]
    assert products_to_qualify(products) == {"NCE-1", "NCE-2"}
    identifiers = catalog_identifiers(products)
    assert identifiers[("ADOBE-1", "P1Y", "annual")] == "ADOBE-1"
    assert identifiers[("NCE-2", "P1Y", "monthly")] == "NCE-2-P1Y-monthly"
    assert len(set(identifiers.values())) == len(set(products))


def test_catalog_description_is_cut_with_an_ellipsis():
    long_title = "Microsoft 365 Business Premium and Office 365 Extra File Storage add-on"
    description = catalog_description(long_title)
    assert len(description) == MAX_DESCRIPTION and description.endswith("…")
    assert description.startswith("Microsoft 365 Business Premium")
    assert catalog_description("  Short   title\n") == "Short title"
    assert catalog_description("x" * 60) == "x" * 60
    assert customer_description(long_title) == long_title
    with pytest.raises(PayloadError):
        catalog_description("   ")


# --- texts ----------------------------------------------------------------------------------


def test_texts_name_the_product_and_period_and_the_credit_ends_with_the_reference():
    assert invoice_description(charge()) == "Microsoft 365 Business Basic (2026-01-01 to 2026-01-31)"
    assert (
        adjustment_description(credit()) == "Credit: Microsoft 365 Business Basic (2026-01-01 to 2026-01-31) MSPHUB-T13"
    )


def test_long_titles_are_cut_but_never_the_reference_or_period():
    title = "Very long product " * 500
    adjustment = adjustment_description(credit(tx_id=987654321, title=title))
    assert MAX_ADJUSTMENT_DESCRIPTION - 1 <= len(adjustment) <= MAX_ADJUSTMENT_DESCRIPTION
    assert adjustment.endswith("… (2026-01-01 to 2026-01-31) MSPHUB-T987654321")
    assert parse_reference(adjustment) == 987654321
    invoice = invoice_description(charge(title=title))
    assert len(invoice) <= MAX_INVOICE_DESCRIPTION and invoice.endswith("(2026-01-01 to 2026-01-31)")


# --- the outbox state machine ------------------------------------------------------------------

LEGAL = [
    ("pending", "attempt", "sending"),
    ("sending", "succeeded", "pushed"),
    ("sending", "permanent_error", "failed"),
    ("sending", "transient_error", "pending"),
    ("pending", "became_ineligible", "skipped"),
    ("skipped", "became_eligible", "pending"),
    ("failed", "retry", "pending"),
    ("pushed", "move_requested", "moving"),
    ("failed", "move_requested", "moving"),
    ("moving", "move_cancelled", "pushed"),
    ("removing", "move_cancelled", "pushed"),
    ("failed", "move_cancelled", "pushed"),
    ("moving", "remove_attempt", "removing"),
    ("removing", "removed", "pending"),
    ("removing", "remove_refused", "failed"),
    ("pushed", "recreate", "sending"),
    ("pending", "block", "blocked"),
    ("blocked", "unblock", "pending"),
    ("blocked", "retry", "pending"),
    ("blocked", "became_ineligible", "skipped"),
]


@pytest.mark.parametrize("state, event, expected", LEGAL)
def test_legal_transitions(state, event, expected):
    assert transition(state, event) == OutboxState(expected)


ILLEGAL = [(s, e) for s in OutboxState for e in OutboxEvent if (s, e) not in TRANSITIONS]


@pytest.mark.parametrize("state, event", ILLEGAL)
def test_every_other_transition_is_illegal(state, event):
    with pytest.raises(IllegalTransitionError) as caught:
        transition(state, event)
    assert state.value in str(caught.value) and event.value in str(caught.value)


def test_the_table_is_exactly_the_legal_list_and_pushed_is_terminal_but_for_move_and_recreate():
    assert {(s.value, e.value, t.value) for (s, e), t in TRANSITIONS.items()} == set(LEGAL)
    assert allowed_events("pushed") == {OutboxEvent.MOVE_REQUESTED, OutboxEvent.RECREATE}
    assert allowed_events("pending") == {OutboxEvent.ATTEMPT, OutboxEvent.BECAME_INELIGIBLE, OutboxEvent.BLOCK}


def test_a_move_removes_before_it_is_pending_again_and_never_skips_the_removal():
    # moving cannot go straight back to pending: our record must be removed from the old agreement first
    assert allowed_events("moving") == {OutboxEvent.REMOVE_ATTEMPT, OutboxEvent.MOVE_CANCELLED}
    assert allowed_events("removing") == {OutboxEvent.REMOVED, OutboxEvent.REMOVE_REFUSED, OutboxEvent.MOVE_CANCELLED}
    state = OutboxState.PUSHED
    for event in ("move_requested", "remove_attempt", "removed", "attempt", "succeeded"):
        state = transition(state, event)
    assert state == OutboxState.PUSHED


def test_a_refused_removal_is_failed_and_only_a_person_moves_it_on():
    state = transition(transition(transition("pushed", "move_requested"), "remove_attempt"), "remove_refused")
    assert state == OutboxState.FAILED
    assert retry_event(4711) == OutboxEvent.MOVE_REQUESTED and transition(state, retry_event(4711)) == "moving"
    assert retry_event(None) == OutboxEvent.RETRY and transition(state, retry_event(None)) == "pending"
    assert transition(state, "move_cancelled") == OutboxState.PUSHED


@pytest.mark.parametrize(
    "state, record, expected",
    [
        ("pushed", 1, True),
        ("moving", 1, True),
        ("removing", 1, True),
        ("failed", 1, True),
        ("failed", None, False),
        ("pending", None, False),
        ("sending", None, False),
        ("skipped", None, False),
    ],
)
def test_in_connectwise(state, record, expected):
    assert in_psa(state, record) is expected


def test_unknown_state_or_event_is_refused():
    with pytest.raises(ValueError):
        transition("done", "attempt")
    with pytest.raises(ValueError):
        transition("pending", "push")


# --- recovery ------------------------------------------------------------------------------------


def test_recovery_adopts_the_single_record():
    decision = recovery_decision(12, [(501, "MSPHUB-T12")])
    assert decision.action == RecoveryAction.ADOPT and decision.remote_id == 501


def test_recovery_creates_when_nothing_carries_the_reference():
    decision = recovery_decision(12, [(502, "MSPHUB-T123"), (503, None), (504, "hand-made")])
    assert decision.action == RecoveryAction.CREATE and decision.remote_ids == () and decision.remote_id is None


def test_recovery_flags_duplicates_and_never_picks_one():
    decision = recovery_decision(12, [(601, "MSPHUB-T12"), (600, "Credit: x MSPHUB-T12"), (601, "MSPHUB-T12")])
    assert (
        decision.action == RecoveryAction.CONFLICT and decision.remote_ids == (600, 601) and decision.remote_id is None
    )


# --- revenue --------------------------------------------------------------------------------------


def test_net_amount_is_charges_minus_credits():
    assert net_amount(
        [("charge", Decimal("100.00")), ("credit", Decimal("30.50")), ("credit", Decimal("-4.50"))]
    ) == Decimal("65.00")
    assert net_amount([]) == Decimal(0)
    with pytest.raises(TypeError):
        net_amount([("charge", 1.5)])


# --- remap preview -------------------------------------------------------------------------------


def tx(tx_id, month, state, kind="charge", amount="10", agreement=None, record=None):
    """A 2026 transaction of one month, in one outbox state."""
    end = date(2026, month, calendar.monthrange(2026, month)[1])
    return TransactionState(tx_id, date(2026, month, 1), end, kind, Decimal(amount), state, agreement, record)


def test_remap_preview_to_another_agreement():
    transactions = [
        tx(1, 1, "pushed"),
        tx(2, 2, "pushed"),
        tx(3, 3, "pending"),
        tx(4, 1, "pending"),
        tx(5, 4, "failed"),
        tx(6, 5, "skipped", "credit", "3"),
        tx(7, 6, "sending"),
    ]
    preview = remap_preview(transactions, MappingTarget(100, date(2026, 1, 1)), MappingTarget(200, date(2026, 2, 15)))
    assert preview.to_new == (3, 5, 6)
    assert preview.to_skip == (4,)
    assert preview.move_candidates == (2,)
    assert preview.in_flight == (7,)
    assert (preview.to_new_amount, preview.to_skip_amount, preview.move_amount) == (
        Decimal(17),
        Decimal(10),
        Decimal(10),
    )
    assert "already invoiced stay on those invoices: they must be credited there" in preview.warning
    assert "the agreement they were pushed to" in preview.warning and "the new agreement" in preview.warning
    named = remap_preview(
        transactions, MappingTarget(100, date(2026, 1, 1), "CSP A"), MappingTarget(200, date(2026, 2, 15), "CSP B")
    )
    assert "stay on agreement CSP A" in named.warning and "creates them on agreement CSP B" in named.warning
    assert "billed twice" in named.warning and "marked failed" in named.warning


def test_remap_preview_moving_and_refused_moves_are_in_connectwise_removing_is_in_flight():
    transactions = [
        tx(1, 3, "moving", agreement=100, record=7),
        tx(2, 3, "failed", agreement=100, record=8),
        tx(3, 3, "failed"),
        tx(4, 3, "removing", agreement=100, record=9),
        tx(5, 3, "pushed", agreement=200, record=10),
    ]
    preview = remap_preview(transactions, MappingTarget(300, date(2026, 1, 1)), MappingTarget(200, date(2026, 1, 1)))
    assert preview.move_candidates == (1, 2)  # on 100, going to 200; the one already on 200 stays
    assert preview.to_new == (3,) and preview.in_flight == (4,)
    back = remap_preview(transactions, MappingTarget(200, date(2026, 1, 1)), MappingTarget(100, date(2026, 1, 1)))
    assert back.move_candidates == (5,)  # back to the agreement they are on: only the one on 200 could move
    named = remap_preview(transactions, MappingTarget(300, date(2026, 1, 1), "C"), MappingTarget(200, date(2026, 1, 1)))
    assert "the agreement they were pushed to" in named.warning  # they are on 100, not on the current one (300)


def test_remap_preview_same_agreement_new_from_date_moves_nothing_pushed():
    transactions = [tx(1, 3, "pushed"), tx(2, 1, "skipped"), tx(3, 2, "pending")]
    preview = remap_preview(transactions, MappingTarget(100, date(2026, 3, 1)), MappingTarget(100, date(2026, 1, 20)))
    assert preview.to_new == (2, 3) and preview.to_skip == () and preview.move_candidates == ()
    assert preview.warning is None


def test_remap_preview_for_a_first_mapping():
    preview = remap_preview([tx(1, 1, "skipped"), tx(2, 2, "pushed")], None, MappingTarget(100, date(2026, 2, 1)))
    assert preview.to_skip == (1,) and preview.move_candidates == () and preview.warning is None
