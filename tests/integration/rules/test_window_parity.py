"""The matching window's SQL (plain-ASCII rows) plus engine (the others) equals the engine alone."""

from __future__ import annotations

import random

from msphub_psa.daos.base import session
from msphub_psa.daos.hub import RuleProductDAO
from msphub_psa.domain import rules as engine
from msphub_psa.models.hub import Product
from tests.support import tenants

PIECES = [
    "Micro",
    "micro",
    "MICRO",
    "soft",
    "Soft",
    " ",
    "  ",
    "\t",
    "Straße",
    "STRASSE",
    "strasse",
    "Café",
    "Cafe\u0301",
    "\n",
    "\x0b",
    "\x1c",
    "\x1f",
    "\x7f",
    "İ",
    "ǅ",
    "K",
    "\u212a",
    "%",
    "_",
    "\\",
    "-",
    "365",
    "Business",
    "é",
    "ß",
    "ﬁ",
    "fi",
]


def text(rng) -> str:
    """A short string built from tricky pieces (case, Unicode forms, wildcards, whitespace)."""
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))


def condition(rng) -> engine.Condition:
    """A random valid condition."""
    operator = rng.choice(engine.OPERATORS)
    value = (
        [text(rng).strip() or "x" for _ in range(rng.randint(1, 3))]
        if operator == "in"
        else (text(rng).strip() or "Micro")
    )
    return engine.Condition(rng.choice(engine.FIELDS), operator, value)


def test_sql_window_agrees_with_the_engine(app):
    rng = random.Random(7)
    with app.app_context():
        distributor = tenants.pilot().distributor_id
        for i in range(300):
            session().add(
                Product(
                    distributor_id=distributor,
                    publisher=text(rng),
                    item_type=text(rng),
                    product_id=f"P{i}{text(rng)}",
                    title=text(rng),
                    billing_term=rng.choice(["P1M", "p1m"]),
                    billing_frequency=rng.choice(["monthly", "annual"]),
                )
            )
        session().commit()
        products = RuleProductDAO.rows(distributor)
        for _ in range(120):
            rule = engine.Rule(1, 1, tuple(condition(rng) for _ in range(rng.randint(1, 2))), engine.GUIDE_DEFAULT)
            search = rng.choice(["", "", "micro", "STRASSE", "é", "365 b"])
            expected = {
                m.product.id for m in engine.matching(products, rule) if engine.search_matches(m.product, search)
            }

            def odd(rows, rule=rule, search=search):
                hits = {m.product.id for m in engine.matching(rows, rule)}
                return [r.id for r in rows if r.id in hits and engine.search_matches(r, search)]

            conditions = [(c.field, *engine.canonical_condition(c)) for c in rule.conditions]
            total, page = RuleProductDAO.window(distributor, conditions, engine.normalize(search), odd, 1, 10_000)
            assert total == len(expected) and {row.id for row in page} == expected, (rule, search)
