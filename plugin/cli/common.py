"""What every ``flask psa`` command shares: errors printed as one line, ``--as`` and ``--partner``, JSON output."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import click

from msphub_psa.commands.access import actor_for_user, find_user
from msphub_psa.commands.exceptions import CommandError
from msphub_psa.domain.actor import Actor
from msphub_psa.schemas.base import DB_INT_MAX, DB_INT_MIN, in_db_range


class DbInt(click.ParamType):
    """An integer an INTEGER column can hold (ids, counts): a larger one is a usage error, not a traceback."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The integer, or a clear usage error."""
        number = click.INT.convert(value, param, ctx)
        if not in_db_range(number):
            self.fail(f"{value} is out of range ({DB_INT_MIN} to {DB_INT_MAX}).", param, ctx)
        return number


DB_INT = DbInt()
AS_OPTION = click.option("--as", "username", required=True, help="Act as this user (for the audit log).")
PARTNER_OPTION = click.option("--partner", "partner_id", type=DB_INT, required=True, help="Partner id.")


class CommandErrorAware(click.Group):
    """Print a CommandError as a clear one-line message with a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, turning CommandErrors into ``Error (status): message``."""
        try:
            return super().invoke(ctx)
        except CommandError as err:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in err.errors.items())
            click.echo(f"Error ({err.status}): {err.message}{' — ' + details if details else ''}", err=True)
            sys.exit(2)


class LazyGroup(CommandErrorAware):
    """A group whose subcommands live in modules imported only when used (``name -> "module:attribute"``)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand's name."""
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand, importing its module on first use."""
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name].split(":")
        return getattr(importlib.import_module(f"msphub_psa.cli.{module}"), attribute)


def as_actor(username: str) -> Actor:
    """The Actor for ``--as USERNAME``; exits if the user does not exist."""
    user = find_user(username)
    if user is None or not user.active:
        raise click.BadParameter(f"No active user named {username!r}.", param_hint="--as")
    return actor_for_user(user)


def echo_json(data: Any) -> None:
    """Print a result as indented JSON."""
    click.echo(json.dumps(data, indent=2, default=str))
