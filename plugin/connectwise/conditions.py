"""Safe builder for ConnectWise ``conditions`` strings.

Values are always rendered as literals: strings in double quotes with ``\\`` and ``"``
backslash-escaped, so a company called ``O'Brien "IT" & Co`` can neither break nor extend a
condition. In ``contains``/``like`` the pattern characters ``% * _ [`` of a value are
bracket-escaped (``[%]``, ``[[]``) as in SQL Server's LIKE. Field names are checked against
``word(/word)*``. URL encoding is httpx's job (``params=``).

    >>> str(eq("name", 'O"Brien') & eq("deletedFlag", False))
    '(name = "O\\\\"Brien") and (deletedFlag = False)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*$")
_LIKE_SPECIALS = re.compile(r"([%*_\[])")

Value = str | int | Decimal | bool | date | datetime | None


class Condition:
    """A rendered condition; combine with ``&`` and ``|``."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def __and__(self, other: Condition) -> Condition:
        return and_(self, other)

    def __or__(self, other: Condition) -> Condition:
        return or_(self, other)


def field(name: str) -> str:
    """A checked field reference such as ``company/id``.

    :raises ValueError: when ``name`` is not a plain field path.
    """
    if not isinstance(name, str) or not _FIELD.match(name):
        raise ValueError(f"Invalid condition field name: {name!r}")
    return name


def format_datetime(value: date | datetime) -> str:
    """ConnectWise's UTC ``YYYY-MM-DDTHH:MM:SSZ`` (dates are midnight UTC)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        raise ValueError("Naive datetimes are ambiguous; pass an aware (UTC) datetime.")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def quote(text: str) -> str:
    """A double-quoted string literal with ``\\`` and ``"`` escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: Value) -> str:
    """Render a Python value as a condition literal.

    :raises TypeError: for values with no ConnectWise literal form.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (date, datetime)):
        return f"[{format_datetime(value)}]"
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"Cannot use a {type(value).__name__} in a condition")


def escape_like(text: str) -> str:
    """Make every character of ``text`` literal inside a like/contains pattern."""
    return _LIKE_SPECIALS.sub(r"[\1]", text)


def _compare(name: str, op: str, value: Value) -> Condition:
    """``field op literal``."""
    return Condition(f"{field(name)} {op} {literal(value)}")


def eq(name: str, value: Value) -> Condition:
    """``name = value`` (``= null`` for None)."""
    return _compare(name, "=", value)


def ne(name: str, value: Value) -> Condition:
    """``name != value``."""
    return _compare(name, "!=", value)


def lt(name: str, value: Value) -> Condition:
    """``name < value``."""
    return _compare(name, "<", value)


def le(name: str, value: Value) -> Condition:
    """``name <= value``."""
    return _compare(name, "<=", value)


def gt(name: str, value: Value) -> Condition:
    """``name > value``."""
    return _compare(name, ">", value)


def ge(name: str, value: Value) -> Condition:
    """``name >= value``."""
    return _compare(name, ">=", value)


def contains(name: str, text: str) -> Condition:
    """``name contains "text"`` with ``text`` matched literally."""
    return Condition(f"{field(name)} contains {quote(escape_like(text))}")


def like(name: str, pattern: str) -> Condition:
    """``name like "pattern"``; ``%``/``*`` in ``pattern`` are wildcards (see ``escape_like``)."""
    return Condition(f"{field(name)} like {quote(pattern)}")


def in_(name: str, values: Iterable[Value], *, compact: bool = False) -> Condition:
    """``name in (v1, v2, ...)``; ``compact`` drops the space after each comma (``(1,2,3)``).

    :raises ValueError: for an empty list, which ConnectWise cannot express.
    """
    rendered = [literal(v) for v in values]
    if not rendered:
        raise ValueError("in_() needs at least one value")
    return Condition(f"{field(name)} in ({(',' if compact else ', ').join(rendered)})")


def not_in(name: str, values: Iterable[Value], *, compact: bool = False) -> Condition:
    """``name not in (v1, v2, ...)``."""
    return Condition(in_(name, values, compact=compact).text.replace(" in (", " not in (", 1))


def fold(text: str) -> str:
    """How ConnectWise compares strings with ``=``/``in`` (SQL Server): letter case and trailing spaces ignored."""
    return text.casefold().rstrip(" ")


def updated_since(moment: datetime) -> Condition:
    """``lastUpdated > [moment]`` for incremental reads."""
    return gt("lastUpdated", moment)


def _join(op: str, conditions: tuple[Condition | str, ...]) -> Condition:
    """Parenthesised conjunction/disjunction of ``conditions``."""
    parts = [str(c) for c in conditions if c is not None and str(c)]
    if not parts:
        raise ValueError(f"{op} needs at least one condition")
    if len(parts) == 1:
        return Condition(parts[0])
    return Condition(f" {op} ".join(f"({p})" for p in parts))


def and_(*conditions: Condition | str) -> Condition:
    """All of ``conditions``."""
    return _join("and", conditions)


def or_(*conditions: Condition | str) -> Condition:
    """Any of ``conditions``."""
    return _join("or", conditions)
