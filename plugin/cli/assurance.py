"""``flask psa assurance``: revenue assurance: the read-back, its findings, and a person's decisions."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor, echo_json
from msphub_psa.commands.billing.assurance_actions import (
    ACTIONS,
    CODES,
    STATUSES,
    FindingsCommand,
    ResolveFindingCommand,
    RunAssuranceCommand,
)


@click.group("assurance", cls=CommandErrorAware)
def assurance_cli() -> None:
    """Revenue assurance: read ConnectWise back and compare it with what MSP Hub billed."""


@assurance_cli.command("run")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--inline", is_flag=True, help="Read back in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def assurance_run(partner_id: int, inline: bool, username: str) -> None:
    """Read every agreement holding our records back and record what drifted."""
    echo_json(RunAssuranceCommand(as_actor(username), partner_id, inline=inline).run())


@assurance_cli.command("findings")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--code", "codes", type=click.Choice(CODES), multiple=True, help="Only these kinds (repeatable).")
@click.option("--status", "statuses", type=click.Choice(STATUSES), multiple=True, help="Default: open.")
@click.option("--page", type=DB_INT, default=1)
@click.option("--page-size", type=DB_INT, default=50)
@AS_OPTION
@with_appcontext
def assurance_findings(
    partner_id: int, codes: tuple[str, ...], statuses: tuple[str, ...], page: int, page_size: int, username: str
) -> None:
    """The findings, largest money first, with the drift figure."""
    command = FindingsCommand(as_actor(username), partner_id, list(codes), list(statuses) or None, page, page_size)
    echo_json(command.run())


@assurance_cli.command("resolve")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.argument("finding_id", type=DB_INT)
@click.option("--action", type=click.Choice(list(ACTIONS)), required=True)
@click.option("--reason", default=None, help="Why (required to ignore).")
@AS_OPTION
@with_appcontext
def assurance_resolve(partner_id: int, finding_id: int, action: str, reason: str | None, username: str) -> None:
    """Decide on an open finding: re-create (missing), accept ConnectWise's value (edited), or ignore."""
    echo_json(ResolveFindingCommand(as_actor(username), finding_id, action, reason, partner_id).run())
