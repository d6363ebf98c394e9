"""Packing ``in (...)`` lists into as few ConnectWise requests as the URL limit allows.

A batched read sends ``conditions=<field> in (v1,v2,...)``. Each value costs its encoded
length plus an encoded comma (``%2C``); a request holds at most ``capacity`` characters of
values and at most ``max_items`` values (ConnectWise's page size, so one page answers it).
That is bin packing with a comma before every value but the first, which is plain bin
packing once each value costs ``length + comma`` and each bin holds ``capacity + comma``.

``pack`` is first-fit decreasing, done per size class: values of one encoded length are
poured into the first requests that still have room, then into new ones. When all values
have one encoded length (ids of one digit count, the usual case) every request but the last
holds as many as can fit, which is the minimum. Otherwise every request but the last is
full to within one value, so the count is at most one above ``lower_bound`` (total length /
capacity) while count x longest value stays under capacity (some 140 requests of ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil
from typing import TypeVar

T = TypeVar("T")


def pack(items: Sequence[tuple[int, T]], capacity: int, separator: int, max_items: int) -> list[list[T]]:
    """Group ``(cost, value)`` pairs into bins of ``capacity`` (``separator`` between values), first-fit decreasing.

    :raises ValueError: when a single value is longer than ``capacity``.
    """
    by_cost: dict[int, list[T]] = {}
    for cost, value in items:
        by_cost.setdefault(cost + separator, []).append(value)
    room, size = capacity + separator, max(1, max_items)
    bins: list[list[T]] = []
    used: list[int] = []
    for cost in sorted(by_cost, reverse=True):
        if cost > room:
            raise ValueError(f"A value of {cost - separator} characters cannot fit in {capacity}.")
        values = by_cost[cost]
        for index, content in enumerate(bins):
            take = min((room - used[index]) // cost, size - len(content), len(values))
            content.extend(values[:take])
            used[index] += take * cost
            values = values[take:]
        while values:
            take = min(room // cost, size, len(values))
            bins.append(values[:take])
            used.append(take * cost)
            values = values[take:]
    return bins


def lower_bound(costs: Sequence[int], capacity: int, separator: int, max_items: int) -> int:
    """No packing of values with these costs can use fewer bins than this."""
    if not costs:
        return 0
    total = sum(costs) + separator * len(costs)
    return max(ceil(total / (capacity + separator)), ceil(len(costs) / max_items))
