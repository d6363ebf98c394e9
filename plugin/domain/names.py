"""Customer <-> ConnectWise company name matching (docs/billing.md "Names and matching").

Exact matching (the only automatic one) is case-sensitive, after trimming and Unicode
NFC: ``Contoso`` and ``contoso`` are *not* an exact match. A name that appears twice
on either side, a soft-deleted company, and customers or companies already mapped
are never matched automatically; :func:`exact_matches` says why each was left out.

Suggestions are never mapped automatically. For a customer, :class:`CompanyIndex`
proposes live companies whose names differ only in case (score 99), in punctuation,
spacing or accents (95), by a legal suffix such as Inc, Ltd, GmbH or Pty Ltd (90), or
that are similar (rapidfuzz ``token_sort_ratio`` on a key that is case-folded, without
accents, punctuation or legal suffixes; shown as at most 89, so a named reason always
ranks above a fuzzy one).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from rapidfuzz import fuzz, process

CustomerRow = tuple[Hashable, str]
"""(customer id, name) as MSP Hub has it."""
CompanyRow = tuple[Hashable, str, bool]
"""(company id, name, deleted flag) as the ConnectWise cache has it."""

LEGAL_SUFFIXES = frozenset(
    {
        "ab",
        "ag",
        "aps",
        "as",
        "asa",
        "bv",
        "cie",
        "co",
        "company",
        "corp",
        "corporation",
        "cv",
        "gmbh",
        "inc",
        "incorporated",
        "kft",
        "kg",
        "kk",
        "limited",
        "llc",
        "llp",
        "lp",
        "ltd",
        "ltda",
        "nv",
        "oy",
        "oyj",
        "plc",
        "pllc",
        "pte",
        "pty",
        "pvt",
        "sa",
        "sarl",
        "sas",
        "se",
        "sl",
        "spa",
        "sro",
        "srl",
        "ug",
    }
)
"""Legal-form tokens, dots removed: "L.L.C." is "llc", "S.A." is "sa", "B.V." is "bv"."""

_QUIET_PUNCTUATION = str.maketrans("", "", "'’`´.")
_SEPARATORS = re.compile(r"[\W_]+")
_FUZZY_CAP = 89


class ExclusionReason(StrEnum):
    """Why an exact-name candidate was not matched automatically."""

    DUPLICATE_CUSTOMER_NAME = "duplicate_customer_name"
    DUPLICATE_COMPANY_NAME = "duplicate_company_name"
    COMPANY_DELETED = "company_deleted"
    CUSTOMER_MAPPED = "customer_mapped"
    COMPANY_MAPPED = "company_mapped"

    @property
    def text(self) -> str:
        """The sentence a page shows for this reason."""
        return _EXCLUSION_TEXT[self]


_EXCLUSION_TEXT = {
    ExclusionReason.DUPLICATE_CUSTOMER_NAME: "Several MSP Hub customers have this name.",
    ExclusionReason.DUPLICATE_COMPANY_NAME: "Several ConnectWise companies have this name.",
    ExclusionReason.COMPANY_DELETED: "The ConnectWise company with this name is deleted.",
    ExclusionReason.CUSTOMER_MAPPED: "The MSP Hub customer is already mapped.",
    ExclusionReason.COMPANY_MAPPED: "The ConnectWise company is already mapped to a customer.",
}


class SuggestionReason(StrEnum):
    """Why a company is suggested for a customer."""

    CASE = "case"
    PUNCTUATION = "punctuation"
    LEGAL_SUFFIX = "legal_suffix"
    SIMILAR = "similar"

    @property
    def text(self) -> str:
        """The words a page shows for this reason."""
        return _SUGGESTION_TEXT[self]


_SUGGESTION_TEXT = {
    SuggestionReason.CASE: "differs only in case",
    SuggestionReason.PUNCTUATION: "differs in punctuation, spacing or accents",
    SuggestionReason.LEGAL_SUFFIX: "differs by a legal suffix",
    SuggestionReason.SIMILAR: "similar name",
}
_REASON_SCORE = {SuggestionReason.CASE: 99, SuggestionReason.PUNCTUATION: 95, SuggestionReason.LEGAL_SUFFIX: 90}


@dataclass(frozen=True)
class Exclusion:
    """One name on both sides that was not matched automatically, and why."""

    name: str
    customer_ids: tuple[Hashable, ...]
    company_ids: tuple[Hashable, ...]
    reasons: tuple[ExclusionReason, ...]

    @property
    def text(self) -> str:
        """All reasons as one sentence."""
        return " ".join(reason.text for reason in self.reasons)


@dataclass(frozen=True)
class ExactMatches:
    """``pairs`` (customer id, company id) to map automatically; ``excluded`` with reasons."""

    pairs: list[tuple[Hashable, Hashable]]
    excluded: list[Exclusion]


@dataclass(frozen=True)
class Suggestion:
    """A company proposed for a customer, with a 0-100 score and the reason."""

    company_id: Hashable
    company_name: str
    score: int
    reason: SuggestionReason


def normalize_exact(name: str | None) -> str:
    """Trim and NFC: the form exact matching compares (case is significant)."""
    return unicodedata.normalize("NFC", (name or "").strip())


# --- exact matching --------------------------------------------------------------


_V = TypeVar("_V", bound=Hashable)


def _group(pairs: Iterable[tuple[str, _V]]) -> dict[str, list[_V]]:
    """Values by key, in input order; empty keys are left out."""
    groups: dict[str, list[_V]] = {}
    for key, value in pairs:
        if key:
            groups.setdefault(key, []).append(value)
    return groups


def _by_exact_name(rows: Iterable[tuple[Hashable, str]]) -> dict[str, list[Hashable]]:
    """Ids by exact-normalised name."""
    return _group((normalize_exact(name), row_id) for row_id, name in rows)


def _exclusion_reasons(
    customer_ids: list[Hashable],
    live_ids: list[Hashable],
    mapped_customer_ids: Collection[Hashable],
    mapped_company_ids: Collection[Hashable],
) -> list[ExclusionReason]:
    """Why a name present on both sides cannot be matched automatically ([] if it can)."""
    reasons = []
    if len(customer_ids) > 1:
        reasons.append(ExclusionReason.DUPLICATE_CUSTOMER_NAME)
    if len(live_ids) > 1:
        reasons.append(ExclusionReason.DUPLICATE_COMPANY_NAME)
    if not live_ids:
        reasons.append(ExclusionReason.COMPANY_DELETED)
    if any(customer_id in mapped_customer_ids for customer_id in customer_ids):
        reasons.append(ExclusionReason.CUSTOMER_MAPPED)
    if any(company_id in mapped_company_ids for company_id in live_ids):
        reasons.append(ExclusionReason.COMPANY_MAPPED)
    return reasons


def exact_matches(
    customers: Iterable[CustomerRow],
    companies: Iterable[CompanyRow],
    mapped_customer_ids: Collection[Hashable] = frozenset(),
    mapped_company_ids: Collection[Hashable] = frozenset(),
) -> ExactMatches:
    """Customer/company pairs whose names are exactly equal, and the names left out.

    Pass *all* customers and companies (mapped ones too, with their ids in the
    ``mapped_*`` sets): a name shared with an already-mapped customer is still a
    duplicate. Soft-deleted companies never match and do not make a name ambiguous;
    a name found only on deleted companies is reported as ``COMPANY_DELETED``.
    """
    companies = list(companies)
    by_customer = _by_exact_name(customers)
    live = _by_exact_name((row[0], row[1]) for row in companies if not row[2])
    deleted = _by_exact_name((row[0], row[1]) for row in companies if row[2])
    pairs: list[tuple[Hashable, Hashable]] = []
    excluded: list[Exclusion] = []
    for name, customer_ids in by_customer.items():
        if name not in live and name not in deleted:
            continue
        live_ids = live.get(name, [])
        reasons = _exclusion_reasons(customer_ids, live_ids, mapped_customer_ids, mapped_company_ids)
        if reasons:
            company_ids = tuple(live_ids or deleted[name])
            excluded.append(Exclusion(name, tuple(customer_ids), company_ids, tuple(reasons)))
        else:
            pairs.append((customer_ids[0], live_ids[0]))
    return ExactMatches(pairs, excluded)


# --- keys for suggestions --------------------------------------------------------


def fold(name: str) -> str:
    """Case-folded, without accents (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", normalize_exact(name).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_tokens(name: str) -> list[str]:
    """Folded words: apostrophes and dots dropped, "&" read as "and", other punctuation splits."""
    text = fold(name).translate(_QUIET_PUNCTUATION).replace("&", " and ")
    return [token for token in _SEPARATORS.split(text) if token]


def strip_legal_suffix(tokens: Sequence[str]) -> list[str]:
    """Tokens without trailing legal forms ("pty ltd", "gmbh and co kg"); one token stays."""
    kept = list(tokens)
    while len(kept) > 1 and kept[-1] in LEGAL_SUFFIXES:
        kept.pop()
        if len(kept) > 1 and kept[-1] == "and":
            kept.pop()
    return kept


@dataclass(frozen=True)
class NameKeys:
    """The comparison keys of one name, from strictest to loosest."""

    exact: str
    case: str
    compact: str
    base: str
    fuzzy: str

    @classmethod
    def of(cls, name: str) -> NameKeys:
        """Compute every key of ``name`` once."""
        exact = normalize_exact(name)
        tokens = name_tokens(name)
        base = strip_legal_suffix(tokens)
        return cls(exact, exact.casefold(), "".join(tokens), "".join(base), " ".join(sorted(base)))

    def reason_against(self, other: NameKeys) -> SuggestionReason | None:
        """The named reason two different names are alike, or None."""
        if self.case == other.case:
            return SuggestionReason.CASE
        if self.compact and self.compact == other.compact:
            return SuggestionReason.PUNCTUATION
        if self.base and self.base == other.base:
            return SuggestionReason.LEGAL_SUFFIX
        return None


# --- suggestions -----------------------------------------------------------------


def _index(keys: Sequence[str]) -> dict[str, list[int]]:
    """Positions by key; empty keys are left out."""
    return _group(zip(keys, range(len(keys)), strict=True))


class CompanyIndex:
    """Live ConnectWise companies with their name keys computed once, for many queries."""

    def __init__(self, companies: Iterable[CompanyRow | tuple[Hashable, str]]) -> None:
        """Keep the non-deleted companies with a name; deleted ones are never suggested."""
        self._rows = [
            (row[0], row[1]) for row in companies if not (len(row) > 2 and row[2]) and normalize_exact(row[1])
        ]
        self._keys = [NameKeys.of(name) for _, name in self._rows]
        self._by_case = _index([keys.case for keys in self._keys])
        self._by_compact = _index([keys.compact for keys in self._keys])
        self._by_base = _index([keys.base for keys in self._keys])
        self._by_length = sorted(range(len(self._keys)), key=lambda i: len(self._keys[i].fuzzy))
        self._fuzzy = [self._keys[i].fuzzy for i in self._by_length]
        self._lengths = [len(key) for key in self._fuzzy]

    def _named(self, keys: NameKeys) -> dict[int, tuple[int, float, SuggestionReason]]:
        """Companies alike for a named reason (case, punctuation, suffix); exact ones left out."""
        candidates = (
            self._by_case.get(keys.case, []) + self._by_compact.get(keys.compact, []) + self._by_base.get(keys.base, [])
        )
        found: dict[int, tuple[int, float, SuggestionReason]] = {}
        for position in candidates:
            other = self._keys[position]
            reason = keys.reason_against(other)
            if reason is not None and other.exact != keys.exact and position not in found:
                found[position] = (_REASON_SCORE[reason], 100.0, reason)
        return found

    def _similar(self, keys: NameKeys, score_cutoff: float) -> dict[int, tuple[int, float, SuggestionReason]]:
        """Companies whose fuzzy key scores at least ``score_cutoff`` (exact ones left out)."""
        if not keys.fuzzy:
            return {}
        start, stop = self._length_window(len(keys.fuzzy), score_cutoff)
        hits = process.extract(
            keys.fuzzy, self._fuzzy[start:stop], scorer=fuzz.ratio, score_cutoff=score_cutoff, limit=None
        )
        found = {}
        for _, score, offset in hits:
            position = self._by_length[start + offset]
            if self._keys[position].exact != keys.exact:
                found[position] = (min(round(score), _FUZZY_CAP), score, SuggestionReason.SIMILAR)
        return found

    def _length_window(self, length: int, score_cutoff: float) -> tuple[int, int]:
        """Slice of the length-sorted keys that can reach ``score_cutoff`` at all.

        ``ratio`` is at most 200 * min(a, b) / (a + b), so shorter than
        length * c / (200 - c) or longer than length * (200 - c) / c cannot score c.
        """
        if score_cutoff <= 0:
            return 0, len(self._fuzzy)
        cutoff = min(score_cutoff, 100)
        shortest = length * cutoff / (200 - cutoff)
        longest = length * (200 - cutoff) / cutoff
        return bisect_left(self._lengths, shortest - 1e-9), bisect_right(self._lengths, longest + 1e-9)

    def suggest(self, name: str, limit: int = 5, score_cutoff: float = 80) -> list[Suggestion]:
        """Up to ``limit`` companies to propose for one customer name, best first.

        ``score_cutoff`` (0-100) applies to the fuzzy score only; named reasons
        (case, punctuation, legal suffix) are always proposed.
        """
        keys = NameKeys.of(name)
        if not keys.exact:
            return []
        found = {**self._similar(keys, score_cutoff), **self._named(keys)}
        ranked = sorted(found.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
        return [
            Suggestion(self._rows[position][0], self._rows[position][1], score, reason)
            for position, (score, _, reason) in ranked[:limit]
        ]


def suggest(name: str, companies: Iterable[CompanyRow], limit: int = 5, score_cutoff: float = 80) -> list[Suggestion]:
    """Companies to propose for one customer name (see :meth:`CompanyIndex.suggest`)."""
    return CompanyIndex(companies).suggest(name, limit, score_cutoff)


def suggest_many(
    customers: Iterable[CustomerRow],
    companies: Iterable[CompanyRow],
    limit: int = 5,
    score_cutoff: float = 80,
) -> dict[Hashable, list[Suggestion]]:
    """Suggestions for many customers at once: {customer id: suggestions, maybe []}."""
    index = CompanyIndex(companies)
    return {customer_id: index.suggest(name, limit, score_cutoff) for customer_id, name in customers}
