"""The read-back's comparison: each kind of finding, its money at stake, and a clean ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from msphub_psa.domain.assurance import AgreementState, Code, Line, Sent, compare, drift_total

D = Decimal
JAN, JAN_END = dt.date(2026, 1, 1), dt.date(2026, 1, 31)


def charge(tx=1, record=101, agreement=7, qty="2", price="10", product=5, start=JAN, end=JAN_END, ref=True):
    return Line("charge", agreement, tx if ref else None, record, product, D(qty), D(price), D("8"), None, start, end)


def credit(tx=2, record=201, agreement=7, amount="-5"):
    return Line("credit", agreement, tx, record, amount=D(amount), period_start=JAN)


def sent(line: Line) -> Sent:
    return Sent(line.transaction_id, line.transaction_id, f"MSPHUB-T{line.transaction_id}", 7, line.record_id, line)


OPEN = {7: AgreementState(7)}


def test_clean_when_the_psa_holds_what_we_sent():
    assert compare([sent(charge()), sent(credit())], {7: [charge(), credit()]}, OPEN) == []


def test_missing_record_is_found_with_its_value():
    [finding] = compare([sent(charge()), sent(credit())], {7: [credit()]}, OPEN)
    assert finding.code == Code.MISSING and finding.amount == D("20") and finding.held is None
    assert finding.sent["quantity"] == "2" and finding.transaction_id == 1


def test_edited_quantity_shows_before_after_and_difference():
    [finding] = compare([sent(charge())], {7: [charge(qty="3")]}, OPEN)
    assert finding.code == Code.EDITED and finding.changed == ("quantity",)
    assert (finding.sent["quantity"], finding.held["quantity"]) == ("2", "3") and finding.amount == D("10")


def test_edited_dates_only_put_the_whole_value_at_stake():
    [finding] = compare([sent(charge())], {7: [charge(end=dt.date(2026, 1, 15))]}, OPEN)
    assert finding.changed == ("period_end",) and finding.amount == D("20")


def test_accepted_values_are_no_longer_an_edit():
    held = charge(qty="3")
    assert compare([sent(charge())], {7: [held]}, OPEN, accepted={1: held.values()}) == []


def test_reference_edited_away_is_an_edit_not_a_double():
    [finding] = compare([sent(charge())], {7: [charge(ref=False)]}, OPEN)
    assert finding.code == Code.EDITED and finding.changed == ("reference",)


def test_cancelled_agreement_under_a_running_period():
    states = {7: AgreementState(7, cancelled=True, date_cancelled=dt.date(2026, 1, 10))}
    [finding] = compare([sent(charge())], {7: [charge()]}, states)
    assert finding.code == Code.MOVED_OR_CANCELLED and finding.amount == D("20")


def test_agreement_ended_after_our_period_is_fine():
    states = {7: AgreementState(7, end_date=dt.date(2026, 2, 28))}
    assert compare([sent(charge())], {7: [charge()]}, states) == []


def test_record_on_another_agreement():
    [finding] = compare([sent(charge())], {7: [], 8: [charge(agreement=8)]}, {**OPEN, 8: AgreementState(8)})
    assert finding.code == Code.MOVED_OR_CANCELLED and finding.agreement_id == 8


def test_possible_double_billing_same_product_overlapping():
    theirs = charge(tx=None, record=999, qty="1", price="12", ref=False, start=dt.date(2026, 1, 20), end=None)
    other_product = charge(tx=None, record=998, product=6, ref=False)
    later = charge(tx=None, record=997, ref=False, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))
    [finding] = compare([sent(charge())], {7: [charge(), theirs, other_product, later]}, OPEN)
    assert finding.code == Code.DOUBLE_BILLING and finding.record_id == 999 and finding.amount == D("12")


def test_orphan_reference_unknown_to_the_ledger_and_second_copy():
    stranger = charge(tx=42, record=500)
    copy = charge(record=501)
    findings = compare([sent(charge())], {7: [charge(), stranger, copy]}, OPEN, known=[1])
    assert sorted((f.code, f.record_id) for f in findings) == [(Code.ORPHAN, 500), (Code.ORPHAN, 501)]


def test_reference_known_but_not_pushed_is_no_orphan():
    assert compare([], {7: [charge(tx=3, record=300)]}, OPEN, known=[3]) == []


def test_drift_total():
    findings = compare([sent(charge()), sent(credit())], {7: []}, OPEN)
    assert drift_total(findings) == (2, D("25"))


def test_month_amount_prorates_by_days_half_up_like_the_sandbox():
    from msphub_psa.domain.assurance import month_amount

    march = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    whole = charge(qty="3", price="7.20", start=march[0], end=march[1])
    late = charge(qty="2", price="10", start=dt.date(2025, 3, 11), end=None)
    early = charge(qty="1", price="9.99", start=dt.date(2025, 2, 1), end=dt.date(2025, 3, 10))
    refund = Line("credit", 7, 2, 9, amount=D("-5"), period_start=dt.date(2025, 3, 15))
    assert [month_amount(x, *march) for x in (whole, late, early, refund)] == [
        D("21.60"),
        D("13.55"),
        D("3.22"),
        D("-5.00"),
    ]


def test_invoice_under_and_over_and_equal():
    from msphub_psa.domain.assurance import InvoiceSeen, invoice_findings

    ours = {7: [charge()]}  # 2 x 10 for January
    theirs = {7: [charge(tx=None, record=900, qty="1", price="4", ref=False, end=None)]}
    invoices = [
        InvoiceSeen(7, "202601-7", dt.date(2026, 1, 31), D("24")),
        InvoiceSeen(7, "202602-7", dt.date(2026, 2, 28), D("4")),  # expected 4: theirs runs on, ours ended
        InvoiceSeen(8, "202601-8", dt.date(2026, 1, 31), D("3")),  # nothing expected
    ]
    [over] = invoice_findings(invoices, ours, theirs)
    assert over.code == Code.OVER_INVOICED and over.amount == D("3") and over.agreement_id == 8
    [under] = invoice_findings([InvoiceSeen(7, "202601-7", dt.date(2026, 1, 31), D("4"))], ours, theirs)
    assert under.code == Code.UNDER_INVOICED and under.amount == D("20") and under.sent["expected"] == "24.00"
