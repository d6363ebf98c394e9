"""``flask psa reconciliation``: the Reconciliation Center's indicators."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.reconciliation import ReconciliationSummaryCommand


@click.group("reconciliation", cls=CommandErrorAware)
def reconciliation_cli() -> None:
    """The Reconciliation Center's indicators and monthly chart."""


@reconciliation_cli.command("summary")
@PARTNER_OPTION
@AS_OPTION
@click.option(
    "--period",
    type=click.Choice(["this_month", "last_3_months", "all"]),
    default="all",
    show_default=True,
    help="Period of the Unsynchronized Revenue figure.",
)
@click.option("--chart", is_flag=True, help="Also print the monthly pushed / unsynchronized figures.")
@with_appcontext
def reconciliation_summary(partner_id: int, username: str, period: str, chart: bool) -> None:
    """The indicators: unmapped customers and subscriptions, unsynchronized revenue, pending push, failed."""
    command = ReconciliationSummaryCommand(as_actor(username), partner_id, period)
    summary = command.run()
    counts, sync = summary.counts, summary.sync
    click.echo(f"Unmapped customers: {counts['customers'] - counts['mapped_customers']} of {counts['customers']}")
    click.echo(
        f"Unmapped subscriptions: {counts['subscriptions'] - counts['mapped_subscriptions']} of "
        f"{counts['subscriptions']}"
    )
    click.echo(f"Unsynchronized revenue ({period}): {summary.unsynchronized_revenue:.2f} {summary.currency}")
    click.echo(
        f"Pending push: {sync['pending_push']:.2f} {summary.currency} ({sync['pending_push_count']} transactions)"
    )
    click.echo(f"Failed: {sync['failed']:.2f} {summary.currency} ({sync['failed_count']} transactions)")
    causes = ", ".join(f"{c['count']} {c['cause']}" for c in sync["blocked_causes"])
    click.echo(
        f"Blocked: {sync['blocked']:.2f} {summary.currency} ({sync['blocked_count']} transactions)"
        + (f": {causes}" if causes else "")
    )
    if chart:
        click.echo(f"{'month':<9}{'pushed':>14}{'unsynchronized':>16}")
        for month in command.monthly():
            click.echo(f"{month['month']:%Y-%m}  {month['pushed']:>14.2f}{month['unsynchronized']:>16.2f}")
