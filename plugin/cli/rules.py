"""``flask psa rules``: Configure Product Defaults."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.rules.common import RuleData
from msphub_psa.commands.rules.default import UpdateDefaultRuleCommand
from msphub_psa.commands.rules.delete import DeleteRuleCommand
from msphub_psa.commands.rules.lists import (
    RefreshListsCommand,
    RequestListsRefreshCommand,
)
from msphub_psa.commands.rules.matching import MatchingProductsCommand
from msphub_psa.commands.rules.move import MoveRuleCommand
from msphub_psa.commands.rules.overview import RulesOverviewCommand
from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand
from msphub_psa.commands.rules.save import SaveRuleCommand
from msphub_psa.schemas.rules import dump_overview, dump_preview


def _rule_options(func):
    """Options shared by ``rules add`` and ``rules edit``."""
    options = [
        click.option(
            "--condition",
            "conditions",
            type=(str, str, str),
            multiple=True,
            help="FIELD OPERATOR VALUE (repeat; all must hold; 'in' takes comma-separated values).",
        ),
        click.option("--category", default=None),
        click.option("--subcategory", default=None),
        click.option("--type", "type_", default=None),
        click.option("--class", "product_class", default=None),
        click.option("--priority", type=DB_INT, default=None, help="1 = checked first (default: last / unchanged)."),
        click.option("--preview", is_flag=True, help="Only show how the counts would move; save nothing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _conditions(triples) -> list[dict]:
    """CLI condition triples as submitted conditions."""
    return [
        {"field": f, "operator": o, "value": [v.strip() for v in value.split(",")] if o == "in" else value}
        for f, o, value in triples
    ]


def _echo_overview(data: dict) -> None:
    """Print the rules with their counts."""
    for rule in data["rules"]:
        new = f"  (will create in ConnectWise: {', '.join(rule['will_create'])})" if rule["will_create"] else ""
        click.echo(
            f"#{rule['priority']} rule {rule['id']}: {' AND '.join(rule['description'])} -> "
            f"{rule['category']} / {rule['subcategory']} / {rule['type']} / {rule['product_class']}"
            f"  [{rule['count']} products]{new}"
        )
    d = data["default"]
    click.echo(
        f"Default rule: {d['category']} / {d['subcategory']} / {d['type']} / {d['product_class']}"
        f"  [{d['count']} products]  ({data['total_products']} products in all)"
    )


def _echo_preview(result) -> None:
    """Print a preview's moves."""
    moves = dump_preview(result)["moves"]
    click.echo("\n".join(f"{m['text']}." for m in moves) if moves else "No product would change rule.")


@click.group("rules", cls=CommandErrorAware)
def rules_cli() -> None:
    """Configure Product Defaults: custom rules, the default rule, matching products."""


@rules_cli.command("list")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def rules_list(partner_id: int, username: str) -> None:
    """List the rules in priority order with the products each classifies."""
    _echo_overview(dump_overview(RulesOverviewCommand(as_actor(username), partner_id).run()))


@rules_cli.command("add")
@PARTNER_OPTION
@_rule_options
@AS_OPTION
@with_appcontext
def rules_add(partner_id, conditions, category, subcategory, type_, product_class, priority, preview, username):
    """Add a custom rule (or, with --preview, show what it would change)."""
    data = RuleData(
        _conditions(conditions), category or "", subcategory or "", type_ or "", product_class or "", priority
    )
    actor = as_actor(username)
    _echo_preview(PreviewRuleChangeCommand(actor, "create", data, partner_id=partner_id).run())
    if not preview:
        row = SaveRuleCommand(actor, data, partner_id=partner_id).run()
        click.echo(f"Rule {row.id} added at priority {row.priority}.")


@rules_cli.command("edit")
@PARTNER_OPTION
@click.argument("rule_id", type=DB_INT)
@_rule_options
@AS_OPTION
@with_appcontext
def rules_edit(
    partner_id, rule_id, conditions, category, subcategory, type_, product_class, priority, preview, username
):
    """Edit a rule (options not given keep their value); the default rule: `rules default`."""
    actor = as_actor(username)
    current = next((v.row for v in RulesOverviewCommand(actor, partner_id).run().rules if v.row.id == rule_id), None)
    if current is None:
        raise click.ClickException(f"Rule {rule_id} not found for partner {partner_id}.")
    data = RuleData(
        _conditions(conditions) if conditions else current.conditions,
        category or current.category,
        subcategory or current.subcategory,
        type_ or current.product_type,
        product_class or current.product_class,
        priority,
    )
    _echo_preview(PreviewRuleChangeCommand(actor, "edit", data, rule_id=rule_id).run())
    if not preview:
        row = SaveRuleCommand(actor, data, rule_id=rule_id).run()
        click.echo(f"Rule {row.id} saved (priority {row.priority}).")


@rules_cli.command("move")
@PARTNER_OPTION
@click.argument("rule_id", type=DB_INT)
@click.option("--priority", type=DB_INT, default=None)
@click.option("--up", "direction", flag_value="up", default=None)
@click.option("--down", "direction", flag_value="down")
@AS_OPTION
@with_appcontext
def rules_move(partner_id, rule_id, priority, direction, username):
    """Change a rule's priority (--priority N, --up or --down)."""
    actor = as_actor(username)
    _echo_preview(
        PreviewRuleChangeCommand(actor, "move", RuleData(priority=priority), rule_id=rule_id, direction=direction).run()
    )
    row = MoveRuleCommand(actor, rule_id, priority, direction).run()
    click.echo(f"Rule {row.id} is now priority {row.priority}.")


@rules_cli.command("delete")
@PARTNER_OPTION
@click.argument("rule_id", type=DB_INT)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@AS_OPTION
@with_appcontext
def rules_delete(partner_id, rule_id, yes, username):
    """Delete a custom rule (the default rule cannot be deleted)."""
    actor = as_actor(username)
    _echo_preview(PreviewRuleChangeCommand(actor, "delete", rule_id=rule_id).run())
    if yes or click.confirm(f"Delete rule {rule_id}?"):
        DeleteRuleCommand(actor, rule_id).run()
        click.echo(f"Rule {rule_id} deleted.")


@rules_cli.command("matching")
@PARTNER_OPTION
@click.argument("rule_id", type=DB_INT)
@click.option("--page", type=DB_INT, default=1, show_default=True)
@click.option("--page-size", type=DB_INT, default=25, show_default=True)
@click.option("--search", default="")
@AS_OPTION
@with_appcontext
def rules_matching(partner_id, rule_id, page, page_size, search, username):
    """Matching Products of a rule: publisher, item type, product id, title."""
    result = MatchingProductsCommand(as_actor(username), rule_id, page, page_size, search).run()
    for item, claimed in zip(result.items, result.claimed_by, strict=True):
        note = f"  (classified by {'Default Rule' if claimed == 'default' else f'rule {claimed}'})" if claimed else ""
        click.echo(f"{item.publisher}\t{item.item_type}\t{item.product_id}\t{item.title}{note}")
    click.echo(f"{result.total} products, page {result.page} of {result.pages}")


@rules_cli.command("default")
@PARTNER_OPTION
@click.option("--category", required=True)
@click.option("--subcategory", required=True)
@click.option("--type", "type_", required=True)
@click.option("--class", "product_class", required=True)
@AS_OPTION
@with_appcontext
def rules_default(partner_id, category, subcategory, type_, product_class, username):
    """Edit the default rule's attributes."""
    UpdateDefaultRuleCommand(
        as_actor(username), RuleData([], category, subcategory, type_, product_class), partner_id
    ).run()
    click.echo("Default rule saved.")


@rules_cli.command("refresh-lists")
@PARTNER_OPTION
@click.option("--queue", is_flag=True, help="Queue the job instead of refreshing now.")
@AS_OPTION
@with_appcontext
def rules_refresh_lists(partner_id, queue, username):
    """Refresh the cached ConnectWise categories, subcategories and product types."""
    actor = as_actor(username)
    if queue:
        RequestListsRefreshCommand(actor, partner_id).run()
        click.echo("Refresh queued.")
        return
    state = RefreshListsCommand(partner_id, actor).run()
    click.echo(f"Refresh {state.status}" + (f": {state.error}" if state.error else f" at {state.refreshed_at}."))
