"""Benchmark of the rules engine: ``counts`` for 50 rules over 100,000 products, and the
first page of a Matching Products window from the database.

Run: ``python benchmarks/rules.py [--products N] [--rules N] [--runs N] [--database-url URL]
[--skip-db]``. Prints the median (and min/max) time of :func:`msphub_psa.domain.rules.counts`
with the products already in memory (goal < 0.5 s), then loads the same products into a
fresh database (SQLite temp file, or a new PostgreSQL database next to ``--database-url``;
migrated, then dropped) and times ``MatchingProductsCommand`` (first page of 25, through
the DAO's SQL, for a narrow, a broad and a searched rule; goal < 100 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PSA_ENV", "test")
os.environ.setdefault("PSA_CW_LOOPBACK_PORTS", "")  # the sandbox listens on a free port

from msphub_psa.domain.rules import (  # noqa: E402
    Attributes,
    Condition,
    Product,
    Rule,
    RuleValidationError,
    counts,
    validate_rule,
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
WORDS = [
    "365",
    "Business",
    "Basic",
    "Standard",
    "Premium",
    "E3",
    "E5",
    "Cloud",
    "Backup",
    "Advanced",
    "Teams",
    "Exchange",
    "Online",
    "Creative",
    "Suite",
    "Security",
    "Plan 1",
    "Plan 2",
    "Workspace",
    "Enterprise",
    "Pro",
    "Essentials",
    "Defender",
    "Visio",
    "Project",
]
TERMS = [
    ("P1M", "monthly"),
    ("P1Y", "monthly"),
    ("P1Y", "annual"),
    ("P3Y", "annual"),
    ("P3Y", "one_time"),
    ("P1Y", "one_time"),
]


def make_products(n: int, rng: random.Random) -> list[Product]:
    """``n`` products with realistic field distributions (publishers skewed to Microsoft)."""
    names = list(PUBLISHERS)
    weights = [40, 10, 8, 5, 8, 6, 5, 4, 7, 7]
    products = []
    for i in range(n):
        publisher = rng.choices(names, weights)[0]
        term, frequency = rng.choice(TERMS)
        title = f"{publisher} {' '.join(rng.sample(WORDS, 3))}"
        products.append(
            Product(
                publisher,
                rng.choice(PUBLISHERS[publisher]),
                f"{publisher[:3].upper()}{i:07d}:0001",
                title,
                term,
                frequency,
            )
        )
    return products


def make_rules(n: int, rng: random.Random) -> list[Rule]:
    """``n`` distinct, valid rules mixing every operator and field."""
    rules: list[Rule] = []
    while len(rules) < n:
        rule = Rule(
            len(rules) + 1,
            len(rules) + 1,
            _conditions(rng),
            Attributes("Category", "Subcategory", "Type", rng.choice(["Agreement", "Service"])),
        )
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
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: SQLite temp file)")
    parser.add_argument("--skip-db", action="store_true", help="Only the in-memory counts")
    args = parser.parse_args()
    rng = random.Random(42)
    products, rules = make_products(args.products, rng), make_rules(args.rules, rng)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = counts(products, rules)
        times.append(time.perf_counter() - start)
    assert sum(result.values()) == len(products)
    print(
        f"counts: {args.rules} rules x {args.products} products, {args.runs} runs: "
        f"median {statistics.median(times) * 1000:.1f} ms, "
        f"min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
        f"({os.cpu_count()} CPUs, Python {sys.version.split()[0]}; products already in memory)"
    )
    if not args.skip_db:
        bench_window(products, rules, args.database_url, args.runs)


def bench_window(products: list[Product], rules: list[Rule], url: str | None, runs: int) -> None:
    """Load the products into a fresh database and time the first page of the window."""
    os.environ.setdefault("PSA_ENV", "test")
    from benchmarks.demo_data import fresh_database

    db_url, drop = fresh_database(url)
    try:
        _bench_window_on(products, rules, db_url, runs)
    finally:
        drop()


def _bench_window_on(products: list[Product], rules: list[Rule], db_url: str, runs: int) -> None:
    """Seed one distributor, partner, active integration and the rules; time three windows."""
    from app import create_app
    from msphub_psa.commands.rules.matching import MatchingProductsCommand
    from msphub_psa.daos.base import session
    from msphub_psa.demo.runner import migrate
    from msphub_psa.domain.actor import Actor
    from msphub_psa.models.hub import Distributor, Partner
    from msphub_psa.models.hub import Product as ProductRow
    from msphub_psa.models.integration import Integration
    from msphub_psa.models.rules import ProductRule
    from msphub_psa.models.tenancy import PartnerFeature

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        migrate(app)
        dist = Distributor(name="Bench")
        session().add(dist)
        session().flush()
        partner = Partner(distributor_id=dist.id, name="Bench partner")
        session().add(partner)
        session().flush()
        session().add_all(
            [
                PartnerFeature(partner_id=partner.id, enabled=True),
                Integration(
                    partner_id=partner.id,
                    status="active",
                    client_id="x",
                    company_name="x",
                    public_key="x",
                    private_key_encrypted=b"x",
                    api_url="https://api-na.myconnectwise.net",
                ),
            ]
        )
        session().execute(
            ProductRow.__table__.insert(),
            [{"distributor_id": dist.id, **{f: getattr(p, f) for f in Product.__dataclass_fields__}} for p in products],
        )
        rows = [
            ProductRule(
                partner_id=partner.id,
                priority=r.priority,
                category="C",
                subcategory="S",
                product_type="T",
                product_class="Agreement",
                conditions=[
                    {
                        "field": c.field,
                        "operator": c.operator,
                        "value": list(c.value) if isinstance(c.value, tuple) else c.value,
                    }
                    for c in r.conditions
                ],
            )
            for r in rules
        ]
        session().add_all(rows)
        session().commit()
        actor = Actor(None, "bench", roles=("Admin",), partner_id=None)
        narrow = next(r.id for r, d in zip(rows, rules, strict=True) if len(d.conditions) >= 2)
        broad = rows[0].id
        dialect = session().get_bind().dialect.name
        for label, rule_id, search in (
            ("narrow rule", narrow, ""),
            ("broad rule", broad, ""),
            ("broad rule + search", broad, "premium"),
        ):
            times = []
            for _ in range(runs):
                session().expire_all()
                start = time.perf_counter()
                page = MatchingProductsCommand(actor, rule_id, 1, 25, search).run()
                times.append(time.perf_counter() - start)
            print(
                f"matching window first page ({dialect}, {label}, {page.total} matches of {len(products)}): "
                f"median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
                f"max {max(times) * 1000:.1f} ms"
            )
        app.appbuilder.session.remove()
        app.appbuilder.session.get_bind().dispose()


if __name__ == "__main__":
    main()
