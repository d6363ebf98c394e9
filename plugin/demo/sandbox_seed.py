"""A ConnectWise sandbox seed that matches the demo's customers (plain data, no I/O).

The pilot partner's ConnectWise account holds, for its MSP Hub customers: mostly
companies with exactly the same name (mapped automatically), some differing only in
letter case or by a legal suffix (offered as suggestions, never auto-mapped), some
absent, plus companies MSP Hub does not know. Agreements per company: a monthly
one, for some an annual one, now and then a cancelled or an expired one.
"""

from __future__ import annotations

import random
from typing import Any

from msphub_psa.connectwise.sandbox import seed as cw_seed

SUFFIX_VARIANTS = (" LLC", " Inc.", " Ltd")
CW_ONLY = ("Globex Corporation", "Initech", "Umbrella Holdings", "Stark Industries", "Wayne Enterprises")


def company_name_for(name: str, rng: random.Random) -> str | None:
    """The ConnectWise name of an MSP Hub customer, or None when it has no company there."""
    draw = rng.random()
    if draw < 0.70:
        return name
    if draw < 0.80:
        return name.upper() if name != name.upper() else name.lower()
    if draw < 0.87:
        trimmed = next((name[: -len(s)] for s in SUFFIX_VARIANTS if name.endswith(s)), None)
        return trimmed or name + rng.choice(SUFFIX_VARIANTS)
    return None


def demo_seed(customer_names: list[str], seed: int = 42) -> dict[str, Any]:
    """The sandbox seed for the demo's pilot partner (account ``demo_msp``) and a second account."""
    rng = random.Random(seed)
    fixed = {"contoso pharmacy": "Contoso Pharmacy", "Northwind Traders": "Northwind Traders"}
    names = [fixed.get(n) or company_name_for(n, rng) for n in customer_names]
    names = [n for n in names if n] + list(CW_ONLY)
    unique = list(dict.fromkeys(names))
    companies = [cw_seed.company(i, n) for i, n in enumerate(unique, start=1)]
    base = cw_seed.default_seed()
    demo, other = base["accounts"]
    demo = {
        **demo,
        "companies": companies,
        "agreements": cw_seed.default_agreements([c["id"] for c in companies]),
        "additions": [],
        "adjustments": [],
    }
    return {"accounts": [demo, other]}
