"""``flask psa catalog``: the ConnectWise catalog items of MSP Hub products."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor, echo_json
from msphub_psa.commands.billing.status import CatalogSyncCommand


@click.group("catalog", cls=CommandErrorAware)
def catalog_cli() -> None:
    """The ConnectWise catalog items of MSP Hub products."""


@catalog_cli.command("sync")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be adopted, created or added; change nothing.")
@AS_OPTION
@with_appcontext
def catalog_sync(partner_id: int, dry_run: bool, username: str) -> None:
    """Adopt or create the catalog items of the products of eligible transactions."""
    echo_json(CatalogSyncCommand(as_actor(username), partner_id, dry_run).run())
