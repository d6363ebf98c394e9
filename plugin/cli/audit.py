"""``flask psa audit``: the audit log."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from msphub_psa.api.reconciliation import load
from msphub_psa.cli.common import AS_OPTION, DB_INT, CommandErrorAware, as_actor
from msphub_psa.commands.audit import ExportAuditCommand
from msphub_psa.schemas.audit import AuditFilterSchema


@click.group("audit", cls=CommandErrorAware)
def audit_cli() -> None:
    """The audit log."""


@audit_cli.command("export")
@click.option(
    "--partner", "partner_id", type=DB_INT, help="One partner (partner users: their own; Admin: all when omitted)."
)
@click.option("--since", help="From this ISO date or date-time (UTC unless an offset is given).")
@click.option("--until", help="Before this ISO date or date-time.")
@click.option("--user", "username_filter", help="Only this user's events.")
@click.option("--action", help="Action, or a prefix ending in '*' (e.g. 'customer.*').")
@click.option("--object-type")
@click.option("--object-id")
@click.option("--outcome", type=click.Choice(["ok", "refused", "failed"]))
@click.option("--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout).")
@AS_OPTION
@with_appcontext
def audit_export(partner_id, since, until, username_filter, action, object_type, object_id, outcome, output, username):
    """Export the audit log as CSV (the same filters and tenant scope as the page and the API)."""
    raw = {
        "partner_id": partner_id,
        "since": since,
        "until": until,
        "username": username_filter,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
    }
    filters = load(AuditFilterSchema(), {k: v for k, v in raw.items() if v is not None})
    for line in ExportAuditCommand(as_actor(username), filters).run():
        output.write(line)
