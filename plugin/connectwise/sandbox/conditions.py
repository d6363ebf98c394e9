"""Parser and evaluator for ConnectWise ``conditions`` / ``childConditions`` strings.

Grammar (keywords and field names case-insensitive)::

    expr    := and ( OR and )*
    and     := unary ( AND unary )*
    unary   := NOT unary | '(' expr ')' | field op value | field [NOT] IN '(' value, ... ')'
    op      := = | != | < | <= | > | >= | [NOT] LIKE | [NOT] CONTAINS
    value   := "str" | 'str' (backslash escapes) | number | True | False | null | [datetime]

Semantics follow SQL Server's default collation (case-insensitive, accent-sensitive), which
ConnectWise runs on: every string comparison (``= != < <= > >= in``, ``not in``, ``contains``,
``like``) ignores letter case (Python's ``casefold``), and ``=``/``!=``/``<``/``in`` ignore
trailing spaces as SQL Server's padded comparison does (``like``/``contains`` do not: their
trailing spaces are significant, as for SQL Server's Unicode LIKE). ``null`` only matches
``= null``/``!= null``, ``like``/``contains`` patterns use ``%``/``*`` (any run), ``_`` (one
char) and ``[...]`` (a character set, so ``[[]`` is a literal ``[``). A path through a list
(``types/id``) matches when any element does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<dt>\[[^\]]*\])
      | (?P<num>-?\d+(?:\.\d+)?)(?![A-Za-z_])
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")
_ALIASES = {
    "lastupdated": "_info/lastUpdated",
    "dateentered": "_info/dateEntered",
    "updatedby": "_info/updatedBy",
    "enteredby": "_info/enteredBy",
}
_SUBKEYS = {
    k.lower(): k for k in ("id", "name", "identifier", "type", "lastUpdated", "dateEntered", "updatedBy", "enteredBy")
}


class ConditionError(ValueError):
    """A condition ConnectWise would refuse (400 ``ApiFindCondition``)."""


class _Null:
    """The ``null`` literal."""


NULL = _Null()


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split a condition into ``(kind, text)`` tokens.

    :raises ConditionError: on an unexpected character or an unclosed string.
    """
    tokens, pos, text = [], 0, text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ConditionError(f"Unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def parse_datetime(text: str) -> datetime:
    """Parse an ISO datetime (``Z`` or offset; naive means UTC).

    :raises ValueError: when it is not a datetime.
    """
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Parser:
    """Recursive-descent parser producing a predicate."""

    def __init__(self, text: str, fields: Callable[[str], tuple[str, ...]]) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.resolve = fields

    def peek(self, offset: int = 0) -> tuple[str, str]:
        """The token ``offset`` ahead, or ``("end", "")``."""
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def keyword(self, *words: str) -> bool:
        """Consume the next token when it is one of the keywords ``words``."""
        kind, text = self.peek()
        if kind == "word" and text.lower() in words:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        """Consume punctuation ``text``.

        :raises ConditionError: when it is not there.
        """
        if self.peek()[1] != text:
            raise ConditionError(f"Expected {text!r} but found {self.peek()[1] or 'end'!r}")
        self.pos += 1

    def parse(self) -> Predicate:
        """The whole condition."""
        predicate = self.expr()
        if self.peek()[0] != "end":
            raise ConditionError(f"Unexpected {self.peek()[1]!r}")
        return predicate

    def expr(self) -> Predicate:
        """``and (OR and)*``."""
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        """``unary (AND unary)*``."""
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        """Negation, a parenthesised expression, or a comparison."""
        if self.keyword("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek()[1] == "(":
            self.pos += 1
            inner = self.expr()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        """``field op value``."""
        kind, name = self.peek()
        if kind != "word":
            raise ConditionError(f"Expected a field name but found {name or 'end'!r}")
        self.pos += 1
        getter = _getter(self.resolve(name))
        negate = self.keyword("not")
        kind, op = self.peek()
        if kind == "op" and not negate:
            self.pos += 1
            return _compare(getter, op, self.value())
        if self.keyword("like", "contains", "in"):
            return self.pattern(getter, self.tokens[self.pos - 1][1].lower(), negate)
        raise ConditionError(f"Expected an operator after {name!r}")

    def pattern(self, getter: Callable[[dict], list], op: str, negate: bool) -> Predicate:
        """``like``/``contains``/``in`` with optional ``not``."""
        if op == "in":
            test = _in(getter, self.value_list())
        else:
            value = self.value()
            if not isinstance(value, str):
                raise ConditionError(f"{op} needs a string value")
            test = _like(getter, f"%{value}%" if op == "contains" else value)
        if not negate:
            return test
        return lambda r: any(v is not None for v in getter(r)) and not test(r)  # SQL: NOT on null is not true

    def value_list(self) -> list[Any]:
        """``( value, value, ... )``."""
        self.expect("(")
        values = [self.value()]
        while self.peek()[1] == ",":
            self.pos += 1
            values.append(self.value())
        self.expect(")")
        return values

    def value(self) -> Any:
        """One literal.

        :raises ConditionError: when the next token is not a literal.
        """
        kind, text = self.peek()
        self.pos += 1
        if kind == "str":
            return _ESCAPE.sub(r"\1", text[1:-1])
        if kind == "num":
            return Decimal(text)
        if kind == "dt":
            try:
                return parse_datetime(text[1:-1])
            except ValueError:
                raise ConditionError(f"Invalid datetime {text}") from None
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind == "word" and text.lower() == "null":
            return NULL
        raise ConditionError(f"Expected a value but found {text or 'end'!r}")


def _getter(path: tuple[str, ...]) -> Callable[[dict], list]:
    """A function returning every value at ``path`` (lists are flattened)."""

    def get(record: dict) -> list:
        current = [record]
        for segment in path:
            found = []
            for item in current:
                for element in item if isinstance(item, list) else [item]:
                    if isinstance(element, dict):
                        found.append(_lookup(element, segment))
            current = found
        return [v for item in current for v in (item if isinstance(item, list) else [item])] or [None]

    return get


def _lookup(data: dict, key: str) -> Any:
    """``data[key]``, falling back to a case-insensitive match."""
    if key in data:
        return data[key]
    lowered = key.lower()
    return next((v for k, v in data.items() if k.lower() == lowered), None)


def _normalise(value: Any, like: Any) -> Any:
    """Coerce a record value toward the literal's type; None when impossible."""
    if value is None or isinstance(like, _Null):
        return value
    try:
        if isinstance(like, bool):
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if isinstance(like, Decimal):
            return Decimal(str(value)) if not isinstance(value, bool) else Decimal(int(value))
        if isinstance(like, datetime):
            return parse_datetime(str(value))
    except (InvalidOperation, ValueError):
        return None
    return text_key(str(value))


def text_key(text: str) -> str:
    """How SQL Server's default collation compares a string: case-insensitive, trailing spaces ignored."""
    return text.casefold().rstrip(" ")


def _literal(value: Any) -> Any:
    """Comparable form of a literal (strings as ``text_key``)."""
    return text_key(value) if isinstance(value, str) else value


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare(getter: Callable[[dict], list], op: str, literal: Any) -> Predicate:
    """Predicate for ``field op literal`` (SQL null semantics)."""
    if isinstance(literal, _Null):
        if op not in ("=", "!="):
            raise ConditionError("null can only be compared with = or !=")
        want_null = op == "="
        return lambda r: any((v is None) == want_null for v in getter(r))
    target, fn = _literal(literal), _OPS[op]

    def test(record: dict) -> bool:
        for value in getter(record):
            value = _normalise(value, literal)
            try:
                if value is not None and fn(value, target):
                    return True
            except TypeError:
                continue
        return False

    return test


def _in(getter: Callable[[dict], list], literals: Iterable[Any]) -> Predicate:
    """Predicate for ``field in (...)``: one set look-up per kind of literal (a list may hold 1,000)."""
    groups: dict[type, tuple[Any, set[Any]]] = {}
    for lit in literals:
        if isinstance(lit, _Null):
            continue  # SQL: x in (null) is never true
        groups.setdefault(type(lit), (lit, set()))[1].add(_literal(lit))

    def test(record: dict) -> bool:
        for value in getter(record):
            for sample, keys in groups.values():
                if value is not None and _normalise(value, sample) in keys:
                    return True
        return False

    return test


def like_regex(pattern: str) -> re.Pattern[str]:
    """Translate a SQL Server LIKE pattern (plus ``*``) into a regex."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        end = pattern.find("]", i + 2) if char == "[" else -1
        if char in "%*":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif end != -1:
            body = pattern[i + 1 : end]
            negated = body.startswith("^") and len(body) > 1
            body = body[1:] if negated else body
            out.append(
                ("[^" if negated else "[")
                + "".join("-" if c == "-" and 0 < k < len(body) - 1 else re.escape(c) for k, c in enumerate(body))
                + "]"
            )
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _like(getter: Callable[[dict], list], pattern: str) -> Predicate:
    """Predicate for ``field like pattern``."""
    regex = like_regex(pattern.casefold())
    return lambda r: any(v is not None and regex.fullmatch(str(v).casefold()) for v in getter(r))


def compile_condition(text: str | None, known: Callable[[str], str | None]) -> Predicate | None:
    """Compile a condition; ``known(lowercase_name)`` gives a field's real name or None.

    :raises ConditionError: on a syntax error or an unknown field.
    """
    if not text or not text.strip():
        return None
    return _Parser(text, lambda name: resolve_path(name, known)).parse()


def resolve_path(name: str, known: Callable[[str], str | None]) -> tuple[str, ...]:
    """Canonical path segments of a field reference.

    :raises ConditionError: ``X is not a recognized name.`` for unknown fields.
    """
    head, *rest = name.split("/")
    alias = _ALIASES.get(head.lower())
    if alias and not known(head.lower()):
        return tuple(alias.split("/")) + tuple(_SUBKEYS.get(s.lower(), s) for s in rest)
    real = known(head.lower())
    if real is None:
        raise ConditionError(f"{name} is not a recognized name.")
    return (real, *(_SUBKEYS.get(s.lower(), s) for s in rest))
