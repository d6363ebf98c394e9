"""``flask psa feature``: the distributor's per-partner toggle."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor
from msphub_psa.commands.feature import (
    ListPartnerFeaturesCommand,
    SetPartnerFeatureCommand,
)


@click.group("feature", cls=CommandErrorAware)
def feature_cli() -> None:
    """The distributor's per-partner feature toggle."""


def _set_feature(partner_id: int, username: str, enabled: bool) -> None:
    """Run the toggle command as ``username`` and say what it did."""
    SetPartnerFeatureCommand(as_actor(username), partner_id, enabled).run()
    click.echo(f"ConnectWise integration {'enabled' if enabled else 'disabled'} for partner {partner_id}.")


@feature_cli.command("enable")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def feature_enable(partner_id: int, username: str) -> None:
    """Enable the ConnectWise integration for a partner."""
    _set_feature(partner_id, username, True)


@feature_cli.command("disable")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def feature_disable(partner_id: int, username: str) -> None:
    """Disable the ConnectWise integration for a partner."""
    _set_feature(partner_id, username, False)


@feature_cli.command("list")
@AS_OPTION
@with_appcontext
def feature_list(username: str) -> None:
    """List the partners of your distributor (Admin: all) with their toggle."""
    for partner, toggle in ListPartnerFeaturesCommand(as_actor(username)).run():
        state = "enabled" if toggle and toggle.enabled else "disabled"
        when = f" (changed {toggle.changed_at:%Y-%m-%d %H:%M})" if toggle and toggle.changed_at else ""
        click.echo(f"{partner.id:>6}  {partner.name:<40} {state}{when}")
