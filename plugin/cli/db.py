"""``flask psa db``: the plugin's own tables."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import CommandErrorAware
from msphub_psa.commands.health import (
    MigrateSchemaCommand,
    SchemaStatusCommand,
    schema_errors,
)


@click.group("db", cls=CommandErrorAware)
def db_cli() -> None:
    """The plugin's own tables: migrations shipped in the package, with a version table of their own."""


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the plugin's tables (run after the host's own migrations)."""
    before, after = MigrateSchemaCommand(revision).run()
    click.echo(
        f"The plugin's tables: {before or 'none'} -> {after}."
        if before != after
        else f"The plugin's tables are already at {after}."
    )


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the plugin's tables down to REVISION (``base`` drops them all, with their data)."""
    before, after = MigrateSchemaCommand(revision, down=True).run()
    click.echo(f"The plugin's tables: {before or 'none'} -> {after or 'none'}.")


@db_cli.command("check")
@with_appcontext
def db_check() -> None:
    """Are the plugin's tables at head, and does the database satisfy the marketplace contract? (exit 1 if not)"""
    found = SchemaStatusCommand().run()
    click.echo(
        f"The plugin's tables: {found.current or 'none'} (head {found.head})"
        f"{'' if found.at_head else ' — run `flask psa db upgrade`'}"
    )
    click.echo(
        "Marketplace contract: "
        + ("satisfied" if not found.contract_problems else f"{len(found.contract_problems)} problem(s)")
    )
    for line in schema_errors(found)[0 if found.at_head else 1 :]:
        click.echo(f"  {line}", err=True)
    for note in found.contract_notes:
        click.echo(f"  note: {note}")
    sys.exit(0 if found.ok else 1)
