"""Hostile names end to end: exactly the one company is found, nothing is injected."""

from __future__ import annotations

import pytest

from msphub_psa.connectwise import conditions as c

HOSTILE = [
    'O\'Brien "IT" & Co',
    "Café Müller GmbH",
    "100% Uptime *Networks*",
    "Bracket [Test] Ltd",
    "Smith & Sons Plumbing",
    "Ærø Shipping ApS",
    "Fabrikam, Inc.",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_exact_name_finds_exactly_one(cw_live_client, name):
    assert [x.name for x in cw_live_client.iter_companies(c.eq("name", name))] == [name]


@pytest.mark.parametrize("name", HOSTILE)
def test_contains_is_literal(cw_live_client, name):
    assert [x.name for x in cw_live_client.iter_companies(c.contains("name", name))] == [name]


@pytest.mark.parametrize("attack", ['" or name like "%', "' or 1=1 or name = '", 'x") or (id > 0', "%", "*", "[", "_"])
def test_injection_attempts_match_nothing(cw_live_client, attack):
    assert list(cw_live_client.iter_companies(c.eq("name", attack))) == []
    assert list(cw_live_client.iter_companies(c.contains("name", attack + "zz"))) == []


def test_conditions_match_case_insensitively_like_sql_server(cw_live_client):
    names = [x.name for x in cw_live_client.iter_companies(c.eq("name", "acme corporation"))]
    assert sorted(names) == ["ACME Corporation", "Acme Corporation"]


def test_child_conditions_and_count(cw_live_client, cw_live):
    companies = list(cw_live_client.iter_companies(child_conditions=c.eq("types/name", "Client")))
    assert len(companies) == 20
    assert cw_live_client.count_companies(c.eq("deletedFlag", False)) == 19
