"""``flask psa directory``: the cache of the partner's ConnectWise companies and agreements."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.directory import (
    RefreshDirectoryCommand,
    RequestDirectoryRefreshCommand,
)
from msphub_psa.commands.reconciliation import (
    CompanyListCommand,
    ReconciliationSummaryCommand,
)


@click.group("directory", cls=CommandErrorAware)
def directory_cli() -> None:
    """The per-partner ConnectWise directory cache."""


@directory_cli.command("refresh")
@PARTNER_OPTION
@AS_OPTION
@click.option("--full", is_flag=True, help="Read every company and agreement, not only changes.")
@click.option("--enqueue", is_flag=True, help="Run it on the fast queue instead of here.")
@with_appcontext
def directory_refresh(partner_id: int, username: str, full: bool, enqueue: bool) -> None:
    """Refresh the ConnectWise companies and agreements, then map exact-name matches."""
    actor = as_actor(username)
    if enqueue:
        job_id, created = RequestDirectoryRefreshCommand(actor, partner_id, full).run()
        click.echo(f"Directory refresh {'queued' if created else 'already running'}: job {job_id}.")
        return
    result = RefreshDirectoryCommand(
        actor,
        partner_id,
        full,
        lambda p: click.echo(f"  {p['phase']}: {p['companies']} companies, {p['agreements']} agreements", err=True),
    ).run()
    click.echo(
        f"Directory refreshed ({'full' if result['full'] else 'incremental'}): {result['companies']} companies, "
        f"{result['agreements']} agreements read; {result['exact_mapped']} customers mapped by exact name."
    )


@directory_cli.command("status")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def directory_status(partner_id: int, username: str) -> None:
    """The directory refresh state and the cache's counts."""
    directory = ReconciliationSummaryCommand(as_actor(username), partner_id).run().directory
    for key, value in directory.items():
        click.echo(f"{key}: {value}")


@directory_cli.command("companies")
@PARTNER_OPTION
@AS_OPTION
@click.option("--search", default="", help="Name or ConnectWise id contains this.")
@click.option("--include-mapped", is_flag=True, help="Also companies already mapped to a customer.")
@click.option("--page", default=1, show_default=True)
@click.option("--page-size", default=50, show_default=True)
@with_appcontext
def directory_companies(
    partner_id: int, username: str, search: str, include_mapped: bool, page: int, page_size: int
) -> None:
    """List the cached ConnectWise companies (the Customers tab's right-hand list)."""
    rows, total = CompanyListCommand(as_actor(username), search, page, page_size, include_mapped, partner_id).run()
    for company in rows:
        click.echo(f"{company.id:>8}  #{company.remote_id:<8} {company.name}")
    click.echo(f"{total} compan{'y' if total == 1 else 'ies'}; page {page}.")
