"""Packing ``in (...)`` values into requests: every request fits, no value is lost, few requests."""

from __future__ import annotations

import random

import pytest

from msphub_psa.connectwise.batching import lower_bound, pack


def check(bins, items, capacity, separator, max_items):
    """Every value once, every bin within its capacity and its item count."""
    assert sorted(v for b in bins for v in b) == sorted(v for _, v in items)
    cost = dict((v, c) for c, v in items)
    for content in bins:
        assert 0 < len(content) <= max_items
        assert sum(cost[v] for v in content) + separator * (len(content) - 1) <= capacity


@pytest.mark.parametrize("digits", [1, 4, 6, 9])
def test_values_of_one_length_fill_every_request_but_the_last(digits):
    values = list(range(10 ** (digits - 1), 10 ** (digits - 1) + 2000))[: 9 if digits == 1 else 2000]
    items = [(len(str(v)), v) for v in values]
    bins = pack(items, 1889, 3, 1000)
    check(bins, items, 1889, 3, 1000)
    per_request = min((1889 + 3) // (digits + 3), 1000)  # no request can hold more than this
    assert len(bins) == -(-len(values) // per_request)


def test_mixed_lengths_reach_the_lower_bound():
    items = [(len(str(v)), v) for v in range(1, 2001)]
    bins = pack(items, 1889, 3, 1000)
    check(bins, items, 1889, 3, 1000)
    assert len(bins) == lower_bound([c for c, _ in items], 1889, 3, 1000) == 7


def test_random_lengths_stay_within_one_of_the_lower_bound():
    rng = random.Random(7)
    items = [(rng.randint(3, 80), f"v{i}") for i in range(3000)]
    bins = pack(items, 1900, 3, 1000)
    check(bins, items, 1900, 3, 1000)
    assert len(bins) <= lower_bound([c for c, _ in items], 1900, 3, 1000) + 1


def test_the_item_limit_binds_when_values_are_short():
    items = [(1, i) for i in range(2500)]
    bins = pack(items, 100_000, 1, 1000)
    check(bins, items, 100_000, 1, 1000)
    assert [len(b) for b in bins] == [1000, 1000, 500]


def test_a_value_longer_than_a_request_is_refused_and_nothing_is_packed_for_none():
    with pytest.raises(ValueError):
        pack([(5, "a"), (2000, "b")], 1000, 3, 1000)
    assert pack([], 1000, 3, 1000) == [] and lower_bound([], 1000, 3, 1000) == 0
