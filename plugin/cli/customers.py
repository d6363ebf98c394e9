"""``flask psa customers``: customer <-> company mappings."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.reconciliation import (
    CustomerListCommand,
    ExactMatchesPreviewCommand,
    MapCustomerCommand,
    MapExactMatchesCommand,
    SuggestionsCommand,
    UnmapCustomerCommand,
)


@click.group("customers", cls=CommandErrorAware)
def customers_cli() -> None:
    """Customer <-> ConnectWise company mappings."""


@customers_cli.command("list")
@PARTNER_OPTION
@AS_OPTION
@click.option("--state", type=click.Choice(["unmapped", "mapped"]), default="unmapped", show_default=True)
@click.option("--search", default="", help="Name or external id contains this.")
@click.option("--page", default=1, show_default=True)
@click.option("--page-size", default=50, show_default=True)
@with_appcontext
def customers_list(partner_id: int, username: str, state: str, search: str, page: int, page_size: int) -> None:
    """List unmapped or mapped customers with their unsynchronized revenue."""
    rows, total = CustomerListCommand(as_actor(username), state, search, page, page_size, partner_id=partner_id).run()
    for row in rows:
        customer, company, mapping = row["customer"], row["company"], row["mapping"]
        target = (
            f" -> {company.name} (#{company.remote_id}) [{mapping.method} by {mapping.created_by}]" if company else ""
        )
        click.echo(
            f"{customer.id:>8}  {customer.name}{target}  unsynchronized {row['unsynchronized']:.2f}  "
            f"subscriptions {row['subscriptions_mapped']}/{row['subscriptions']}"
        )
    click.echo(f"{total} {state} customer(s); page {page}.")


@customers_cli.command("suggestions")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_ids", type=DB_INT, multiple=True, required=True, help="Repeat for several.")
@with_appcontext
def customers_suggestions(partner_id: int, username: str, customer_ids: tuple[int, ...]) -> None:
    """Near-match ConnectWise companies for customers, scored, with the reason (never mapped by this)."""
    found = SuggestionsCommand(as_actor(username), list(customer_ids), partner_id=partner_id).run()
    for customer_id, items in found.items():
        click.echo(f"customer {customer_id}: {'no suggestion' if not items else ''}")
        for item in items:
            click.echo(f"  {item.score:>3}  company {item.company_id:>8}  {item.company_name}  ({item.reason.text})")


@customers_cli.command("map")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=DB_INT, required=True)
@click.option("--company", "company_id", type=DB_INT, default=None, help="Cached company id.")
@click.option("--cw-company", "remote_company_id", type=DB_INT, default=None, help="ConnectWise company id.")
@with_appcontext
def customers_map(
    partner_id: int, username: str, customer_id: int, company_id: int | None, remote_company_id: int | None
) -> None:
    """Map a customer to a ConnectWise company (by cached id or ConnectWise id)."""
    if (company_id is None) == (remote_company_id is None):
        raise click.UsageError("Give --company or --cw-company (one of them).")
    mapping = MapCustomerCommand(
        as_actor(username), customer_id, company_id, remote_company_id, partner_id=partner_id
    ).run()
    click.echo(f"Customer {mapping.customer_id} mapped to {mapping.company.name} (#{mapping.company.remote_id}).")


@customers_cli.command("unmap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=DB_INT, required=True)
@with_appcontext
def customers_unmap(partner_id: int, username: str, customer_id: int) -> None:
    """Disassociate a customer (its subscription mappings end; what was pushed stays in ConnectWise)."""
    ended = UnmapCustomerCommand(as_actor(username), customer_id, partner_id).run()
    click.echo(f"Customer {customer_id} disassociated; {ended} subscription mapping(s) ended.")


@customers_cli.command("automap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--dry-run", is_flag=True, help="Only list what would be mapped.")
@with_appcontext
def customers_automap(partner_id: int, username: str, dry_run: bool) -> None:
    """Map every exact, case-sensitive name match (list them first with --dry-run)."""
    actor = as_actor(username)
    if dry_run:
        preview = ExactMatchesPreviewCommand(actor, partner_id).run()
        for customer_id, customer_name, _, company_name in preview.pairs:
            click.echo(f"{customer_id:>8}  {customer_name} -> {company_name}")
        for excluded in preview.excluded:
            click.echo(f"   skipped  {excluded['name']}: {excluded['text']}")
        click.echo(f"{len(preview.pairs)} customer(s) would be mapped.")
        return
    pairs = MapExactMatchesCommand(actor, partner_id).run()
    click.echo(f"{len(pairs)} customer(s) mapped by exact name.")
