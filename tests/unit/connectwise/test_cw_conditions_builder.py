"""The conditions builder quotes and escapes every value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from msphub_psa.connectwise import conditions as c
from msphub_psa.connectwise.sandbox.conditions import compile_condition


def test_literals():
    assert c.literal(None) == "null"
    assert c.literal(True) == "True" and c.literal(False) == "False"
    assert c.literal(42) == "42" and c.literal(Decimal("7.20")) == "7.20"
    assert c.literal(date(2025, 1, 2)) == "[2025-01-02T00:00:00Z]"
    assert c.literal(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) == "[2025-01-02T03:04:05Z]"
    with pytest.raises(ValueError):
        c.literal(datetime(2025, 1, 2))  # naive
    with pytest.raises(TypeError):
        c.literal(1.5)  # floats are not money


def test_hostile_string_is_quoted_and_escaped():
    assert str(c.eq("name", 'O\'Brien "IT" & Co')) == 'name = "O\'Brien \\"IT\\" & Co"'
    assert str(c.eq("name", "back\\slash")) == 'name = "back\\\\slash"'


def test_like_specials_are_bracketed_in_contains_only():
    assert str(c.contains("name", "100% *x* [a]_")) == 'name contains "100[%] [*]x[*] [[]a][_]"'
    assert str(c.eq("name", "100% [a]")) == 'name = "100% [a]"'
    assert str(c.like("name", "Acme%")) == 'name like "Acme%"'


def test_field_names_are_checked():
    for bad in ("name = 1 or id", "name)", "", "a//b", "1abc", 'na"me'):
        with pytest.raises(ValueError):
            c.eq(bad, 1)
    assert str(c.eq("company/id", 5)) == "company/id = 5"


def test_combinators_parenthesise():
    cond = (c.eq("a", 1) | c.eq("b", 2)) & c.ne("c", None)
    assert str(cond) == "((a = 1) or (b = 2)) and (c != null)"
    assert str(c.in_("status/id", [1, 42])) == "status/id in (1, 42)"
    assert str(c.not_in("status/id", [1])) == "status/id not in (1)"
    assert str(c.updated_since(datetime(2025, 1, 1, tzinfo=UTC))) == "lastUpdated > [2025-01-01T00:00:00Z]"
    with pytest.raises(ValueError):
        c.in_("id", [])


@pytest.mark.parametrize(
    "value",
    [
        'O\'Brien "IT" & Co',
        '" or id > 0 or name = "',
        "\\",
        '\\"',
        "x\\",
        "Café Müller",
        "[",
        "%",
        "*",
        "_",
        "a) or (b",
        "tab\tnew\nline",
        "😀",
    ],
)
def test_round_trip_through_the_sandbox_parser(value):
    """Whatever the value, the parsed condition matches exactly that value and nothing else."""
    known = {"name": "name"}.get
    eq = compile_condition(str(c.eq("name", value)), known)
    contains = compile_condition(str(c.contains("name", value)), known)
    assert eq({"name": value}) and not eq({"name": value + "x"}) and not eq({"name": "other"})
    assert contains({"name": f"pre{value}post"}) and not contains({"name": "other"})


def test_compact_lists_and_fold():
    assert str(c.in_("id", [1, 2, 3], compact=True)) == "id in (1,2,3)"
    assert str(c.not_in("identifier", ['a"b', "c"], compact=True)) == 'identifier not in ("a\\"b","c")'
    assert c.fold("ABC  ") == c.fold("abc") == "abc" and c.fold(" abc") != c.fold("abc")
    assert c.fold("STRASSE") == c.fold("Straße")
