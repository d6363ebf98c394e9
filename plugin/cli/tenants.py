"""``flask psa tenants``: which distributor or partner each user acts for."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor
from msphub_psa.commands.tenancy import AssignTenantCommand, TenantInput


@click.group("tenants", cls=CommandErrorAware)
def tenants_cli() -> None:
    """Which distributor or partner each user of the host acts for."""


@tenants_cli.command("assign")
@click.option("--user", "user", required=True, help="The host user's username.")
@click.option("--partner", "partner_id", type=DB_INT, default=None, help="The partner the user acts for.")
@click.option("--distributor", "distributor_id", type=DB_INT, default=None, help="Or the distributor.")
@click.option("--timezone", default=None, help="The user's timezone (IANA name), if not the tenant's.")
@AS_OPTION
@with_appcontext
def tenants_assign(
    user: str, partner_id: int | None, distributor_id: int | None, timezone: str | None, username: str
) -> None:
    """Tie a user to one partner or one distributor (Admin)."""
    scope = AssignTenantCommand(as_actor(username), TenantInput(user, distributor_id, partner_id, timezone)).run()
    click.echo(f"{user} acts for {scope}.")
