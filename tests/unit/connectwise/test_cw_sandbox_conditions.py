"""The sandbox's conditions parser and evaluator."""

from __future__ import annotations

import pytest

from msphub_psa.connectwise.sandbox.conditions import ConditionError, compile_condition, like_regex
from msphub_psa.connectwise.sandbox.resources import RESOURCES

COMPANIES = RESOURCES["companies"]
ACME = {
    "id": 5,
    "name": "Acme Corp",
    "identifier": "Acme5",
    "deletedFlag": False,
    "status": {"id": 1, "name": "Active"},
    "types": [{"id": 1, "name": "Client"}, {"id": 3, "name": "Vendor"}],
    "city": None,
    "_info": {"lastUpdated": "2025-03-01T10:00:00Z"},
}


def matches(text: str, record: dict = ACME) -> bool:
    """Evaluate ``text`` against a company record."""
    return compile_condition(text, COMPANIES.known)(record)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("id = 5", True),
        ("id != 5", False),
        ("id < 6", True),
        ("id <= 5", True),
        ("id > 5", False),
        ("id >= 5", True),
        ("id=5", True),
        ('name = "Acme Corp"', True),
        ("name = 'acme corp'", True),
        ('name != "Acme Corp"', False),
        ('name like "Acme%"', True),
        ('name like "acme*"', True),
        ('name like "Acm_ Corp"', True),
        ('name like "Corp%"', False),
        ('name contains "me co"', True),
        ('name not contains "x"', True),
        ('name not like "A%"', False),
        ("id in (1, 5, 9)", True),
        ("id not in (1, 5)", False),
        ('name in ("x", "acme corp")', True),
        ("deletedFlag = False", True),
        ("deletedFlag = true", False),
        ("city = null", True),
        ("city != null", False),
        ("name != null", True),
        ('city = "x"', False),
        ('city != "x"', False),  # SQL null semantics
        ("lastUpdated > [2025-01-01T00:00:00Z]", True),
        ("lastUpdated < [2025-01-01T00:00:00Z]", False),
        ("_info/lastUpdated >= [2025-03-01T10:00:00Z]", True),
        ("status/id = 1", True),
        ('Status/Name = "active"', True),
        ("STATUS/ID=2", False),
        ("types/id = 3", True),
        ('types/name = "Prospect"', False),
        ('NAME = "acme corp" AND id = 5', True),
        ("id = 1 Or id = 5", True),
    ],
)
def test_operators(text, expected):
    assert matches(text) is expected


def test_precedence_and_parentheses():
    assert matches("id = 5 or id = 1 and deletedFlag = True") is True  # and binds tighter
    assert matches("(id = 5 or id = 1) and deletedFlag = True") is False
    assert matches("id = 1 or (id = 5 and deletedFlag = False)") is True
    assert matches("not (id = 1)") is True
    assert matches("((((id = 5))))") is True


def test_escapes_in_strings():
    record = {**ACME, "name": 'O\'Brien "IT" & Co \\ x'}
    assert matches(r'name = "O\'Brien \"IT\" & Co \\ x"', record)
    assert matches(r"name = 'O\'Brien \"IT\" & Co \\ x'", record)
    assert matches(r'name contains "\"IT\""', record)


def test_bracket_sets_in_like():
    assert like_regex("[[]x]").fullmatch("[x]")
    assert like_regex("100[%]").fullmatch("100%") and not like_regex("100[%]").fullmatch("1000")
    assert like_regex("[a-c]x").fullmatch("bx") and not like_regex("[^a-c]x").fullmatch("bx")


@pytest.mark.parametrize("text", ["typeids = 1", "nosuch/id = 2", 'Name2 = "x"'])
def test_unknown_field(text):
    with pytest.raises(ConditionError, match="is not a recognized name"):
        matches(text)


@pytest.mark.parametrize(
    "text",
    [
        'name = "unclosed',
        "id = ",
        "id 5",
        "(id = 5",
        "id = 5)",
        "id = 5 and",
        "id in ()",
        "id > null",
        'id = 5 "x"',
        "id = [not a date]",
        "name like 5",
    ],
)
def test_syntax_errors(text):
    with pytest.raises(ConditionError):
        matches(text)


def test_empty_condition_is_no_filter():
    assert compile_condition("", COMPANIES.known) is None
    assert compile_condition("   ", COMPANIES.known) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ('identifier = "ACME5"', True),
        ('identifier != "acme5"', False),
        ('name = "aCmE cORP"', True),
        ('name in ("x", "ACME CORP")', True),
        ('name not in ("acme corp")', False),
        ('name not in ("x")', True),
        ('name contains "ME CO"', True),
        ('name not contains "me co"', False),
        ('name like "ACME%"', True),
        ('name not like "a%"', False),
        ('identifier > "ACME4"', True),
        ('identifier < "acme6"', True),
        ('name = "Acme Corp   "', True),
        ('name in ("ACME CORP ")', True),  # trailing spaces pad, as in SQL Server
        ('name like "Acme Corp "', False),
        ('name contains "Corp "', False),  # ...but not in like/contains
        ('name = " Acme Corp"', False),
        ('name = "Ácme Corp"', False),  # leading spaces and accents count
    ],
)
def test_string_comparisons_ignore_case_like_sql_server(text, expected):
    assert matches(text) is expected


def test_negated_tests_do_not_match_null_like_sql():
    for text in ('city not in ("x")', 'city not like "x%"', 'city not contains "x"'):
        assert matches(text) is False
    assert matches('city not in ("x")', {**ACME, "city": "Springfield"}) is True


def test_full_case_folding():
    record = {**ACME, "name": "Straße"}
    assert matches('name = "STRASSE"', record)
