"""Customer <-> ConnectWise company name matching: exact matches and suggestions."""

from __future__ import annotations

import random
import unicodedata

from msphub_psa.domain.names import (
    CompanyIndex,
    ExclusionReason,
    NameKeys,
    SuggestionReason,
    exact_matches,
    name_tokens,
    normalize_exact,
    strip_legal_suffix,
    suggest,
    suggest_many,
)


def reasons_by_company(name, companies):
    """{company id: (score, reason)} of the suggestions for one name."""
    return {s.company_id: (s.score, s.reason) for s in suggest(name, companies, limit=20)}


# --- exact matching ------------------------------------------------------------------


def test_normalize_exact_trims_and_composes_but_keeps_case():
    assert normalize_exact("  Café  ") == normalize_exact(unicodedata.normalize("NFD", "Café"))
    assert normalize_exact("Contoso") != normalize_exact("contoso")
    assert normalize_exact(None) == ""


def test_exact_match_after_trim_and_nfc():
    result = exact_matches(
        [(1, " Contoso "), (2, unicodedata.normalize("NFD", "Café Noir"))],
        [(10, "Contoso", False), (20, "Café Noir ", False)],
    )
    assert result.pairs == [(1, 10), (2, 20)]
    assert result.excluded == []


def test_case_differences_are_not_exact():
    result = exact_matches([(1, "Contoso")], [(10, "contoso", False)])
    assert result.pairs == [] and result.excluded == []


def test_duplicates_on_either_side_are_excluded_with_reasons():
    customers = [(1, "Contoso"), (2, "Contoso "), (3, "Fabrikam"), (4, "Northwind")]
    companies = [(10, "Contoso", False), (30, "Fabrikam", False), (31, "Fabrikam", False), (40, "Northwind", False)]
    result = exact_matches(customers, companies)
    assert result.pairs == [(4, 40)]
    by_name = {e.name: e for e in result.excluded}
    assert by_name["Contoso"].reasons == (ExclusionReason.DUPLICATE_CUSTOMER_NAME,)
    assert by_name["Contoso"].customer_ids == (1, 2)
    assert by_name["Fabrikam"].reasons == (ExclusionReason.DUPLICATE_COMPANY_NAME,)
    assert by_name["Fabrikam"].company_ids == (30, 31)
    assert "Several ConnectWise companies" in by_name["Fabrikam"].text


def test_deleted_companies_never_match_nor_make_a_name_ambiguous():
    companies = [(10, "Contoso", True), (20, "Fabrikam", True), (21, "Fabrikam", False)]
    result = exact_matches([(1, "Contoso"), (2, "Fabrikam")], companies)
    assert result.pairs == [(2, 21)]
    [excluded] = result.excluded
    assert excluded.reasons == (ExclusionReason.COMPANY_DELETED,) and excluded.company_ids == (10,)


def test_already_mapped_customers_and_companies_are_excluded():
    customers = [(1, "Contoso"), (2, "Fabrikam"), (3, "Northwind")]
    companies = [(10, "Contoso", False), (20, "Fabrikam", False), (30, "Northwind", False)]
    result = exact_matches(customers, companies, mapped_customer_ids={1}, mapped_company_ids={20})
    assert result.pairs == [(3, 30)]
    assert {e.name: e.reasons for e in result.excluded} == {
        "Contoso": (ExclusionReason.CUSTOMER_MAPPED,),
        "Fabrikam": (ExclusionReason.COMPANY_MAPPED,),
    }


def test_blank_names_never_match():
    assert exact_matches([(1, "  ")], [(10, "", False)]).pairs == []


# --- keys ---------------------------------------------------------------------------


def test_tokens_drop_punctuation_and_accents():
    assert name_tokens('O\'Brien "IT" & Co.') == ["obrien", "it", "and", "co"]
    assert name_tokens("Société Générale, S.A.") == ["societe", "generale", "sa"]


def test_legal_suffixes_are_stripped_from_the_end_only():
    assert strip_legal_suffix(["contoso", "pty", "ltd"]) == ["contoso"]
    assert strip_legal_suffix(["acme", "gmbh", "and", "co", "kg"]) == ["acme"]
    assert strip_legal_suffix(["limited", "edition", "ltd"]) == ["limited", "edition"]
    assert strip_legal_suffix(["company"]) == ["company"]


# --- suggestions ----------------------------------------------------------------------

COMPANIES = [
    (1, "contoso", False),
    (2, "Contoso, Inc.", False),
    (3, "CONTOSO L.L.C.", False),
    (4, "O'Brien IT and Co", False),
    (5, "Fabrikam GmbH", False),
    (6, "Cafe Noir", False),
    (7, "Contoso", True),
    (8, "Contosso Ltd", False),
    (9, "Northwind Traders", False),
    (10, "Contoso", False),
]


def test_differs_only_in_case_is_a_suggestion_not_an_exact_match():
    found = reasons_by_company("Contoso", COMPANIES)
    assert found[1] == (99, SuggestionReason.CASE)
    assert 10 not in found  # the exact match is not a suggestion
    assert 7 not in found  # deleted companies are never suggested
    assert SuggestionReason.CASE.text == "differs only in case"


def test_legal_suffix_suggestions():
    found = reasons_by_company("Contoso", COMPANIES)
    assert found[2] == (90, SuggestionReason.LEGAL_SUFFIX)
    assert found[3] == (90, SuggestionReason.LEGAL_SUFFIX)
    assert reasons_by_company("Fabrikam", COMPANIES)[5] == (90, SuggestionReason.LEGAL_SUFFIX)
    for suffixed in ["Contoso Pty Ltd", "Contoso B.V.", "Contoso S.A.", "Contoso Corporation", "Contoso PLC"]:
        assert reasons_by_company(suffixed, [(1, "Contoso", False)])[1][1] == SuggestionReason.LEGAL_SUFFIX


def test_punctuation_spacing_and_accent_suggestions():
    assert reasons_by_company('O\'Brien "IT" & Co', COMPANIES)[4] == (95, SuggestionReason.PUNCTUATION)
    assert reasons_by_company("Café Noir", COMPANIES)[6] == (95, SuggestionReason.PUNCTUATION)
    assert reasons_by_company("Cafe  Noir", COMPANIES)[6] == (95, SuggestionReason.PUNCTUATION)


def test_fuzzy_suggestion_is_capped_below_named_reasons():
    found = reasons_by_company("Contoso", COMPANIES)
    score, reason = found[8]
    assert reason == SuggestionReason.SIMILAR and 80 <= score <= 89
    assert 9 not in found


def test_suggestions_are_ranked_best_first_and_limited():
    result = suggest("Contoso", COMPANIES, limit=2)
    assert [s.company_id for s in result] == [1, 2]
    assert suggest("", COMPANIES) == []


def test_named_reason_is_chosen_from_strictest_to_loosest():
    assert NameKeys.of("Contoso Ltd").reason_against(NameKeys.of("CONTOSO LTD")) == SuggestionReason.CASE
    assert NameKeys.of("Contoso Ltd").reason_against(NameKeys.of("Contoso Ltd.")) == SuggestionReason.PUNCTUATION
    assert NameKeys.of("Contoso Ltd").reason_against(NameKeys.of("Contoso")) == SuggestionReason.LEGAL_SUFFIX
    assert NameKeys.of("Contoso").reason_against(NameKeys.of("Fabrikam")) is None


def test_bulk_equals_one_by_one():
    customers = [(i, name) for i, (_, name, _) in enumerate(COMPANIES)] + [(99, "Contoso Ltd")]
    bulk = suggest_many(customers, COMPANIES)
    index = CompanyIndex(COMPANIES)
    assert bulk == {cid: index.suggest(name) for cid, name in customers}


def test_length_window_loses_no_fuzzy_match():
    from rapidfuzz import fuzz

    rng = random.Random(5)
    names = ["".join(rng.choice("abcde ") for _ in range(rng.randint(1, 14))).strip() or "a" for _ in range(300)]
    companies = [(i, n, False) for i, n in enumerate(names)]
    index = CompanyIndex(companies)
    for cutoff in (60, 80, 95):
        for query in names[:40]:
            keys = NameKeys.of(query)
            expected = {
                i
                for i, n in enumerate(names)
                if fuzz.ratio(keys.fuzzy, NameKeys.of(n).fuzzy) >= cutoff and NameKeys.of(n).exact != keys.exact
            }
            assert set(index._similar(keys, cutoff)) == expected
