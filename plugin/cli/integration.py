"""``flask psa integration``: the partner's ConnectWise card (activate, edit, status, deactivate)."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import with_appcontext

from msphub_psa.cli.common import AS_OPTION, PARTNER_OPTION, CommandErrorAware, as_actor
from msphub_psa.commands.integration import (
    ActivateIntegrationCommand,
    CredentialsInput,
    DeactivateIntegrationCommand,
    EditIntegrationCommand,
)
from msphub_psa.commands.integration_status import IntegrationStatusCommand
from msphub_psa.domain.actor import Actor


@click.group("integration", cls=CommandErrorAware)
def integration_cli() -> None:
    """The partner's ConnectWise integration: activate, edit, status, deactivate."""


def credential_options(func):
    """The card's fields; the private key only from a file or stdin, never as an argument."""
    options = [
        click.option("--client-id", default="", help="ConnectWise Client ID (cannot change after activation)."),
        click.option("--company", "company_name", required=True, help="ConnectWise company id used at login."),
        click.option("--public-key", required=True, help="API member's public key."),
        click.option(
            "--private-key-file",
            type=click.File("r"),
            default=None,
            help="File holding the private key ('-' for stdin). On edit, omit to keep the stored key.",
        ),
        click.option("--api-url", required=True, help="ConnectWise API URL (https, allowed host)."),
        click.option(
            "--wait",
            type=float,
            default=0,
            show_default=True,
            help="Seconds to wait for the validation's outcome (needs a running worker).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _values(client_id, company_name, public_key, private_key_file, api_url):
    """The CLI options as the command's input (the key read from its file, stripped)."""
    key = private_key_file.read().strip() if private_key_file is not None else ""
    return CredentialsInput(
        company_name=company_name, public_key=public_key, api_url=api_url, client_id=client_id, private_key=key
    )


def _report(actor: Actor, partner_id: int, result, wait: float) -> None:
    """Print the job, then (with --wait) the outcome once the validation ends."""

    click.echo(f"Validation {'queued' if result.created else 'already running'}: job {result.job_id}")
    deadline = time.monotonic() + wait
    state = IntegrationStatusCommand(actor, partner_id).run()
    while state["validating"] and time.monotonic() < deadline:
        time.sleep(0.5)
        state = IntegrationStatusCommand(actor, partner_id).run()
    _print_state(state)
    if state["validation_failed"]:
        sys.exit(1)


def _print_state(state: dict) -> None:
    """The card as text."""
    click.echo(f"Status: {state['status_label']}" + (" (validation running)" if state["validating"] else ""))
    for label, key in (
        ("Activated By", "activated_by"),
        ("Activated Date", "activated_at_display"),
        ("Deactivated Date", "deactivated_at_display"),
        ("Company", "company_name"),
        ("API URL", "api_url"),
        ("Client ID", "client_id"),
        ("Message", "message"),
        ("Hint", "hint"),
    ):
        if state.get(key):
            click.echo(f"{label}: {state[key]}")


def _save_command(name: str, command_class: type, doc: str) -> None:
    """Register ``flask psa integration <name>``: store the details and queue their validation."""

    @integration_cli.command(name, help=doc)
    @PARTNER_OPTION
    @credential_options
    @AS_OPTION
    @with_appcontext
    def save(partner_id, client_id, company_name, public_key, private_key_file, api_url, wait, username):
        actor = as_actor(username)
        values = _values(client_id, company_name, public_key, private_key_file, api_url)
        _report(actor, partner_id, command_class(actor, values, partner_id).run(), wait)


_save_command("activate", ActivateIntegrationCommand, "Activate: store the details and queue their validation.")
_save_command(
    "edit", EditIntegrationCommand, "Edit an active integration (validated before it replaces the working credentials)."
)


@integration_cli.command("status")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def integration_status(partner_id: int, username: str) -> None:
    """Show the integration's status."""
    _print_state(IntegrationStatusCommand(as_actor(username), partner_id).run())


@integration_cli.command("deactivate")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def integration_deactivate(partner_id: int, username: str) -> None:
    """Deactivate: PSA pages and jobs stop; mappings and history are kept."""
    DeactivateIntegrationCommand(as_actor(username), partner_id).run()
    click.echo(f"ConnectWise integration deactivated for partner {partner_id}.")
