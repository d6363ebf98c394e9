"""``flask psa ...``: the same commands as the pages and the API, acting as a named user (``--as``).

One module per group; a group's module (and the use cases it runs) is imported only when that group is used.
"""

from __future__ import annotations

import click

from msphub_psa.cli.common import LazyGroup

GROUPS = {
    "init": "ops:init_cmd",
    "health": "ops:health_cmd",
    "worker": "ops:worker_cmd",
    "scheduler": "ops:scheduler_cmd",
    "demo": "ops:demo_cmd",
    "demo-data": "ops:demo_data",
    "sandbox": "ops:sandbox_cmd",
    "rotate-keys": "ops:rotate_keys",
    "db": "db:db_cli",
    "tenants": "tenants:tenants_cli",
    "feature": "feature:feature_cli",
    "integration": "integration:integration_cli",
    "directory": "directory:directory_cli",
    "reconciliation": "reconciliation:reconciliation_cli",
    "customers": "customers:customers_cli",
    "subscriptions": "subscriptions:subscriptions_cli",
    "rules": "rules:rules_cli",
    "sync": "sync:sync_cli",
    "catalog": "catalog:catalog_cli",
    "audit": "audit:audit_cli",
    "assurance": "assurance:assurance_cli",
}


@click.group("psa", cls=LazyGroup, lazy=GROUPS)
def psa_cli() -> None:
    """ConnectWise PSA integration commands."""
