"""Benchmark of the rules engine: ``counts`` for 50 rules over 100,000 products.

Run: ``python benchmarks/rules.py [--products N] [--rules N] [--runs N]``.
Prints the median (and min/max) time of :func:`plugin.domain.rules.counts` with the
products already in memory, as the Product Defaults page calls it.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from plugin.domain.rules import (  # noqa: E402
    Attributes, Condition, Product, Rule, RuleValidationError, counts, validate_rule,
)

PUBLISHERS = {
    "Microsoft": ["OnlineServicesNCE", "OnlineServices", "Software", "Azure", "PerpetualSoftware"],
    "Acronis": ["Backup", "OnlineServices"],
    "Adobe": ["Software", "OnlineServices"],
    "Dropbox": ["OnlineServices"],
    "Google": ["Workspace", "OnlineServices"],
    "Kaspersky": ["Security", "Software"],
    "Bitdefender": ["Security"],
    "Zoom": ["OnlineServices"],
    "Autodesk": ["Software", "PerpetualSoftware"],
    "Veeam": ["Backup", "Software"],
}
WORDS = ["365", "Business", "Basic", "Standard", "Premium", "E3", "E5", "Cloud", "Backup",
         "Advanced", "Teams", "Exchange", "Online", "Creative", "Suite", "Security", "Plan 1",
         "Plan 2", "Workspace", "Enterprise", "Pro", "Essentials", "Defender", "Visio", "Project"]
TERMS = [("P1M", "monthly"), ("P1Y", "monthly"), ("P1Y", "annual"), ("P3Y", "annual"),
         ("P3Y", "one_time"), ("P1Y", "one_time")]


def make_products(n: int, rng: random.Random) -> list[Product]:
    """``n`` products with realistic field distributions (publishers skewed to Microsoft)."""
    names = list(PUBLISHERS)
    weights = [40, 10, 8, 5, 8, 6, 5, 4, 7, 7]
    products = []
    for i in range(n):
        publisher = rng.choices(names, weights)[0]
        term, frequency = rng.choice(TERMS)
        title = f"{publisher} {' '.join(rng.sample(WORDS, 3))}"
        products.append(Product(publisher, rng.choice(PUBLISHERS[publisher]),
                                f"{publisher[:3].upper()}{i:07d}:0001", title, term, frequency))
    return products


def make_rules(n: int, rng: random.Random) -> list[Rule]:
    """``n`` distinct, valid rules mixing every operator and field."""
    rules: list[Rule] = []
    while len(rules) < n:
        rule = Rule(len(rules) + 1, len(rules) + 1, _conditions(rng),
                    Attributes("Category", "Subcategory", "Type", rng.choice(["Agreement", "Service"])))
        try:
            validate_rule(rule, rules)
        except RuleValidationError:
            continue
        rules.append(rule)
    return rules


def _conditions(rng: random.Random) -> list[Condition]:
    """One to three random conditions."""
    publisher = rng.choice(list(PUBLISHERS))
    pool = [
        Condition("publisher", "equals", publisher.upper()),
        Condition("item_type", rng.choice(["equals", "not_equals"]), rng.choice(PUBLISHERS[publisher])),
        Condition("billing_term", "in", rng.sample(["P1M", "P1Y", "P3Y"], 2)),
        Condition("billing_frequency", "equals", rng.choice(["monthly", "annual", "one_time"])),
        Condition("title", "contains", rng.choice(WORDS)),
        Condition("product_id", "starts_with", publisher[:3] + str(rng.randint(0, 9))),
    ]
    return rng.sample(pool, rng.randint(1, 3))


def main() -> None:
    """Build the data set, time ``counts`` several times, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(42)
    products, rules = make_products(args.products, rng), make_rules(args.rules, rng)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = counts(products, rules)
        times.append(time.perf_counter() - start)
    assert sum(result.values()) == len(products)
    print(f"counts: {args.rules} rules x {args.products} products, {args.runs} runs: "
          f"median {statistics.median(times) * 1000:.1f} ms, "
          f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
          f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
