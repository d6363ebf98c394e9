"""Product classification rules ("Configure Product Defaults" in the user guide).

A custom :class:`Rule` has a priority, one or more :class:`Condition` (all must hold)
and the :class:`Attributes` it gives a product in ConnectWise (category, subcategory,
type, product class). Rules are checked in ascending ``priority`` (1 first; equal
priorities keep the order they were given in); the first rule whose conditions all
hold classifies the product. The :class:`DefaultRule` has no conditions and classifies
every product no custom rule matches, so it always comes last.

Comparison (every operator): both the product's field and the rule's value are
trimmed at both ends, put in Unicode NFC, ``casefold()``-ed, and put in NFC again.
So ``MICROSOFT`` equals ``microsoft``, ``Straße`` equals ``STRASSE``, and ``Café``
typed as NFC equals ``Café`` typed as NFD (``e`` + combining acute). Inner spaces
are kept as they are. A missing field (``None``) compares as the empty string.

- ``equals``: the normalised field is the normalised value. An empty field never
  equals (a rule's value is never empty).
- ``not_equals``: the normalised field is not the normalised value. A missing or
  empty field *is* "not equal" (a product without a publisher "is not Microsoft"),
  so the condition holds for it.
- ``contains``: the normalised value occurs inside the normalised field.
- ``starts_with``: the normalised field begins with the normalised value.
- ``in`` ("is one of"): the normalised field equals one of the normalised values.

Performance: :func:`counts`, :func:`assign`, :func:`matching` and
:func:`preview_change` evaluate each condition once per *distinct* field value, turn
the result into a bitmask over all products (one byte per product in a Python int),
and resolve "first match wins" with a few AND/XOR operations per rule.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter
from typing import Any, cast

from msphub_psa.domain.errors import RuleValidationError

FIELDS = ("publisher", "item_type", "product_id", "title", "billing_term", "billing_frequency")
"""The product fields a condition may test."""
OPERATORS = ("equals", "not_equals", "contains", "starts_with", "in")
"""The operators a condition may use; ``in`` takes a list of values."""
PRODUCT_CLASSES = ("Agreement", "Bundle", "Inventory", "NonInventory", "Service")
"""ConnectWise's catalog ``productClass`` values, spelled exactly."""
DEFAULT_KEY = "default"
"""The key under which the default rule appears in :func:`counts` and :func:`assign`."""
MAX_VALUE_LENGTH = 255
"""Longest condition value (each value of an ``in`` list), after trimming."""
MAX_IN_VALUES = 100
"""Most values an ``in`` condition may list."""
MAX_ATTRIBUTE_LENGTH = 50
"""ConnectWise's limit for category, subcategory and type names."""

_ONE = re.compile(b"\x01")


@dataclass(frozen=True)
class Condition:
    """One test on one product field; ``value`` is a tuple of strings for ``in``."""

    field: str
    operator: str
    value: str | tuple[str, ...]

    def __post_init__(self) -> None:
        """Store a list value as a tuple so the condition stays immutable."""
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))


@dataclass(frozen=True)
class Attributes:
    """What a rule gives a product in the ConnectWise catalog."""

    category: str
    subcategory: str
    type: str
    product_class: str


@dataclass(frozen=True)
class Rule:
    """A custom rule: ``id`` is any hashable key (the database id, or e.g. "new")."""

    id: Hashable
    priority: int
    conditions: tuple[Condition, ...]
    attributes: Attributes

    def __post_init__(self) -> None:
        """Store the conditions as a tuple."""
        object.__setattr__(self, "conditions", tuple(self.conditions))


@dataclass(frozen=True)
class DefaultRule:
    """The partner's default rule: no conditions, applies when nothing else matches."""

    attributes: Attributes


@dataclass(frozen=True)
class Product:
    """The product fields rules look at (any object or mapping with them will do)."""

    publisher: str = ""
    item_type: str = ""
    product_id: str = ""
    title: str = ""
    billing_term: str = ""
    billing_frequency: str = ""


@dataclass(frozen=True)
class MatchingProduct:
    """A product meeting a rule's conditions; ``claimed_by`` is the higher rule that wins."""

    product: Any
    claimed_by: Hashable | None = None

    @property
    def claimed(self) -> bool:
        """True when a higher-priority rule classifies this product instead."""
        return self.claimed_by is not None


@dataclass(frozen=True)
class Move:
    """``count`` products change from rule ``source`` to rule ``target`` (keys)."""

    source: Hashable
    target: Hashable
    count: int


# --- normalisation -------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _normalize_str(text: str) -> str:
    """Cached body of :func:`normalize` for strings."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return folded.strip()


def normalize(value: object) -> str:
    """NFC, casefold, NFC, trim: the form every operator compares (None -> "")."""
    if value is None:
        return ""
    return _normalize_str(str(value))


def normalize_many(values: Sequence[object]) -> list[str]:
    """:func:`normalize` of many values at once, in bulk over one joined string.

    NUL never composes with its neighbours and case folding works per character,
    so normalising the NUL-joined text equals normalising each value alone.
    """
    texts: list[str]
    try:
        texts = cast(list[str], values if isinstance(values, list) else list(values))
        blob = "\x00".join(texts)
    except TypeError:  # None or non-str values: convert them first
        texts = ["" if value is None else str(value) for value in values]
        blob = "\x00".join(texts)
    if blob.count("\x00") != max(len(texts) - 1, 0):
        return [normalize(text) for text in texts]
    if blob.isascii():
        folded = blob.lower()
    else:
        folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", blob).casefold())
    return list(map(str.strip, folded.split("\x00"))) if texts else []


def _values_of(condition: Condition) -> tuple[str, ...]:
    """The condition's value(s) as a tuple of strings."""
    value = condition.value
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _field(product: Any, name: str) -> object:
    """One field of a product given as an object or a mapping."""
    if isinstance(product, Mapping):
        return product.get(name)
    return getattr(product, name, None)


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in evaluation order: ascending priority, ties in the order given."""
    return sorted(rules, key=lambda rule: rule.priority)


def first_match(product: Any, rules: Iterable[Rule]) -> Rule | None:
    """The custom rule that classifies one product, or None for the default rule."""
    rules = ordered(rules)
    claimed, _ = _Engine([product]).claims(rules)
    return next((rule for rule, mask in zip(rules, claimed, strict=True) if mask), None)


def classify(product: Any, rules: Iterable[Rule], default: DefaultRule) -> Attributes:
    """The attributes one product gets: first matching rule's, else the default's."""
    rule = first_match(product, rules)
    return rule.attributes if rule is not None else default.attributes


# --- the bulk engine -------------------------------------------------------------


class _Column:
    """One product field over all products, coded by distinct raw value."""

    def __init__(self, raw: list[object]) -> None:
        """Code each product by its distinct value: bytes for 256 or fewer, else ints."""
        self.size = len(raw)
        distinct = list(dict.fromkeys(raw))
        self.normalized = normalize_many(distinct)
        self._by_value: dict[str, tuple[int, ...]] | None = None
        self._order: list[int] | None = None
        self._sorted: list[str] = []
        code_of = dict(zip(distinct, range(len(distinct)), strict=True))
        self.unique = len(distinct) == self.size
        if len(distinct) <= 256:
            self.codes: bytes | list[int] = bytes(map(code_of.__getitem__, raw))
        else:
            self.codes = list(map(code_of.__getitem__, raw))

    def hits(self, operator: str, value: object) -> list[int]:
        """Codes whose normalised value meets a canonical (operator, value)."""
        if operator == "in":
            assert isinstance(value, (list, tuple, frozenset, set))
            return [code for item in value for code in self._codes_of(str(item))]
        assert isinstance(value, str)
        if operator == "equals":
            return list(self._codes_of(value))
        if operator == "starts_with":
            return self._prefixed(value)
        if operator == "contains":
            flags = map(str.__contains__, self.normalized, repeat(value))
            return list(compress(range(len(self.normalized)), flags))
        raise ValueError(f"no direct hits for operator {operator!r}")

    def _codes_of(self, value: str) -> tuple[int, ...]:
        """Codes whose normalised value is ``value`` (several raw values may fold together)."""
        if self._by_value is None:
            codes = range(len(self.normalized))
            self._by_value = dict(zip(self.normalized, zip(codes), strict=True))
            if len(self._by_value) < len(self.normalized):
                grouped: dict[str, list[int]] = {}
                for code, normalized in enumerate(self.normalized):
                    grouped.setdefault(normalized, []).append(code)
                self._by_value = {key: tuple(group) for key, group in grouped.items()}
        return self._by_value.get(value, ())

    def _prefixed(self, prefix: str) -> list[int]:
        """Codes whose normalised value starts with ``prefix`` (bisect on sorted values)."""
        if self._order is None:
            self._order = sorted(range(len(self.normalized)), key=self.normalized.__getitem__)
            self._sorted = list(map(self.normalized.__getitem__, self._order))
        start = bisect_left(self._sorted, prefix)
        stop = bisect_left(self._sorted, prefix + "\U0010ffff", start)
        while stop < len(self._sorted) and self._sorted[stop].startswith(prefix):
            stop += 1
        return self._order[start:stop]

    def mask(self, hits: list[int]) -> int:
        """Bitmask (one byte per product) of the products coded by one of ``hits``."""
        if isinstance(self.codes, bytes):
            table = bytearray(256)
            for code in hits:
                table[code] = 1
            return int.from_bytes(self.codes.translate(table), "big")
        if self.unique:
            flags = bytearray(self.size)
            for position in hits:
                flags[position] = 1
            return int.from_bytes(flags, "big")
        return int.from_bytes(bytes(map(set(hits).__contains__, self.codes)), "big")


class _Engine:
    """Products prepared once; answers condition and rule masks with caching."""

    def __init__(self, products: Sequence[Any]) -> None:
        """Keep the products; columns are built lazily, per field used."""
        self.products = products
        self.size = len(products)
        self.full = int.from_bytes(b"\x01" * self.size, "big")
        self._columns: dict[str, _Column] = {}
        self._masks: dict[tuple[str, str, object], int] = {}

    def _column(self, field: str) -> _Column:
        """The column of one field, built on first use."""
        if field not in self._columns:
            self._columns[field] = _Column(_raw_values(self.products, field))
        return self._columns[field]

    def condition_mask(self, condition: Condition) -> int:
        """Products meeting one condition (cached by its canonical form)."""
        operator, value = _canonical_condition(condition)
        key = (condition.field, operator, value)
        if key not in self._masks:
            column = self._column(condition.field)
            if operator == "not_equals":
                self._masks[key] = self.full ^ column.mask(column.hits("equals", value))
            else:
                self._masks[key] = column.mask(column.hits(operator, value))
        return self._masks[key]

    def rule_mask(self, rule: Rule) -> int:
        """Products meeting every condition of one rule (none for a rule without any)."""
        if not rule.conditions:
            return 0
        mask = self.full
        for condition in rule.conditions:
            mask &= self.condition_mask(condition)
            if not mask:
                break
        return mask

    def claims(self, rules: Sequence[Rule]) -> tuple[list[int], int]:
        """First match wins: each rule's claimed mask (in order), and the default's."""
        remaining = self.full
        claimed = []
        for rule in rules:
            mask = self.rule_mask(rule) & remaining
            remaining ^= mask
            claimed.append(mask)
        return claimed, remaining

    def positions(self, mask: int) -> list[int]:
        """Indices of the products set in ``mask``."""
        if not mask:
            return []
        return [hit.start() for hit in _ONE.finditer(mask.to_bytes(self.size, "big"))]

    def keys(self, rules: Sequence[Rule]) -> list[Hashable]:
        """For each product, the key of the rule that classifies it."""
        claimed, _ = self.claims(rules)
        result: list[Hashable] = [DEFAULT_KEY] * self.size
        for rule, mask in zip(rules, claimed, strict=True):
            for position in self.positions(mask):
                result[position] = rule.id
        return result


def _raw_values(products: Sequence[Any], field: str) -> list[object]:
    """One field of every product, read in bulk."""
    if products and not isinstance(products[0], Mapping):
        try:
            return list(map(attrgetter(field), products))
        except AttributeError:
            pass
    return [_field(product, field) for product in products]


def _as_sequence(products: Iterable[Any]) -> Sequence[Any]:
    """The products as a sequence (lists and tuples are used as they are)."""
    return products if isinstance(products, (list, tuple)) else list(products)


def assign(products: Iterable[Any], rules: Iterable[Rule]) -> list[Hashable]:
    """For each product (in order), the id of the rule classifying it, or DEFAULT_KEY."""
    return _Engine(_as_sequence(products)).keys(ordered(rules))


def classify_all(products: Iterable[Any], rules: Iterable[Rule], default: DefaultRule) -> list[Attributes]:
    """For each product (in order), the attributes it gets (bulk :func:`classify`)."""
    rules = list(rules)
    by_key: dict[Hashable, Attributes] = {rule.id: rule.attributes for rule in rules}
    by_key[DEFAULT_KEY] = default.attributes
    return [by_key[key] for key in assign(products, rules)]


def counts(products: Iterable[Any], rules: Iterable[Rule]) -> dict[Hashable, int]:
    """Products classified by each rule id (zero included) and by DEFAULT_KEY.

    A product counts only under the rule that actually classifies it, so the
    values always add up to the number of products.
    """
    engine = _Engine(_as_sequence(products))
    rules = ordered(rules)
    claimed, remaining = engine.claims(rules)
    result: dict[Hashable, int] = {rule.id: mask.bit_count() for rule, mask in zip(rules, claimed, strict=True)}
    result[DEFAULT_KEY] = remaining.bit_count()
    return result


def matching(products: Iterable[Any], rule: Rule, rules: Iterable[Rule] = ()) -> list[MatchingProduct]:
    """Products meeting ``rule``'s conditions, each flagged when a higher rule claims it.

    ``rules`` are the partner's other rules; ``rule`` replaces the one with its id,
    if any, so a rule being edited is judged at its new priority.
    """
    products = _as_sequence(products)
    engine = _Engine(products)
    evaluation = ordered([other for other in rules if other.id != rule.id] + [rule])
    keys = engine.keys(evaluation)
    return [
        MatchingProduct(products[i], None if keys[i] == rule.id else keys[i])
        for i in engine.positions(engine.rule_mask(rule))
    ]


def preview_change(products: Iterable[Any], rules_before: Iterable[Rule], rules_after: Iterable[Rule]) -> list[Move]:
    """How many products change rule when ``rules_before`` becomes ``rules_after``.

    Largest moves first, e.g. ``Move(DEFAULT_KEY, 7, 12)``: "12 products move from
    the Default Rule to rule 7". A new rule may use any key not yet used as its id.
    """
    engine = _Engine(_as_sequence(products))
    before = engine.keys(ordered(rules_before))
    after = engine.keys(ordered(rules_after))
    moves = Counter((b, a) for b, a in zip(before, after, strict=True) if b != a)
    return [
        Move(source, target, n)
        for (source, target), n in sorted(moves.items(), key=lambda item: (-item[1], repr(item[0])))
    ]


# --- validation ------------------------------------------------------------------

_NAMED_ATTRIBUTES = ("category", "subcategory", "type")


def _canonical_condition(condition: Condition) -> tuple[str, object]:
    """(operator, value) normalised; ``in`` as a set, and a one-value ``in`` as ``equals``."""
    if condition.operator != "in":
        return condition.operator, normalize(condition.value)
    values = frozenset(normalize(value) for value in _values_of(condition))
    if len(values) == 1:
        return "equals", next(iter(values))
    return "in", values


def canonical_condition(condition: Condition) -> tuple[str, object]:
    """Public form of a condition's canonical (operator, value), as every operator compares."""
    return _canonical_condition(condition)


def canonical_conditions(conditions: Iterable[Condition]) -> frozenset[tuple[object, ...]]:
    """An order-insensitive form of a rule's conditions, to spot identical rules."""
    return frozenset((c.field, *_canonical_condition(c)) for c in conditions)


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    """Record one message under one field key."""
    errors.setdefault(key, []).append(message)


def _check_text(value: object, key: str, errors: dict[str, list[str]]) -> None:
    """One condition value: a non-empty string of at most MAX_VALUE_LENGTH."""
    if not isinstance(value, str):
        _add(errors, key, "Enter one value (a list is only allowed with 'is one of').")
    elif not value.strip():
        _add(errors, key, "Enter a value.")
    elif len(value.strip()) > MAX_VALUE_LENGTH:
        _add(errors, key, f"At most {MAX_VALUE_LENGTH} characters ({len(value.strip())} given).")


def _check_list(value: object, key: str, errors: dict[str, list[str]]) -> None:
    """The values of an ``in`` condition: 1..MAX_IN_VALUES valid strings."""
    if not isinstance(value, (tuple, list)):
        _add(errors, key, "Enter a list of values for 'is one of'.")
    elif not value:
        _add(errors, key, "Enter at least one value.")
    elif len(value) > MAX_IN_VALUES:
        _add(errors, key, f"At most {MAX_IN_VALUES} values ({len(value)} given).")
    else:
        for position, item in enumerate(value):
            _check_text(item, f"{key}.{position}", errors)


def _check_condition(position: int, condition: Condition, errors: dict[str, list[str]]) -> None:
    """Field, operator and value of one condition."""
    prefix = f"conditions.{position}"
    if condition.field not in FIELDS:
        _add(errors, f"{prefix}.field", f"Unknown field '{condition.field}'; use one of: {', '.join(FIELDS)}.")
    if condition.operator not in OPERATORS:
        _add(
            errors,
            f"{prefix}.operator",
            f"Unknown operator '{condition.operator}'; use one of: {', '.join(OPERATORS)}.",
        )
    elif condition.operator == "in":
        _check_list(condition.value, f"{prefix}.value", errors)
    else:
        _check_text(condition.value, f"{prefix}.value", errors)


def _check_conditions(rule: Rule, others: Iterable[Rule], errors: dict[str, list[str]]) -> None:
    """At least one valid condition, none repeated, and no other rule with the same set."""
    if not rule.conditions:
        _add(errors, "conditions", "A custom rule needs at least one condition.")
        return
    for position, condition in enumerate(rule.conditions):
        _check_condition(position, condition, errors)
    if any(key.startswith("conditions.") for key in errors):
        return
    canonical = canonical_conditions(rule.conditions)
    if len(canonical) < len(rule.conditions):
        _add(errors, "conditions", "The same condition is given twice.")
    for other in others:
        if other.id != rule.id and canonical_conditions(other.conditions) == canonical:
            _add(errors, "conditions", f"Rule {other.id} already has the same conditions.")


def _check_attributes(attributes: Attributes, errors: dict[str, list[str]]) -> None:
    """Category, subcategory and type names within ConnectWise's limit; a known class."""
    for name in _NAMED_ATTRIBUTES:
        value = getattr(attributes, name)
        key = f"attributes.{name}"
        if not isinstance(value, str) or not value.strip():
            _add(errors, key, f"Enter a {name}.")
        elif len(value.strip()) > MAX_ATTRIBUTE_LENGTH:
            _add(
                errors,
                key,
                f"At most {MAX_ATTRIBUTE_LENGTH} characters, ConnectWise's limit ({len(value.strip())} given).",
            )
    if attributes.product_class not in PRODUCT_CLASSES:
        _add(errors, "attributes.product_class", f"Choose one of: {', '.join(PRODUCT_CLASSES)}.")


def rule_errors(rule: Rule, others: Iterable[Rule] = ()) -> dict[str, list[str]]:
    """Field-keyed messages for everything wrong with ``rule`` ({} when valid).

    Keys: ``priority``, ``conditions``, ``conditions.<i>.field|operator|value``
    (``conditions.<i>.value.<j>`` for one value of an ``in`` list) and
    ``attributes.category|subcategory|type|product_class``. ``others`` are the
    partner's other rules (the one with the same id is ignored).
    """
    errors: dict[str, list[str]] = {}
    priority = rule.priority
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
        _add(errors, "priority", "Priority must be a whole number of 1 or more.")
    _check_conditions(rule, others, errors)
    _check_attributes(rule.attributes, errors)
    return errors


def validate_rule(rule: Rule, others: Iterable[Rule] = ()) -> None:
    """Check a custom rule before it is saved.

    :raises RuleValidationError: carrying :func:`rule_errors`.
    """
    errors = rule_errors(rule, others)
    if errors:
        raise RuleValidationError(errors)


def validate_default(default: DefaultRule) -> None:
    """Check the default rule's attributes.

    :raises RuleValidationError: with ``attributes.*`` keys.
    """
    errors: dict[str, list[str]] = {}
    _check_attributes(default.attributes, errors)
    if errors:
        raise RuleValidationError(errors)


# --- defaults, ConnectWise lists and search ------------------------------------------

GUIDE_DEFAULT = Attributes("MSP Hub", "Perpetual Software", "MSP Hub License-Based", "Agreement")
"""The default rule's attributes until the partner edits them (the user guide's values)."""
WINDOW_FIELDS = ("publisher", "item_type", "product_id", "title")
"""The product fields the Matching Products window shows and searches."""


@dataclass(frozen=True)
class ListEntry:
    """One ConnectWise list value; ``category_id`` only for subcategories."""

    id: int
    name: str
    category_id: int | None = None


@dataclass(frozen=True)
class CwLists:
    """ConnectWise's categories, subcategories and product types (as cached)."""

    categories: tuple[ListEntry, ...] = ()
    subcategories: tuple[ListEntry, ...] = ()
    types: tuple[ListEntry, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """Attributes spelled as ConnectWise spells them, and which names it lacks."""

    attributes: Attributes
    new: frozenset[str]

    def is_new(self, name: str) -> bool:
        """True when ``name`` (category, subcategory, type) will be created in ConnectWise."""
        return name in self.new


def _find(entries: Iterable[ListEntry], name: str) -> list[ListEntry]:
    """Entries whose name equals ``name`` under :func:`normalize`."""
    wanted = normalize(name)
    return [entry for entry in entries if normalize(entry.name) == wanted]


def resolve_attributes(attributes: Attributes, lists: CwLists) -> Resolution:
    """Match typed names to ConnectWise's lists (trim, case and Unicode insensitive).

    A name found is spelled as ConnectWise spells it; one not found is new (the catalog
    sync creates it). A subcategory found only under other categories is an error: it
    must belong to the chosen category, or be new (then it is created under it).

    :raises RuleValidationError: ``attributes.subcategory`` when it belongs elsewhere.
    """
    categories = _find(lists.categories, attributes.category)
    subcategories = _find(lists.subcategories, attributes.subcategory)
    types = _find(lists.types, attributes.type)
    category_ids = {entry.id for entry in categories}
    own = [entry for entry in subcategories if entry.category_id in category_ids]
    if subcategories and not own:
        owners = {entry.id: entry.name for entry in lists.categories}
        where = ", ".join(sorted({owners.get(e.category_id or 0, f"category {e.category_id}") for e in subcategories}))
        raise RuleValidationError(
            {
                "attributes.subcategory": [
                    f"Subcategory '{subcategories[0].name}' belongs to {where} in ConnectWise, "
                    f"not to '{attributes.category.strip()}'."
                ]
            }
        )
    new = {name for name, found in (("category", categories), ("subcategory", own), ("type", types)) if not found}
    return Resolution(
        Attributes(
            categories[0].name if categories else attributes.category.strip(),
            own[0].name if own else attributes.subcategory.strip(),
            types[0].name if types else attributes.type.strip(),
            attributes.product_class,
        ),
        frozenset(new),
    )


def search_matches(product: Any, text: str) -> bool:
    """The window's search: ``text`` is contained in one of WINDOW_FIELDS (normalised)."""
    wanted = normalize(text)
    return not wanted or any(wanted in normalize(_field(product, name)) for name in WINDOW_FIELDS)


FIELD_LABELS = {
    "publisher": "Publisher",
    "item_type": "Item Type",
    "product_id": "Product ID",
    "title": "Product Title",
    "billing_term": "Billing Term",
    "billing_frequency": "Billing Frequency",
}
"""How the page names each product field."""
OPERATOR_LABELS = {
    "equals": "=",
    "not_equals": "≠",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "is one of",
}
"""How the page names each operator."""


def describe(condition: Condition) -> str:
    """A condition as the page shows it, e.g. ``Publisher = Microsoft``."""
    value = ", ".join(_values_of(condition)) if condition.operator == "in" else condition.value
    field = FIELD_LABELS.get(condition.field, condition.field)
    return f"{field} {OPERATOR_LABELS.get(condition.operator, condition.operator)} {value}"
