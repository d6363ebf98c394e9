"""Product classification rules: matching, priority, counts, previews and validation."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msphub_psa.domain.errors import RuleValidationError
from msphub_psa.domain.rules import (
    DEFAULT_KEY,
    Attributes,
    Condition,
    DefaultRule,
    Move,
    Product,
    Rule,
    assign,
    canonical_conditions,
    classify,
    classify_all,
    counts,
    first_match,
    matching,
    normalize,
    normalize_many,
    preview_change,
    rule_errors,
    validate_default,
    validate_rule,
)

MS = Attributes("Microsoft", "NCE", "License-Based", "Agreement")
OTHER = Attributes("Other", "Software", "License", "NonInventory")
DEFAULT = DefaultRule(Attributes("MSP Hub", "Perpetual Software", "MSP Hub License-Based", "Agreement"))

NCE = Product("Microsoft", "OnlineServicesNCE", "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "P1M", "monthly")
NCE_YEAR = Product(
    "Microsoft", "OnlineServicesNCE", "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "P1Y", "annual"
)
ACRONIS = Product("Acronis", "Backup", "ACR-001", "Acronis Cyber Protect Cloud", "P1M", "monthly")
ADOBE = Product("Adobe", "Software", "65297", "Adobe Acrobat Pro", "P1Y", "annual")
BLANK = Product("", "Software", "X-1", "No publisher", "P1M", "monthly")
PRODUCTS = [NCE, NCE_YEAR, ACRONIS, ADOBE, BLANK]


def rule(rule_id, priority, *conditions, attributes=MS):
    """A rule from (field, operator, value) triples."""
    return Rule(rule_id, priority, tuple(Condition(*c) for c in conditions), attributes)


def oracle_norm(value):
    """The documented comparison form, written independently of the engine."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    return unicodedata.normalize("NFC", text.casefold()).strip()


def oracle_holds(product, condition):
    """The documented meaning of one condition, evaluated naively."""
    get = product.get if isinstance(product, dict) else lambda name: getattr(product, name, None)
    field = oracle_norm(get(condition.field))
    values = [oracle_norm(v) for v in (condition.value if condition.operator == "in" else [condition.value])]
    return {
        "equals": field == values[0],
        "not_equals": field != values[0],
        "contains": values[0] in field,
        "starts_with": field.startswith(values[0]),
        "in": field in values,
    }[condition.operator]


def oracle_key(product, rules):
    """The id of the first rule (by priority, stable) whose conditions all hold, else the default."""
    for candidate in sorted(rules, key=lambda r: r.priority):
        if all(oracle_holds(product, c) for c in candidate.conditions):
            return candidate.id
    return DEFAULT_KEY


def matches(product, *condition):
    """Whether one condition holds for one product; the engine must agree with the oracle."""
    single = first_match(product, [rule(1, 1, condition)]) is not None
    assert single == oracle_holds(product, Condition(*condition))
    return single


# --- operators, case and Unicode ---------------------------------------------------


@pytest.mark.parametrize(
    "condition, expected",
    [
        (("publisher", "equals", "Microsoft"), True),
        (("publisher", "equals", "MICROSOFT"), True),
        (("publisher", "equals", "  microsoft  "), True),
        (("publisher", "equals", "Micro"), False),
        (("publisher", "not_equals", "Adobe"), True),
        (("publisher", "not_equals", "microsoft"), False),
        (("title", "contains", "365 BUSINESS"), True),
        (("title", "contains", "Premium"), False),
        (("product_id", "starts_with", "cfq7"), True),
        (("product_id", "starts_with", "0001"), False),
        (("billing_term", "in", ("p1y", "P1M")), True),
        (("billing_term", "in", ("P3Y",)), False),
    ],
)
def test_each_operator_case_insensitively(condition, expected):
    assert matches(NCE, *condition) is expected


def test_nfc_and_nfd_spellings_compare_equal():
    nfd = unicodedata.normalize("NFD", "Café Software")
    product = Product(publisher=nfd, title=nfd)
    assert matches(product, "publisher", "equals", "CAFÉ SOFTWARE")
    assert matches(product, "title", "contains", "é s")
    assert matches(product, "publisher", "starts_with", "café")
    assert matches(product, "publisher", "in", ("cafe", "café software"))
    assert not matches(product, "publisher", "equals", "Cafe Software")


def test_casefold_not_just_lower():
    assert matches(Product(publisher="Straße GmbH"), "publisher", "equals", "STRASSE GMBH")


def test_normalize_many_equals_normalize_one_by_one():
    values = ["  MICROSOFT ", None, "Café", unicodedata.normalize("NFD", "Café"), "ΣΑΣ", "a\x00b", ""]
    assert normalize_many(values) == [normalize(v) for v in values]


def test_not_equals_holds_for_missing_or_empty_field():
    assert matches(BLANK, "publisher", "not_equals", "Microsoft")
    assert matches({"title": "x"}, "publisher", "not_equals", "Microsoft")
    assert not matches(BLANK, "publisher", "equals", "Microsoft")
    assert not matches(BLANK, "publisher", "contains", "M")


def test_products_may_be_mappings():
    assert assign([{"publisher": "microsoft"}, {}], [rule(1, 1, ("publisher", "equals", "Microsoft"))]) == [
        1,
        DEFAULT_KEY,
    ]


# --- priority, first match, default --------------------------------------------------


def test_first_matching_rule_by_priority_wins():
    broad = rule("broad", 20, ("publisher", "equals", "Microsoft"), attributes=OTHER)
    narrow = rule("narrow", 10, ("publisher", "equals", "Microsoft"), ("billing_term", "equals", "P1Y"))
    assert classify(NCE_YEAR, [broad, narrow], DEFAULT) == MS
    assert classify(NCE, [broad, narrow], DEFAULT) == OTHER
    assert assign(PRODUCTS, [broad, narrow]) == ["broad", "narrow", DEFAULT_KEY, DEFAULT_KEY, DEFAULT_KEY]


def test_default_rule_applies_when_nothing_matches():
    assert classify(ADOBE, [rule(1, 1, ("publisher", "equals", "Microsoft"))], DEFAULT) == DEFAULT.attributes
    assert classify(ADOBE, [], DEFAULT) == DEFAULT.attributes


def test_equal_priorities_keep_the_given_order():
    first = rule("a", 5, ("publisher", "equals", "Microsoft"))
    second = rule("b", 5, ("item_type", "equals", "OnlineServicesNCE"))
    assert assign([NCE], [first, second]) == ["a"]
    assert assign([NCE], [second, first]) == ["b"]


def test_classify_all_matches_classify():
    rules = [
        rule(1, 1, ("publisher", "equals", "microsoft")),
        rule(2, 2, ("title", "contains", "acro"), attributes=OTHER),
    ]
    assert classify_all(PRODUCTS, rules, DEFAULT) == [classify(p, rules, DEFAULT) for p in PRODUCTS]


# --- counts, matching, previews ------------------------------------------------------


def test_counts_do_not_double_count_and_include_zero():
    rules = [
        rule(1, 1, ("publisher", "equals", "Microsoft")),
        rule(2, 2, ("billing_frequency", "equals", "monthly")),
        rule(3, 3, ("publisher", "equals", "Nobody")),
    ]
    assert counts(PRODUCTS, rules) == {1: 2, 2: 2, 3: 0, DEFAULT_KEY: 1}


def test_counts_of_no_products():
    assert counts([], [rule(1, 1, ("publisher", "equals", "x"))]) == {1: 0, DEFAULT_KEY: 0}


def test_matching_flags_products_claimed_by_a_higher_rule():
    higher = rule("ms", 1, ("publisher", "equals", "Microsoft"))
    monthly = rule("monthly", 2, ("billing_frequency", "equals", "monthly"))
    result = matching(PRODUCTS, monthly, [higher, monthly])
    assert [(m.product, m.claimed_by) for m in result] == [(NCE, "ms"), (ACRONIS, None), (BLANK, None)]
    assert [m.claimed for m in result] == [True, False, False]


def test_matching_judges_an_edited_rule_at_its_new_priority():
    higher = rule("ms", 5, ("publisher", "equals", "Microsoft"))
    edited = rule("monthly", 1, ("billing_frequency", "equals", "monthly"))
    stale = rule("monthly", 9, ("billing_frequency", "equals", "monthly"))
    assert all(not m.claimed for m in matching(PRODUCTS, edited, [higher, stale]))


def test_preview_change_counts_moves():
    ms = rule(1, 1, ("publisher", "equals", "Microsoft"))
    new = rule("new", 2, ("billing_frequency", "equals", "monthly"))
    assert preview_change(PRODUCTS, [ms], [ms, new]) == [Move(DEFAULT_KEY, "new", 2)]
    assert preview_change(PRODUCTS, [ms, new], [ms]) == [Move("new", DEFAULT_KEY, 2)]
    assert preview_change(PRODUCTS, [ms], [ms]) == []


def test_preview_change_when_priorities_swap():
    ms = rule(1, 1, ("publisher", "equals", "Microsoft"))
    monthly = rule(2, 2, ("billing_frequency", "equals", "monthly"))
    swapped = rule(2, 0, ("billing_frequency", "equals", "monthly"))
    assert preview_change(PRODUCTS, [ms, monthly], [ms, swapped]) == [Move(1, 2, 1)]


def test_many_distinct_values_take_the_wide_column_path():
    products = [Product("Microsoft", "NCE", f"SKU{i:04d}", f"Title {i}", "P1M", "monthly") for i in range(600)]
    products += products[:10]  # repeated values: not all distinct
    rules = [
        rule(1, 1, ("product_id", "starts_with", "sku00")),
        rule(2, 2, ("title", "contains", "title 5")),
        rule(3, 3, ("product_id", "in", ("SKU0599", "sku0598"))),
        rule(4, 4, ("title", "not_equals", "Title 7")),
    ]
    assert assign(products, rules) == [oracle_key(p, rules) for p in products]


# --- property: the engine agrees with the naive oracle ------------------------------------

_values = st.sampled_from(["Microsoft", "microsoft ", "MICROSOFT", "Adobe", "Café", "Cafe\u0301", "", "P1M", "p1y"])
_conditions = st.builds(
    Condition,
    st.sampled_from(["publisher", "item_type", "billing_term"]),
    st.sampled_from(["equals", "not_equals", "contains", "starts_with"]),
    st.sampled_from(["microsoft", "adobe", "café", "p1", "soft"]),
) | st.builds(
    Condition,
    st.just("publisher"),
    st.just("in"),
    st.lists(st.sampled_from(["microsoft", "adobe", "café"]), min_size=1, max_size=3).map(tuple),
)
_products = st.lists(st.builds(Product, _values, _values, _values, _values, _values, _values), max_size=30)
_rules = st.lists(st.tuples(st.integers(1, 5), st.lists(_conditions, min_size=1, max_size=3)), max_size=6).map(
    lambda items: [Rule(i, priority, tuple(conds), MS) for i, (priority, conds) in enumerate(items)]
)


@settings(max_examples=150, deadline=None)
@given(_products, _rules)
def test_engine_agrees_with_the_oracle_and_counts_sum_to_products(products, rules):
    keys = assign(products, rules)
    assert keys == [oracle_key(p, rules) for p in products]
    assert [getattr(first_match(p, rules), "id", DEFAULT_KEY) for p in products] == keys
    result = counts(products, rules)
    assert sum(result.values()) == len(products)
    assert all(result[key] == keys.count(key) for key in result)


# --- validation ----------------------------------------------------------------------


def test_a_valid_rule_passes():
    validate_rule(rule(1, 1, ("publisher", "equals", "Microsoft"), ("billing_term", "in", ["P1M", "P1Y"])))
    validate_default(DEFAULT)


@pytest.mark.parametrize(
    "bad, key",
    [
        (rule(1, 1), "conditions"),
        (rule(1, 1, ("vendor", "equals", "x")), "conditions.0.field"),
        (rule(1, 1, ("publisher", "like", "x")), "conditions.0.operator"),
        (rule(1, 1, ("publisher", "equals", "   ")), "conditions.0.value"),
        (rule(1, 1, ("publisher", "equals", "x" * 256)), "conditions.0.value"),
        (rule(1, 1, ("publisher", "equals", ("a", "b"))), "conditions.0.value"),
        (rule(1, 1, ("publisher", "in", "Microsoft")), "conditions.0.value"),
        (rule(1, 1, ("publisher", "in", ())), "conditions.0.value"),
        (rule(1, 1, ("publisher", "in", ("ok", ""))), "conditions.0.value.1"),
        (rule(1, 1, ("publisher", "in", tuple(str(i) for i in range(101)))), "conditions.0.value"),
        (rule(1, 0, ("publisher", "equals", "x")), "priority"),
        (rule(1, True, ("publisher", "equals", "x")), "priority"),
        (
            rule(1, 1, ("publisher", "equals", "x"), attributes=Attributes("c" * 51, "s", "t", "Service")),
            "attributes.category",
        ),
        (
            rule(1, 1, ("publisher", "equals", "x"), attributes=Attributes("c", "", "t", "Service")),
            "attributes.subcategory",
        ),
        (
            rule(1, 1, ("publisher", "equals", "x"), attributes=Attributes("c", "s", "t" * 51, "Service")),
            "attributes.type",
        ),
        (
            rule(1, 1, ("publisher", "equals", "x"), attributes=Attributes("c", "s", "t", "service")),
            "attributes.product_class",
        ),
        (rule(1, 1, ("publisher", "equals", "x"), ("publisher", "equals", "X ")), "conditions"),
    ],
)
def test_each_validation_error_is_keyed_by_field(bad, key):
    with pytest.raises(RuleValidationError) as caught:
        validate_rule(bad)
    assert key in caught.value.errors
    assert all(isinstance(message, str) and message for message in caught.value.errors[key])


def test_fifty_characters_is_still_allowed():
    validate_rule(
        rule(1, 1, ("publisher", "equals", "x"), attributes=Attributes("c" * 50, "s" * 50, "t" * 50, "Bundle"))
    )


def test_identical_conditions_in_another_rule_are_refused_in_any_order_and_case():
    existing = rule(7, 1, ("publisher", "equals", "Microsoft"), ("billing_term", "in", ("P1M", "P1Y")))
    twin = rule(8, 2, ("billing_term", "in", ("p1y", "p1m")), ("publisher", "equals", " MICROSOFT"))
    errors = rule_errors(twin, [existing])
    assert errors == {"conditions": ["Rule 7 already has the same conditions."]}
    assert rule_errors(existing, [existing]) == {}  # a rule is not its own duplicate


def test_one_value_in_is_the_same_condition_as_equals():
    assert canonical_conditions([Condition("publisher", "in", ("Microsoft",))]) == canonical_conditions(
        [Condition("publisher", "equals", "microsoft")]
    )


def test_error_collects_every_problem_at_once():
    bad = Rule(1, 0, (Condition("vendor", "like", ""),), Attributes("", "", "", "x"))
    errors = rule_errors(bad)
    assert set(errors) == {
        "priority",
        "conditions.0.field",
        "conditions.0.operator",
        "attributes.category",
        "attributes.subcategory",
        "attributes.type",
        "attributes.product_class",
    }


def test_default_rule_validation():
    with pytest.raises(RuleValidationError) as caught:
        validate_default(DefaultRule(Attributes("x" * 51, "s", "t", "Agreement")))
    assert list(caught.value.errors) == ["attributes.category"]


# --- ConnectWise lists, search, descriptions (Configure Product Defaults) ------------------

from msphub_psa.domain.rules import (  # noqa: E402
    GUIDE_DEFAULT,
    CwLists,
    ListEntry,
    describe,
    resolve_attributes,
    search_matches,
)

LISTS = CwLists(
    categories=(ListEntry(1, "Software"), ListEntry(2, "Cloud Services")),
    subcategories=(ListEntry(1, "Microsoft 365", 2), ListEntry(2, "Azure", 2), ListEntry(3, "Security", 1)),
    types=(ListEntry(1, "Subscription"),),
)


def test_resolve_adopts_connectwise_spelling_and_flags_new_names():
    found = resolve_attributes(Attributes(" cloud SERVICES", "MICROSOFT 365 ", "subscription", "Agreement"), LISTS)
    assert found.attributes == Attributes("Cloud Services", "Microsoft 365", "Subscription", "Agreement")
    assert found.new == frozenset()
    fresh = resolve_attributes(GUIDE_DEFAULT, LISTS)
    assert fresh.new == {"category", "subcategory", "type"} and fresh.attributes == GUIDE_DEFAULT
    under_existing = resolve_attributes(Attributes("Software", "Creative", "Subscription", "Service"), LISTS)
    assert under_existing.new == {"subcategory"} and under_existing.is_new("subcategory")


@pytest.mark.parametrize("category", ["Software", "Brand New"])
def test_resolve_refuses_a_subcategory_of_another_category(category):
    with pytest.raises(RuleValidationError) as err:
        resolve_attributes(Attributes(category, "azure", "Subscription", "Agreement"), LISTS)
    assert "belongs to Cloud Services" in err.value.errors["attributes.subcategory"][0]


def test_search_is_contains_on_the_window_fields_with_the_rule_normalisation():
    assert search_matches(NCE, "365 business")
    assert search_matches(NCE, "cfq7ttc0")
    assert not search_matches(NCE, "monthly")  # billing frequency is not a window field
    assert search_matches(Product("Straße GmbH", "X", "1", "T"), "STRASSE")
    assert search_matches(NCE, "  ")


def test_describe_reads_like_the_guide():
    assert describe(Condition("publisher", "equals", "Microsoft")) == "Publisher = Microsoft"
    assert describe(Condition("billing_term", "in", ("P1M", "P1Y"))) == "Billing Term is one of P1M, P1Y"
