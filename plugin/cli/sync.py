"""``flask psa sync``: the billing push, its runs and rows, previews, approval and settings."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor, echo_json
from msphub_psa.commands.billing.blocked import SyncCheckCommand
from msphub_psa.commands.billing.preview import (
    ApprovePreviewCommand,
    DiscardPreviewCommand,
    PreparePreviewCommand,
    PreviewCommand,
    PreviewDetailCommand,
)
from msphub_psa.commands.billing.runs import (
    AcknowledgeRunAlertCommand,
    SyncProgressCommand,
    SyncRunFailuresCommand,
    SyncRunsCommand,
)
from msphub_psa.commands.billing.settings import (
    SyncSettingsCommand,
    UpdateSyncSettingsCommand,
)
from msphub_psa.commands.billing.status import (
    RetryFailedCommand,
    RunPushCommand,
    SyncItemDetailCommand,
    SyncStatusCommand,
)


@click.group("sync", cls=CommandErrorAware)
def sync_cli() -> None:
    """The billing push: run it, see its status, retry failed rows."""


@sync_cli.command("run")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--inline", is_flag=True, help="Run the push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_run(partner_id: int, inline: bool, username: str) -> None:
    """Push the partner's eligible billing transactions to ConnectWise."""
    command = RunPushCommand(as_actor(username), partner_id)
    echo_json(command.run_inline() if inline else command.run())


@sync_cli.command("status")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def sync_status(partner_id: int, username: str) -> None:
    """Rows per state, latest runs, failed rows with ConnectWise's reasons, refused products."""
    echo_json(SyncStatusCommand(as_actor(username), partner_id).run().as_dict())


@sync_cli.command("check")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--json", "as_json", is_flag=True, help="The whole answer as JSON.")
@AS_OPTION
@with_appcontext
def sync_check(partner_id: int, as_json: bool, username: str) -> None:
    """The rows the pre-flight checks blocked, grouped by cause, each cause with its fix (no ConnectWise call)."""
    result = SyncCheckCommand(as_actor(username), partner_id).run()
    if as_json:
        echo_json(result)
        return
    click.echo(result["summary"] or "No transaction is blocked.")
    for cause in result["causes"]:
        click.echo(f"\n{cause['code']}: {cause['count']} transaction(s), {cause['amount']} ({cause['cause']})")
        click.echo(f"  Fix: {cause['fix']}")
        for row in cause["rows"]:
            click.echo(f"  T{row['transaction_id']} agreement {row['agreement_remote_id']}: {row['message']}")


@sync_cli.command("show-item")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.argument("item_id", type=DB_INT)
@AS_OPTION
@with_appcontext
def sync_show_item(partner_id: int, item_id: int, username: str) -> None:
    """One outbox row with every state transition it went through."""
    echo_json(SyncItemDetailCommand(as_actor(username), item_id, partner_id).run())


@sync_cli.command("retry-failed")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--id", "item_ids", type=DB_INT, multiple=True, help="Only these outbox rows (repeatable).")
@AS_OPTION
@with_appcontext
def sync_retry_failed(partner_id: int, item_ids: tuple[int, ...], username: str) -> None:
    """Return failed rows to pending (the next push sends them again)."""
    count = RetryFailedCommand(as_actor(username), partner_id, list(item_ids) or None).run()
    click.echo(f"{count} failed row(s) returned to pending.")


@sync_cli.command("progress")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def sync_progress(partner_id: int, username: str) -> None:
    """The running push's progress (done / total, failures so far), a queued push, the open alert, the last run."""
    echo_json(SyncProgressCommand(as_actor(username), partner_id).run())


@sync_cli.command("runs")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--page", type=click.IntRange(1, 100_000), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@AS_OPTION
@with_appcontext
def sync_runs(partner_id: int, page: int, page_size: int, username: str) -> None:
    """The run history, newest first: times, status, counts by outcome, ConnectWise calls."""
    result = SyncRunsCommand(as_actor(username), partner_id, page, page_size).run()
    click.echo(f"{result['total']} run(s); page {page}")
    for run in result["result"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run["counts"].items())) or "-"
        flag = "  ALERT (not acknowledged)" if run["alert"] else ""
        click.echo(
            f"#{run['id']:<6} {run['status']:<10} {run['started_at']}  {run['duration_seconds']}s  {counts}  "
            f"calls {run['psa_calls']} (writes {run['writes']}, lookups {run['lookups']}, "
            f"catalog {run['catalog_calls']}){flag}"
        )


@sync_cli.command("show-run")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--run", "run_id", type=DB_INT, required=True)
@click.option("--page", type=click.IntRange(1, 100_000), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=25, show_default=True)
@AS_OPTION
@with_appcontext
def sync_show_run(partner_id: int, run_id: int, page: int, page_size: int, username: str) -> None:
    """One run and the rows that failed in it, with ConnectWise's code and reason (JSON)."""
    echo_json(SyncRunFailuresCommand(as_actor(username), run_id, partner_id, page, page_size).run())


@sync_cli.command("acknowledge")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--run", "run_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def sync_acknowledge(partner_id: int, run_id: int, username: str) -> None:
    """Acknowledge a failed, partial, stopped or abandoned run's alert (and any older open one)."""
    result = AcknowledgeRunAlertCommand(as_actor(username), run_id, partner_id).run()
    ids = ", ".join(f"#{i}" for i in result["acknowledged"])
    click.echo(f"Acknowledged {ids}." if ids else f"Run #{run_id} was already acknowledged.")


def _echo_sync_preview(data: dict) -> None:
    """Print a preview: who/what, totals, catalog, look-ups, the page of groups with their lines."""
    t = data["totals"]
    head = f"Preview #{data['id']} ({data['status']})" if data.get("id") else "Preview (live, not saved)"
    click.echo(
        f"{head}: {t['transactions']} transaction(s) for {t['customers']} customer(s), {t['agreements']} agreement(s)"
    )
    click.echo(
        f"  additions {t['additions']} = {t['charges']}   adjustments {t['adjustments']} = {t['credits']}   "
        f"net {t['net']}   blocked {t['blocked']}   errors {t['errors']}"
    )
    catalog = data["catalog"]
    if catalog.get("error"):
        click.echo(f"  catalog: {catalog['error']}")
    for item in catalog["create"]:
        click.echo(f"  catalog item to create: {item['identifier']} ({item.get('title') or ''})")
    for value in catalog["new_lists"]:
        click.echo(f"  classification value to create: {value}")
    click.echo(f"  looked up first (rows in sending): {data['lookups']['count']}")
    groups = data["groups"]
    click.echo(
        f"Groups {groups['page']} of {max(1, -(-groups['total'] // groups['page_size']))} ({groups['total']} in all):"
    )
    for g in groups["result"]:
        click.echo(
            f"  {g['customer_name']} -> {g['agreement_name']} (agreement id {g['agreement_id']}, ConnectWise "
            f"#{g['agreement_remote_id']}): {g['additions']} addition(s) {g['charges']}, {g['adjustments']} "
            f"adjustment(s) {g['credits']}, net {g['net']}"
        )
        for line in g["lines"]:
            qty = f"{line['quantity']} x {line['unit_price']} = " if line["quantity"] is not None else ""
            flag = f"  [{line['status']}: {line['error']}]" if line["status"] != "ok" else ""
            click.echo(
                f"    {line['reference']:<16} {line['kind']:<10} {line['product'][:40]:<40} "
                f"{line['period_start']}..{line['period_end']}  {qty}{line['amount']}{flag}"
            )
        if g["line_count"] > len(g["lines"]):
            click.echo(f"    ... {g['line_count'] - len(g['lines'])} more line(s)")


def _paging_options(func):
    """--page, --page-size (groups) and --lines (per group)."""
    func = click.option("--lines", default=20, show_default=True, help="Lines shown per group (0-500).")(func)
    func = click.option("--page-size", default=20, show_default=True, help="Groups per page (1-200).")(func)
    return click.option("--page", default=1, show_default=True)(func)


@sync_cli.command("preview")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--preview", "preview_id", type=DB_INT, default=None, help="Show this prepared preview instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@_paging_options
@AS_OPTION
@with_appcontext
def sync_preview(
    partner_id: int, preview_id: int | None, as_json: bool, page: int, page_size: int, lines: int, username: str
) -> None:
    """What a push would create now (dry run; nothing is written), or a prepared preview."""
    actor = as_actor(username)
    if preview_id:
        data = PreviewDetailCommand(actor, preview_id, partner_id, page, page_size, lines).run()
    else:
        data = PreviewCommand(actor, partner_id, page, page_size, lines).run()
    echo_json(data) if as_json else _echo_sync_preview(data)


@sync_cli.command("prepare")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def sync_prepare(partner_id: int, username: str) -> None:
    """Prepare a preview awaiting approval (a newer one expires the previous)."""
    actor = as_actor(username)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    if preview_id is None:
        click.echo("Nothing to push: no preview prepared.")
        return
    _echo_sync_preview(PreviewDetailCommand(actor, preview_id, partner_id, lines=0).run())


@sync_cli.command("approve")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--preview", "preview_id", type=DB_INT, required=True)
@click.option("--agreement", "agreement_ids", type=DB_INT, multiple=True, help="Only this agreement's group (repeat).")
@click.option("--inline", is_flag=True, help="Push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_approve(partner_id: int, preview_id: int, agreement_ids: tuple[int, ...], inline: bool, username: str) -> None:
    """Approve a preview: push exactly its transactions (of the chosen agreements) that are still eligible."""
    command = ApprovePreviewCommand(as_actor(username), preview_id, partner_id, list(agreement_ids) or None)
    echo_json(command.run_inline() if inline else command.run())


@sync_cli.command("push")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--agreement", "agreement_ids", type=DB_INT, multiple=True, help="Only this agreement's group (repeat).")
@click.option("--inline", is_flag=True, help="Push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_push(partner_id: int, agreement_ids: tuple[int, ...], inline: bool, username: str) -> None:
    """Prepare a preview and approve it at once (all, or the groups of some agreements)."""
    actor = as_actor(username)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    if preview_id is None:
        click.echo("Nothing to push.")
        return
    command = ApprovePreviewCommand(actor, preview_id, partner_id, list(agreement_ids) or None)
    echo_json({"preview_id": preview_id, **(command.run_inline() if inline else command.run())})


@sync_cli.command("discard")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--preview", "preview_id", type=DB_INT, required=True)
@AS_OPTION
@with_appcontext
def sync_discard(partner_id: int, preview_id: int, username: str) -> None:
    """Discard a preview awaiting approval."""
    echo_json(DiscardPreviewCommand(as_actor(username), preview_id, partner_id).run())


@sync_cli.command("settings")
@click.option("--partner", "partner_id", type=DB_INT, required=True)
@click.option("--schedule", type=click.Choice(["on", "off"]), default=None)
@click.option("--time", "at", default=None, help="HH:MM in the partner's timezone.")
@click.option("--days", default=None, help="Comma-separated: mon,tue,wed,thu,fri,sat,sun.")
@click.option("--approval", type=click.Choice(["default", "always", "never"]), default=None)
@click.option("--limit", default=None, help="ConnectWise requests a minute, or 'default'.")
@click.option(
    "--create-list-values",
    type=click.Choice(["on", "off"]),
    default=None,
    help="Whether the catalog sync may create the categories, subcategories and types the rules name.",
)
@AS_OPTION
@with_appcontext
def sync_settings(partner_id: int, schedule, at, days, approval, limit, create_list_values, username: str) -> None:
    """Show the sync settings, or change the ones given (the others stay)."""
    actor = as_actor(username)
    values = {
        k: v
        for k, v in {
            "schedule_enabled": None if schedule is None else schedule == "on",
            "schedule_time": at,
            "approval": approval,
            "schedule_days": None if days is None else [d for d in days.split(",") if d],
            "create_list_values": None if create_list_values is None else create_list_values == "on",
        }.items()
        if v is not None
    }
    if limit is not None:
        values["requests_per_minute"] = None if limit == "default" else _int_or_text(limit)
    command = UpdateSyncSettingsCommand(actor, values, partner_id) if values else SyncSettingsCommand(actor, partner_id)
    echo_json(command.run())


def _int_or_text(value: str):
    """An int where the text is one (the command refuses anything else with a clear message)."""
    try:
        return int(value)
    except ValueError:
        return value
