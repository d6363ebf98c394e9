"""``flask psa subscriptions``: subscription -> agreement mappings and the From Date."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.directory import system_actor
from msphub_psa.commands.subscriptions import (
    AgreementOptionsCommand,
    AssociatePreviewCommand,
    AutoAssociateSubscriptionsCommand,
    CustomerSubscriptionsCommand,
    MapSubscriptionsCommand,
    RemapPreviewCommand,
    RemapSubscriptionCommand,
    SubscriptionHistoryCommand,
)
from msphub_psa.commands.unmapped import UnmappedSubscriptionsCommand


@click.group("subscriptions", cls=CommandErrorAware)
def subscriptions_cli() -> None:
    """Subscription -> ConnectWise agreement mappings (Products / Subscriptions tab)."""


@subscriptions_cli.command("list")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=DB_INT, required=True)
@click.option("--history", is_flag=True, help="Also print every earlier mapping of each subscription.")
@with_appcontext
def subscriptions_list(partner_id: int, username: str, customer_id: int, history: bool) -> None:
    """List a mapped customer's subscriptions: agreement, From Date, sync status, or why unmapped."""
    actor = as_actor(username)
    found = CustomerSubscriptionsCommand(actor, customer_id, partner_id).run()
    click.echo(f"{found.customer.name} [{found.customer.external_id}] -> {found.mapping.company.name}")
    for row in found.rows:
        sub, mapping = row["subscription"], row["mapping"]
        target = (
            (
                f"{row['agreement'].name} (#{row['agreement'].remote_id}) from {mapping.from_date} "
                f"[{mapping.method} by {mapping.created_by}]"
            )
            if mapping
            else f"not mapped: {row['unmapped_reason']}"
        )
        click.echo(
            f"{sub.id:>8}  {sub.name} x{sub.quantity:f} ({sub.external_id})  -> {target}  sync: {row['sync']['status']}"
        )
        if history and mapping:
            for old in SubscriptionHistoryCommand(actor, sub.id, partner_id).run()[1:]:
                click.echo(
                    f"{'':>10}was {old.agreement.name} from {old.from_date} by {old.created_by}, "
                    f"ended {old.ended_at:%Y-%m-%d %H:%M} by {old.ended_by}"
                )
    mapped = sum(1 for r in found.rows if r["mapping"])
    click.echo(f"{mapped} of {len(found.rows)} subscription(s) mapped.")


@subscriptions_cli.command("unmapped")
@PARTNER_OPTION
@AS_OPTION
@click.option("--search", "search", default="", help="Subscription, customer or company name or id contains this.")
@click.option("--page", type=DB_INT, default=1, show_default=True)
@click.option("--page-size", type=DB_INT, default=50, show_default=True, help="1 to 200.")
@with_appcontext
def subscriptions_unmapped(partner_id: int, username: str, search: str, page: int, page_size: int) -> None:
    """Unmapped subscriptions across customers (Unmapped only): customer, company, and why not mapped."""
    found = UnmappedSubscriptionsCommand(as_actor(username), search, page, page_size, partner_id).run()
    for row in found.rows:
        sub, customer, company = row["subscription"], row["customer"], row["company"]
        click.echo(
            f"{sub.id:>8}  {sub.name} x{sub.quantity:f} ({sub.external_id})  customer {customer.name} "
            f"[{customer.external_id}] -> {company.name if company else 'no ConnectWise company'}: {row['reason']}"
        )
    first = (page - 1) * page_size
    shown = f"{first + 1}-{first + len(found.rows)}" if found.rows else "none"
    click.echo(f"{found.total} unmapped subscription(s); showing {shown}.")


@subscriptions_cli.command("agreements")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=DB_INT, required=True)
@with_appcontext
def subscriptions_agreements(partner_id: int, username: str, customer_id: int) -> None:
    """The agreements a mapped customer's subscriptions can go to: eligibility, From Date lower bound, warnings."""
    found = AgreementOptionsCommand(as_actor(username), customer_id, partner_id).run()
    click.echo(f"{found['customer'].name} -> {found['company'].name} (today {found['today']})")
    for option in found["agreements"]:
        agreement = option["agreement"]
        state = "eligible" if option["eligible"] else f"not eligible: {option['reason']}"
        click.echo(f"{agreement.id:>8}  {agreement.name}  [{state}]  From Date from {option['bound']}")
        for frequency, warning in option["warnings"].items():
            click.echo(f"          {frequency} subscriptions: {warning}")


def _from_date_options(func):
    """--from-date (custom) or the default: all history from the agreement's billing start."""
    return click.option(
        "--from-date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Custom From Date (YYYY-MM-DD); default: all history from the agreement's billing start.",
    )(func)


ACCEPT_MISMATCH = click.option(
    "--accept-mismatch",
    is_flag=True,
    help="Accept an agreement whose billing cycle does not match the subscription (otherwise the push blocks "
    "its charges: BillingCycleMismatch).",
)


@subscriptions_cli.command("map")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=DB_INT, required=True)
@click.option("--agreement", "agreement_id", type=DB_INT, required=True, help="Cached agreement id.")
@click.option(
    "--subscription", "subscription_ids", type=DB_INT, multiple=True, required=True, help="Repeat for several."
)
@_from_date_options
@ACCEPT_MISMATCH
@click.option("--preview", is_flag=True, help="Only show each From Date and what would be sent to ConnectWise.")
@with_appcontext
def subscriptions_map(
    partner_id: int,
    username: str,
    customer_id: int,
    agreement_id: int,
    subscription_ids: tuple[int, ...],
    from_date,
    accept_mismatch: bool,
    preview: bool,
) -> None:
    """Map unmapped subscriptions of a mapped customer to one agreement, in one transaction."""
    args = (
        as_actor(username),
        customer_id,
        agreement_id,
        list(subscription_ids),
        "custom" if from_date else "all",
        from_date.date() if from_date else None,
        partner_id,
    )
    if preview:
        _echo_associate_plan(AssociatePreviewCommand(*args).run())
        return
    created = MapSubscriptionsCommand(*args, accept_mismatch=accept_mismatch).run()
    click.echo(
        f"{len(created)} subscription(s) mapped to {created[0].agreement.name}: "
        + ", ".join(f"{m.subscription_id} from {m.from_date}" for m in created)
    )


def _echo_associate_plan(plan) -> None:
    """Print an Associate preview: each subscription's From Date and what goes to ConnectWise."""
    for row in plan.rows:
        p = row["preview"]
        click.echo(
            f"{row['subscription'].id:>8}  {row['subscription'].name} from {row['from_date']}: "
            f"{len(p.to_new)} transaction(s) to push ({p.to_new_amount:.2f}), {len(p.to_skip)} skipped"
        )
    click.echo(
        f"To {plan.agreement.name}: {plan.to_new} transaction(s) will be pushed ({plan.to_new_amount:.2f}), "
        f"{plan.to_skip} before the From Date skipped ({plan.to_skip_amount:.2f})."
    )
    for warning in plan.warnings:
        click.echo(f"  Warning: {warning}")


@subscriptions_cli.command("remap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--subscription", "subscription_id", type=DB_INT, required=True)
@click.option("--agreement", "agreement_id", type=DB_INT, required=True, help="Cached agreement id.")
@_from_date_options
@click.option(
    "--move-pushed",
    is_flag=True,
    help="Also move transactions already pushed to the old agreement after "
    "the From Date (the next push removes ours there and creates them on the new one; periods already "
    "invoiced must be credited on the old agreement).",
)
@click.option("--preview", is_flag=True, help="Only show what the change would do.")
@ACCEPT_MISMATCH
@with_appcontext
def subscriptions_remap(
    partner_id: int,
    username: str,
    subscription_id: int,
    agreement_id: int,
    from_date,
    move_pushed: bool,
    preview: bool,
    accept_mismatch: bool,
) -> None:
    """Change a subscription's agreement and/or From Date (the old mapping is kept as history)."""
    args = (
        as_actor(username),
        subscription_id,
        agreement_id,
        "custom" if from_date else "all",
        from_date.date() if from_date else None,
    )
    if preview:
        _echo_plan(RemapPreviewCommand(*args, partner_id=partner_id).run())
        return
    mapping, plan = RemapSubscriptionCommand(
        *args, move_pushed=move_pushed, partner_id=partner_id, accept_mismatch=accept_mismatch
    ).run()
    _echo_plan(plan)
    moved = len(mapping.move_transaction_ids or [])
    click.echo(
        f"Subscription {subscription_id} now mapped to {mapping.agreement.name} from {mapping.from_date}"
        f"{f' ({moved} pushed transaction(s) move at the next push)' if moved else ''}."
    )


def _echo_plan(plan) -> None:
    """Print a Change preview."""
    p = plan.preview
    click.echo(
        f"{plan.subscription.name}: {plan.current.agreement.name} from {plan.current.from_date} -> "
        f"{plan.agreement.name} from {plan.from_date} (allowed {plan.allowed.lower}..{plan.allowed.upper})"
    )
    click.echo(f"  {len(p.to_new)} transaction(s) not yet pushed go to the new agreement ({p.to_new_amount:.2f})")
    click.echo(f"  {len(p.to_skip)} transaction(s) before the From Date become skipped ({p.to_skip_amount:.2f})")
    click.echo(
        f"  {len(p.move_candidates)} already pushed after the From Date ({p.move_amount:.2f}, on "
        f"{', '.join(plan.move_from) or 'no other agreement'}) stay there unless moved (--move-pushed)"
    )
    for text in (plan.warning, p.warning):
        if text:
            click.echo(f"  Warning: {text}")


@subscriptions_cli.command("automap")
@PARTNER_OPTION
@click.option("--as", "username", default=None, help="Act as this user (default: the audited 'system' actor).")
@click.option("--customer", "customer_ids", type=DB_INT, multiple=True, help="Only these customers (repeat).")
@with_appcontext
def subscriptions_automap(partner_id: int, username: str | None, customer_ids: tuple[int, ...]) -> None:
    """Auto-associate unmapped subscriptions of mapped customers; the host runs it when subscriptions are created."""
    actor = as_actor(username) if username else system_actor(partner_id)
    result = AutoAssociateSubscriptionsCommand(actor, partner_id, list(customer_ids) or None).run()
    for mapping in result.created:
        click.echo(f"{mapping.subscription_id:>8}  -> {mapping.agreement.name} from {mapping.from_date}")
    for sub_id, reason in result.skipped.items():
        click.echo(f"{sub_id:>8}  not mapped: {reason}")
    click.echo(f"{len(result.created)} subscription(s) auto-associated, {len(result.skipped)} left unmapped.")
