"""Name suggestions in bulk: 1,000 unmapped customers against 1,000 ConnectWise companies (pure domain code).

    python benchmarks/names.py [--customers 1000] [--companies 1000] [--runs 5]

Prints the median and worst wall time of ``suggest_many`` over ``--runs`` runs. The goal: under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from msphub_psa.domain.names import suggest_many  # noqa: E402

WORDS = [
    "Alpha",
    "Beta",
    "North",
    "South",
    "Tech",
    "IT",
    "Solutions",
    "Group",
    "Cloud",
    "Data",
    "Green",
    "River",
    "Stone",
    "Peak",
    "Nova",
    "Prime",
    "Smart",
    "Global",
    "Digital",
    "Blue",
]


def names(rng: random.Random, count: int) -> list[str]:
    """``count`` plausible company names."""
    return [
        " ".join(rng.sample(WORDS, 2)) + f" {rng.randint(1, 999)} " + rng.choice(["Inc", "Ltd", ""])
        for _ in range(count)
    ]


def main() -> None:
    """Time ``suggest_many`` and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(3)
    customers = list(enumerate(names(rng, args.customers)))
    companies = [(i, name, False) for i, name in enumerate(names(rng, args.companies))]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        suggest_many(customers, companies)
        times.append(time.perf_counter() - start)
    print(
        f"suggest_many {args.customers} x {args.companies}: median {statistics.median(times):.3f} s, "
        f"max {max(times):.3f} s over {args.runs} runs (goal: under 2 s)"
    )


if __name__ == "__main__":
    main()
