"""List queries of the sandbox: conditions, orderBy, fields, navigable and forward-only paging."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any
from urllib.parse import quote, urlencode

from .conditions import ConditionError, Predicate, compile_condition
from .resources import Record, Resource, field_error
from .store import Store

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000


class BadQuery(Exception):
    """A list query ConnectWise refuses (400); carries the error body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.body = body


@dataclass
class Page:
    """One page of results and its Link header (None = no header)."""

    items: list[Record]
    link: str | None


def _int_arg(args: Mapping[str, str], name: str, default: int) -> int:
    """An integer query parameter.

    :raises BadQuery: when it is not an integer.
    """
    try:
        return int(args.get(name, default))
    except ValueError:
        raise BadQuery(
            {"code": "InvalidObject", "message": f"The value for {name} is not valid.", "errors": None}
        ) from None


def page_size_arg(args: Mapping[str, str]) -> int:
    """``pageSize``: default 25, capped at 1000, refused below 1."""
    size = _int_arg(args, "pagesize", DEFAULT_PAGE_SIZE)
    if size < 1:
        raise BadQuery(
            {
                "code": "InvalidObject",
                "message": "pageSize object is invalid",
                "errors": [
                    field_error(
                        "OutOfRange",
                        f"The field pageSize must be between 1 and {MAX_PAGE_SIZE}.",
                        "pageSize",
                        "pageSize",
                    )
                ],
            }
        )
    return min(size, MAX_PAGE_SIZE)


def predicate(resource: Resource, args: Mapping[str, str]) -> Predicate | None:
    """``conditions`` and ``childConditions`` combined.

    :raises BadQuery: ``ApiFindCondition`` for a bad condition.
    """
    try:
        tests = [
            p for p in (compile_condition(args.get(k), resource.known) for k in ("conditions", "childconditions")) if p
        ]
    except ConditionError as exc:
        raise BadQuery({"code": "ApiFindCondition", "message": str(exc), "errors": None}) from None
    if len(tests) < 2:
        return tests[0] if tests else None
    return lambda r: tests[0](r) and tests[1](r)


def order_keys(resource: Resource, text: str | None) -> list[tuple[tuple[str, ...], bool]]:
    """Parse ``orderBy`` (``name asc, id desc``) into (path, descending) pairs.

    :raises BadQuery: for an unknown field.
    """
    keys = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        head = resource.known(words[0].split("/")[0].lower())
        if head is None or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise BadQuery(
                {"code": "InvalidObject", "message": f"orderBy {part.strip()!r} is not valid.", "errors": None}
            )
        keys.append(((head, *words[0].split("/")[1:]), len(words) == 2 and words[1].lower() == "desc"))
    return keys


def _sort_value(record: Record, path: tuple[str, ...]) -> tuple[int, Any]:
    """Sortable value at ``path`` (nulls first, strings case-insensitive)."""
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return (0, "")
    return (1, value.casefold()) if isinstance(value, str) else (2, value)


def sort_records(items: list[Record], keys: list[tuple[tuple[str, ...], bool]]) -> list[Record]:
    """Stable multi-key sort."""
    for path, descending in reversed(keys):
        items.sort(key=lambda r: _sort_value(r, path), reverse=descending)
    return items


def project(record: Record, fields: str | None) -> Record:
    """Partial response for ``fields=id,name,status/id``."""
    if not fields:
        return record
    out: Record = {}
    for path in (p.strip() for p in fields.split(",") if p.strip()):
        source, target, keys = record, out, path.split("/")
        for key in keys[:-1]:
            source = source.get(key) if isinstance(source, dict) else None
            target = target.setdefault(key, {})
        if isinstance(source, dict) and keys[-1] in source:
            target[keys[-1]] = source[keys[-1]]
    return out


def _url(base: str, args: Mapping[str, str], last_key: str, last_value: int) -> str:
    """``base`` with the query, the page parameter last (as ConnectWise does)."""
    kept = [(k, v) for k, v in args.items() if k.lower() not in ("page", "pageid")]
    query = urlencode(kept + [(last_key, str(last_value))], quote_via=quote)
    return f"{base}?{query}"


def navigable_link(base: str, args: Mapping[str, str], page: int, last: int) -> str | None:
    """Link header for page ``page`` of ``last``; None for a single page."""
    if last <= 1:
        return None
    rels = []
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels += [("prev", page - 1), ("first", 1)]
    return ", ".join(f'<{_url(base, args, "page", n)}>; rel="{rel}"' for rel, n in rels)


def _matches(
    store: Store, account: str, resource: Resource, parent: int | None, test: Predicate | None, after: int = 0
) -> Iterator[Record]:
    """Records (of a parent) matching ``test``, in id order."""
    records = store.scan(account, resource.name, parent, after)
    return records if test is None else (r for r in records if test(r))


def forward_page(
    store: Store,
    account: str,
    resource: Resource,
    parent: int | None,
    args: Mapping[str, str],
    base: str,
    raw_args: Mapping[str, str],
) -> Page:
    """Forward-only paging: ``id > pageId``, id order, Link always present (empty at the end)."""
    if args.get("orderby"):
        raise BadQuery(
            {
                "code": "InvalidObject",
                "errors": None,
                "message": "orderBy is not supported with forward-only pagination.",
            }
        )
    size, test = page_size_arg(args), predicate(resource, args)
    after = _int_arg(args, "pageid", 0)
    if test is None:
        items = store.slice(account, resource.name, parent, 0, size + 1, after)
    else:
        items = list(islice(_matches(store, account, resource, parent, test, after), size + 1))
    more, items = len(items) > size, items[:size]
    link = f'<{_url(base, raw_args, "pageId", items[-1]["id"])}>; rel="next"' if more else ""
    return Page(items, link)


def navigable_page(
    store: Store,
    account: str,
    resource: Resource,
    parent: int | None,
    args: Mapping[str, str],
    base: str,
    raw_args: Mapping[str, str],
) -> Page:
    """Page ``page`` (1-based) after filtering and ordering."""
    size, test = page_size_arg(args), predicate(resource, args)
    keys, page = order_keys(resource, args.get("orderby")), _int_arg(args, "page", 1)
    if page < 1:
        raise BadQuery({"code": "InvalidObject", "message": "page must be 1 or more.", "errors": None})
    start = (page - 1) * size
    if test is None and not keys:
        total = store.count(account, resource.name, parent)
        items = store.slice(account, resource.name, parent, start, size)
    else:
        matches = sort_records(list(_matches(store, account, resource, parent, test)), keys)
        total, items = len(matches), matches[start : start + size]
    return Page(items, navigable_link(base, raw_args, page, max(1, -(-total // size))))


def count(store: Store, account: str, resource: Resource, parent: int | None, args: Mapping[str, str]) -> int:
    """``/count`` with the same conditions."""
    test = predicate(resource, args)
    if test is None:
        return store.count(account, resource.name, parent)
    return sum(1 for _ in _matches(store, account, resource, parent, test))
