"""``flask psa ...``: the same commands as the pages and the API, acting as a named user."""
from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from msphub_psa.settings import settings
from msphub_psa.domain.actor import Actor
from msphub_psa.commands.exceptions import CommandError
from msphub_psa.commands.access import actor_for_user, find_user


class CommandErrorAware(click.Group):
    """Print a CommandError as a clear one-line message with a non-zero exit."""

    def invoke(self, ctx):
        """Run the subcommand, turning CommandErrors into ``Error (status): message``."""
        try:
            return super().invoke(ctx)
        except CommandError as err:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in err.errors.items())
            click.echo(f"Error ({err.status}): {err.message}{' — ' + details if details else ''}", err=True)
            sys.exit(2)


@click.group("psa", cls=CommandErrorAware)
def psa_cli() -> None:
    """ConnectWise PSA integration commands."""


def as_actor(username: str) -> Actor:
    """The Actor for ``--as USERNAME``; exits if the user does not exist."""
    user = find_user(username)
    if user is None or not user.active:
        raise click.BadParameter(f"No active user named {username!r}.", param_hint="--as")
    return actor_for_user(user)


AS_OPTION = click.option("--as", "username", required=True, help="Act as this user (for the audit log).")


@psa_cli.command("init")
@with_appcontext
def init_cmd() -> None:
    """Create the plugin's roles (idempotent)."""
    from msphub_psa.commands.demo import ensure_roles

    created = ensure_roles()
    click.echo(f"Roles created: {', '.join(created)}" if created else "Roles already present.")


@psa_cli.group("tenants")
def tenants_cli() -> None:
    """Which distributor or partner each user of the host acts for."""


@tenants_cli.command("assign")
@click.option("--user", "user", required=True, help="The host user's username.")
@click.option("--partner", "partner_id", type=int, default=None, help="The partner the user acts for.")
@click.option("--distributor", "distributor_id", type=int, default=None, help="Or the distributor.")
@click.option("--timezone", default=None, help="The user's timezone (IANA name), if not the tenant's.")
@AS_OPTION
@with_appcontext
def tenants_assign(user: str, partner_id: int | None, distributor_id: int | None, timezone: str | None,
                   username: str) -> None:
    """Tie a user to one partner or one distributor (Admin)."""
    from msphub_psa.commands.tenancy import AssignTenantCommand, TenantInput

    scope = AssignTenantCommand(as_actor(username), TenantInput(user, distributor_id, partner_id, timezone)).run()
    click.echo(f"{user} acts for {scope}.")


@psa_cli.group("feature")
def feature_cli() -> None:
    """The distributor's per-partner feature toggle."""


def _set_feature(partner_id: int, username: str, enabled: bool) -> None:
    """Run the toggle command as ``username`` and say what it did."""
    from msphub_psa.commands.feature import SetPartnerFeatureCommand

    SetPartnerFeatureCommand(as_actor(username), partner_id, enabled).run()
    click.echo(f"ConnectWise integration {'enabled' if enabled else 'disabled'} for partner {partner_id}.")


@feature_cli.command("enable")
@click.option("--partner", "partner_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def feature_enable(partner_id: int, username: str) -> None:
    """Enable the ConnectWise integration for a partner."""
    _set_feature(partner_id, username, True)


@feature_cli.command("disable")
@click.option("--partner", "partner_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def feature_disable(partner_id: int, username: str) -> None:
    """Disable the ConnectWise integration for a partner."""
    _set_feature(partner_id, username, False)


@feature_cli.command("list")
@AS_OPTION
@with_appcontext
def feature_list(username: str) -> None:
    """List the partners of your distributor (Admin: all) with their toggle."""
    from msphub_psa.commands.feature import ListPartnerFeaturesCommand

    for partner, toggle in ListPartnerFeaturesCommand(as_actor(username)).run():
        state = "enabled" if toggle and toggle.enabled else "disabled"
        when = f" (changed {toggle.changed_at:%Y-%m-%d %H:%M})" if toggle and toggle.changed_at else ""
        click.echo(f"{partner.id:>6}  {partner.name:<40} {state}{when}")


@psa_cli.command("health")
@with_appcontext
def health_cmd() -> None:
    """Database, Redis, queue depths and live workers (exit status 1 when unhealthy)."""
    from msphub_psa.commands.health import CheckHealthCommand

    health = CheckHealthCommand().run()
    click.echo(f"database {'ok' if health.database else 'DOWN'}, schema {'ok' if health.schema_ok else 'NOT OK'}, "
               f"redis {'ok' if health.redis else 'DOWN'}, "
               f"workers {health.workers}, queues {health.queues}")
    for error in health.errors:
        click.echo(f"  {error}", err=True)
    sys.exit(0 if health.ok else 1)


@psa_cli.group("db")
def db_cli() -> None:
    """The plugin's own tables: migrations shipped in the package, with a version table of their own."""


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Create or migrate the plugin's tables (run after the host's own migrations)."""
    from msphub_psa.commands.health import MigrateSchemaCommand

    before, after = MigrateSchemaCommand(revision).run()
    click.echo(f"The plugin's tables: {before or 'none'} -> {after}." if before != after
               else f"The plugin's tables are already at {after}.")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the plugin's tables down to REVISION (``base`` drops them all, with their data)."""
    from msphub_psa.commands.health import MigrateSchemaCommand

    before, after = MigrateSchemaCommand(revision, down=True).run()
    click.echo(f"The plugin's tables: {before or 'none'} -> {after or 'none'}.")


@db_cli.command("check")
@with_appcontext
def db_check() -> None:
    """Are the plugin's tables at head, and does the database satisfy the marketplace contract? (exit 1 if not)"""
    from msphub_psa.commands.health import SchemaStatusCommand, schema_errors

    found = SchemaStatusCommand().run()
    click.echo(f"The plugin's tables: {found.current or 'none'} (head {found.head})"
               f"{'' if found.at_head else ' — run `flask psa db upgrade`'}")
    click.echo("Marketplace contract: " + ("satisfied" if not found.contract_problems
                                          else f"{len(found.contract_problems)} problem(s)"))
    for line in schema_errors(found)[0 if found.at_head else 1:]:
        click.echo(f"  {line}", err=True)
    for note in found.contract_notes:
        click.echo(f"  note: {note}")
    sys.exit(0 if found.ok else 1)


@psa_cli.command("demo-data")
@click.option("--seed", default=42, show_default=True)
@click.option("--customers", default=60, show_default=True, help="Customers of the pilot partner.")
@click.option("--subscriptions-per-customer", default=3, show_default=True)
@click.option("--months", default=12, show_default=True, help="Months of billing transactions.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Pretend today is this date.")
@with_appcontext
def demo_data(seed: int, customers: int, subscriptions_per_customer: int, months: int, today) -> None:
    """Seed deterministic demo data and print the demo logins."""
    from msphub_psa.commands.demo import SeedDemoDataCommand
    from msphub_psa.demo.generate import DemoSize

    started = time.perf_counter()
    size = DemoSize(seed=seed, customers=customers, subscriptions_per_customer=subscriptions_per_customer,
                    months=months)
    summary = SeedDemoDataCommand(size, today.date() if today else None).run()
    seconds = time.perf_counter() - started
    click.echo(f"Demo data: {summary.counts} in {seconds:.1f} s")
    for username, role, password in summary.users:
        click.echo(f"  {role:<18} {username:<16} {password}")


@psa_cli.command("worker")
@click.option("--queues", default="fast,sync", show_default=True, help="Queue kinds to serve.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--with-scheduler/--without-scheduler", default=True, show_default=True)
@click.option("--name", default=None, help="Worker name (unique per host).")
@with_appcontext
def worker_cmd(queues: str, burst: bool, with_scheduler: bool, name: str | None) -> None:
    """Run an RQ worker inside this application (refused while the plugin's tables are not at head or the
    marketplace contract is not satisfied: its jobs would fail)."""
    from msphub_psa.commands.billing.recovery import ResumeStalePushesCommand
    from msphub_psa.commands.health import SchemaStatusCommand
    from msphub_psa.worker import make_worker

    problems = SchemaStatusCommand().problems()
    if problems:
        raise click.ClickException("The worker cannot start: " + "; ".join(problems))
    kinds = [q.strip() for q in queues.split(",") if q.strip()]
    worker = make_worker(current_app._get_current_object(), kinds, name)
    if "sync" in kinds:
        ResumeStalePushesCommand().run()  # a killed worker's push is not re-run by RQ: recover its rows now
    worker.work(burst=burst, with_scheduler=with_scheduler)


@psa_cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def demo_cmd(host: str, port: int) -> None:
    """Run the demo: migrate, seed, start Redis if needed, the worker and the web app."""
    from msphub_psa.demo.runner import run_demo

    if settings().env == "production":
        raise click.ClickException("The demo runs with PSA_ENV=demo (generated secrets, SQLite by default).")
    run_demo(current_app._get_current_object(), host, port)


@psa_cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option("--data", "data_path", default=None, help="SQLite file for the sandbox's state (default: memory).")
@click.option("--seed", "seed_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Seed JSON (default: companies matching this database's demo customers).")
@click.option("--latency-ms", default=0, show_default=True, help="Added latency per request.")
@with_appcontext
def sandbox_cmd(host: str, port: int, data_path: str | None, seed_path: str | None, latency_ms: int) -> None:
    """Serve the ConnectWise sandbox on loopback (plain HTTP)."""
    from werkzeug.serving import make_server

    from msphub_psa.connectwise.sandbox import create_app
    from msphub_psa.connectwise.sandbox.seed import DEMO_CLIENT_ID, DEMO_COMPANY_ID, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
    from msphub_psa.commands.demo import pilot_customer_names
    from msphub_psa.demo.sandbox_seed import demo_seed

    if host not in ("127.0.0.1", "::1", "localhost"):
        raise click.ClickException("The sandbox serves loopback only.")
    seed = seed_path or demo_seed(pilot_customer_names())
    faults = [{"kind": "latency", "ms": latency_ms}] if latency_ms else []
    server = make_server(host, port, create_app(data_path, seed=seed, faults=faults), threaded=True)
    click.echo(f"ConnectWise sandbox: API URL http://{host}:{server.port}  company {DEMO_COMPANY_ID}  "
               f"public key {DEMO_PUBLIC_KEY}  private key {DEMO_PRIVATE_KEY}  client id {DEMO_CLIENT_ID}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


# -- ConnectWise integration card -----------------------------------------------------------------

@psa_cli.group("integration")
def integration_cli() -> None:
    """The partner's ConnectWise integration: activate, edit, status, deactivate."""


PARTNER_OPTION = click.option("--partner", "partner_id", type=int, required=True, help="Partner id.")


def credential_options(func):
    """The card's fields; the private key only from a file or stdin, never as an argument."""
    options = [
        click.option("--client-id", default="", help="ConnectWise Client ID (cannot change after activation)."),
        click.option("--company", "company_name", required=True, help="ConnectWise company id used at login."),
        click.option("--public-key", required=True, help="API member's public key."),
        click.option("--private-key-file", type=click.File("r"), default=None,
                     help="File holding the private key ('-' for stdin). On edit, omit to keep the stored key."),
        click.option("--api-url", required=True, help="ConnectWise API URL (https, allowed host)."),
        click.option("--wait", type=float, default=0, show_default=True,
                     help="Seconds to wait for the validation's outcome (needs a running worker)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _values(client_id, company_name, public_key, private_key_file, api_url):
    """The CLI options as the command's input (the key read from its file, stripped)."""
    from msphub_psa.commands.integration import CredentialsInput

    key = private_key_file.read().strip() if private_key_file is not None else ""
    return CredentialsInput(company_name=company_name, public_key=public_key, api_url=api_url,
                            client_id=client_id, private_key=key)


def _report(actor: Actor, partner_id: int, result, wait: float) -> None:
    """Print the job, then (with --wait) the outcome once the validation ends."""
    import time

    from msphub_psa.commands.integration_status import IntegrationStatusCommand

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
    for label, key in (("Activated By", "activated_by"), ("Activated Date", "activated_at_display"),
                       ("Company", "company_name"), ("API URL", "api_url"), ("Client ID", "client_id"),
                       ("Message", "message"), ("Hint", "hint")):
        if state.get(key):
            click.echo(f"{label}: {state[key]}")


@integration_cli.command("activate")
@PARTNER_OPTION
@credential_options
@AS_OPTION
@with_appcontext
def integration_activate(partner_id, client_id, company_name, public_key, private_key_file, api_url, wait, username):
    """Activate: store the details and queue their validation."""
    from msphub_psa.commands.integration import ActivateIntegrationCommand

    actor = as_actor(username)
    values = _values(client_id, company_name, public_key, private_key_file, api_url)
    _report(actor, partner_id, ActivateIntegrationCommand(actor, values, partner_id).run(), wait)


@integration_cli.command("edit")
@PARTNER_OPTION
@credential_options
@AS_OPTION
@with_appcontext
def integration_edit(partner_id, client_id, company_name, public_key, private_key_file, api_url, wait, username):
    """Edit an active integration (validated before it replaces the working credentials)."""
    from msphub_psa.commands.integration import EditIntegrationCommand

    actor = as_actor(username)
    values = _values(client_id, company_name, public_key, private_key_file, api_url)
    _report(actor, partner_id, EditIntegrationCommand(actor, values, partner_id).run(), wait)


@integration_cli.command("status")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def integration_status(partner_id: int, username: str) -> None:
    """Show the integration's status."""
    from msphub_psa.commands.integration_status import IntegrationStatusCommand

    _print_state(IntegrationStatusCommand(as_actor(username), partner_id).run())


@integration_cli.command("deactivate")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def integration_deactivate(partner_id: int, username: str) -> None:
    """Deactivate: PSA pages and jobs stop; mappings and history are kept."""
    from msphub_psa.commands.integration import DeactivateIntegrationCommand

    DeactivateIntegrationCommand(as_actor(username), partner_id).run()
    click.echo(f"ConnectWise integration deactivated for partner {partner_id}.")
# --- Reconciliation Center (issue 6) -------------------------------------------------------


@psa_cli.group("directory")
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
    from msphub_psa.commands.directory import RefreshDirectoryCommand, RequestDirectoryRefreshCommand

    actor = as_actor(username)
    if enqueue:
        job_id, created = RequestDirectoryRefreshCommand(actor, partner_id, full).run()
        click.echo(f"Directory refresh {'queued' if created else 'already running'}: job {job_id}.")
        return
    result = RefreshDirectoryCommand(actor, partner_id, full, lambda p: click.echo(
        f"  {p['phase']}: {p['companies']} companies, {p['agreements']} agreements", err=True)).run()
    click.echo(f"Directory refreshed ({'full' if result['full'] else 'incremental'}): {result['companies']} companies, "
               f"{result['agreements']} agreements read; {result['exact_mapped']} customers mapped by exact name.")


@directory_cli.command("status")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def directory_status(partner_id: int, username: str) -> None:
    """The directory refresh state and the cache's counts."""
    from msphub_psa.commands.reconciliation import ReconciliationSummaryCommand

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
def directory_companies(partner_id: int, username: str, search: str, include_mapped: bool, page: int,
                        page_size: int) -> None:
    """List the cached ConnectWise companies (the Customers tab's right-hand list)."""
    from msphub_psa.commands.reconciliation import CompanyListCommand

    rows, total = CompanyListCommand(as_actor(username), search, page, page_size, include_mapped, partner_id).run()
    for company in rows:
        click.echo(f"{company.id:>8}  #{company.remote_id:<8} {company.name}")
    click.echo(f"{total} compan{'y' if total == 1 else 'ies'}; page {page}.")


@psa_cli.group("reconciliation")
def reconciliation_cli() -> None:
    """The Reconciliation Center's indicators and monthly chart."""


@reconciliation_cli.command("summary")
@PARTNER_OPTION
@AS_OPTION
@click.option("--period", type=click.Choice(["this_month", "last_3_months", "all"]), default="all", show_default=True,
              help="Period of the Unsynchronized Revenue figure.")
@click.option("--chart", is_flag=True, help="Also print the monthly pushed / unsynchronized figures.")
@with_appcontext
def reconciliation_summary(partner_id: int, username: str, period: str, chart: bool) -> None:
    """The indicators: unmapped customers and subscriptions, unsynchronized revenue, pending push, failed."""
    from msphub_psa.commands.reconciliation import ReconciliationSummaryCommand

    command = ReconciliationSummaryCommand(as_actor(username), partner_id, period)
    summary = command.run()
    counts, sync = summary.counts, summary.sync
    click.echo(f"Unmapped customers: {counts['customers'] - counts['mapped_customers']} of {counts['customers']}")
    click.echo(f"Unmapped subscriptions: {counts['subscriptions'] - counts['mapped_subscriptions']} of "
               f"{counts['subscriptions']}")
    click.echo(f"Unsynchronized revenue ({period}): {summary.unsynchronized_revenue:.2f} {summary.currency}")
    click.echo(f"Pending push: {sync['pending_push']:.2f} {summary.currency} ({sync['pending_push_count']} transactions)")
    click.echo(f"Failed: {sync['failed']:.2f} {summary.currency} ({sync['failed_count']} transactions)")
    if chart:
        click.echo(f"{'month':<9}{'pushed':>14}{'unsynchronized':>16}")
        for month in command.monthly():
            click.echo(f"{month['month']:%Y-%m}  {month['pushed']:>14.2f}{month['unsynchronized']:>16.2f}")


@psa_cli.group("customers")
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
    from msphub_psa.commands.reconciliation import CustomerListCommand

    rows, total = CustomerListCommand(as_actor(username), state, search, page, page_size, partner_id=partner_id).run()
    for row in rows:
        customer, company, mapping = row["customer"], row["company"], row["mapping"]
        target = f" -> {company.name} (#{company.remote_id}) [{mapping.method} by {mapping.created_by}]" if company else ""
        click.echo(f"{customer.id:>8}  {customer.name}{target}  unsynchronized {row['unsynchronized']:.2f}  "
                   f"subscriptions {row['subscriptions_mapped']}/{row['subscriptions']}")
    click.echo(f"{total} {state} customer(s); page {page}.")


@customers_cli.command("suggestions")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_ids", type=int, multiple=True, required=True, help="Repeat for several.")
@with_appcontext
def customers_suggestions(partner_id: int, username: str, customer_ids: tuple[int, ...]) -> None:
    """Near-match ConnectWise companies for customers, scored, with the reason (never mapped by this)."""
    from msphub_psa.commands.reconciliation import SuggestionsCommand

    found = SuggestionsCommand(as_actor(username), list(customer_ids), partner_id=partner_id).run()
    for customer_id, items in found.items():
        click.echo(f"customer {customer_id}: {'no suggestion' if not items else ''}")
        for item in items:
            click.echo(f"  {item.score:>3}  company {item.company_id:>8}  {item.company_name}  ({item.reason.text})")


@customers_cli.command("map")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=int, required=True)
@click.option("--company", "company_id", type=int, default=None, help="Cached company id.")
@click.option("--cw-company", "remote_company_id", type=int, default=None, help="ConnectWise company id.")
@with_appcontext
def customers_map(partner_id: int, username: str, customer_id: int, company_id: int | None,
                  remote_company_id: int | None) -> None:
    """Map a customer to a ConnectWise company (by cached id or ConnectWise id)."""
    from msphub_psa.commands.reconciliation import MapCustomerCommand

    if (company_id is None) == (remote_company_id is None):
        raise click.UsageError("Give --company or --cw-company (one of them).")
    mapping = MapCustomerCommand(as_actor(username), customer_id, company_id, remote_company_id,
                                 partner_id=partner_id).run()
    click.echo(f"Customer {mapping.customer_id} mapped to {mapping.company.name} (#{mapping.company.remote_id}).")


@customers_cli.command("unmap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=int, required=True)
@with_appcontext
def customers_unmap(partner_id: int, username: str, customer_id: int) -> None:
    """Disassociate a customer (its subscription mappings end; what was pushed stays in ConnectWise)."""
    from msphub_psa.commands.reconciliation import UnmapCustomerCommand

    ended = UnmapCustomerCommand(as_actor(username), customer_id, partner_id).run()
    click.echo(f"Customer {customer_id} disassociated; {ended} subscription mapping(s) ended.")


@customers_cli.command("automap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--dry-run", is_flag=True, help="Only list what would be mapped.")
@with_appcontext
def customers_automap(partner_id: int, username: str, dry_run: bool) -> None:
    """Map every exact, case-sensitive name match (list them first with --dry-run)."""
    from msphub_psa.commands.reconciliation import ExactMatchesPreviewCommand, MapExactMatchesCommand

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


# --- Configure Product Defaults (issue 5) ---------------------------------------------

def _rule_options(func):
    """Options shared by ``rules add`` and ``rules edit``."""
    options = [
        click.option("--condition", "conditions", type=(str, str, str), multiple=True,
                     help="FIELD OPERATOR VALUE (repeat; all must hold; 'in' takes comma-separated values)."),
        click.option("--category", default=None), click.option("--subcategory", default=None),
        click.option("--type", "type_", default=None), click.option("--class", "product_class", default=None),
        click.option("--priority", type=int, default=None, help="1 = checked first (default: last / unchanged)."),
        click.option("--preview", is_flag=True, help="Only show how the counts would move; save nothing."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _conditions(triples) -> list[dict]:
    """CLI condition triples as submitted conditions."""
    return [{"field": f, "operator": o, "value": [v.strip() for v in value.split(",")] if o == "in" else value}
            for f, o, value in triples]


def _echo_overview(data: dict) -> None:
    """Print the rules with their counts."""
    for rule in data["rules"]:
        new = f"  (will create in ConnectWise: {', '.join(rule['will_create'])})" if rule["will_create"] else ""
        click.echo(f"#{rule['priority']} rule {rule['id']}: {' AND '.join(rule['description'])} -> "
                   f"{rule['category']} / {rule['subcategory']} / {rule['type']} / {rule['product_class']}"
                   f"  [{rule['count']} products]{new}")
    d = data["default"]
    click.echo(f"Default rule: {d['category']} / {d['subcategory']} / {d['type']} / {d['product_class']}"
               f"  [{d['count']} products]  ({data['total_products']} products in all)")


def _echo_preview(result) -> None:
    """Print a preview's moves."""
    from msphub_psa.schemas.rules import dump_preview

    moves = dump_preview(result)["moves"]
    click.echo("\n".join(f"{m['text']}." for m in moves) if moves else "No product would change rule.")


@psa_cli.group("rules")
def rules_cli() -> None:
    """Configure Product Defaults: custom rules, the default rule, matching products."""


@rules_cli.command("list")
@PARTNER_OPTION
@AS_OPTION
@with_appcontext
def rules_list(partner_id: int, username: str) -> None:
    """List the rules in priority order with the products each classifies."""
    from msphub_psa.commands.rules.overview import RulesOverviewCommand
    from msphub_psa.schemas.rules import dump_overview

    _echo_overview(dump_overview(RulesOverviewCommand(as_actor(username), partner_id).run()))


@rules_cli.command("add")
@PARTNER_OPTION
@_rule_options
@AS_OPTION
@with_appcontext
def rules_add(partner_id, conditions, category, subcategory, type_, product_class, priority, preview, username):
    """Add a custom rule (or, with --preview, show what it would change)."""
    from msphub_psa.commands.rules.common import RuleData
    from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand
    from msphub_psa.commands.rules.save import SaveRuleCommand

    data = RuleData(_conditions(conditions), category or "", subcategory or "", type_ or "", product_class or "",
                    priority)
    actor = as_actor(username)
    _echo_preview(PreviewRuleChangeCommand(actor, "create", data, partner_id=partner_id).run())
    if not preview:
        row = SaveRuleCommand(actor, data, partner_id=partner_id).run()
        click.echo(f"Rule {row.id} added at priority {row.priority}.")


@rules_cli.command("edit")
@PARTNER_OPTION
@click.argument("rule_id", type=int)
@_rule_options
@AS_OPTION
@with_appcontext
def rules_edit(partner_id, rule_id, conditions, category, subcategory, type_, product_class, priority, preview,
               username):
    """Edit a rule (options not given keep their value); the default rule: `rules default`."""
    from msphub_psa.commands.rules.common import RuleData
    from msphub_psa.commands.rules.overview import RulesOverviewCommand
    from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand
    from msphub_psa.commands.rules.save import SaveRuleCommand

    actor = as_actor(username)
    current = next((v.row for v in RulesOverviewCommand(actor, partner_id).run().rules if v.row.id == rule_id), None)
    if current is None:
        raise click.ClickException(f"Rule {rule_id} not found for partner {partner_id}.")
    data = RuleData(_conditions(conditions) if conditions else current.conditions, category or current.category,
                    subcategory or current.subcategory, type_ or current.product_type,
                    product_class or current.product_class, priority)
    _echo_preview(PreviewRuleChangeCommand(actor, "edit", data, rule_id=rule_id).run())
    if not preview:
        row = SaveRuleCommand(actor, data, rule_id=rule_id).run()
        click.echo(f"Rule {row.id} saved (priority {row.priority}).")


@rules_cli.command("move")
@PARTNER_OPTION
@click.argument("rule_id", type=int)
@click.option("--priority", type=int, default=None)
@click.option("--up", "direction", flag_value="up", default=None)
@click.option("--down", "direction", flag_value="down")
@AS_OPTION
@with_appcontext
def rules_move(partner_id, rule_id, priority, direction, username):
    """Change a rule's priority (--priority N, --up or --down)."""
    from msphub_psa.commands.rules.common import RuleData
    from msphub_psa.commands.rules.move import MoveRuleCommand
    from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand

    actor = as_actor(username)
    _echo_preview(PreviewRuleChangeCommand(actor, "move", RuleData(priority=priority), rule_id=rule_id,
                                           direction=direction).run())
    row = MoveRuleCommand(actor, rule_id, priority, direction).run()
    click.echo(f"Rule {row.id} is now priority {row.priority}.")


@rules_cli.command("delete")
@PARTNER_OPTION
@click.argument("rule_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@AS_OPTION
@with_appcontext
def rules_delete(partner_id, rule_id, yes, username):
    """Delete a custom rule (the default rule cannot be deleted)."""
    from msphub_psa.commands.rules.delete import DeleteRuleCommand
    from msphub_psa.commands.rules.preview import PreviewRuleChangeCommand

    actor = as_actor(username)
    _echo_preview(PreviewRuleChangeCommand(actor, "delete", rule_id=rule_id).run())
    if yes or click.confirm(f"Delete rule {rule_id}?"):
        DeleteRuleCommand(actor, rule_id).run()
        click.echo(f"Rule {rule_id} deleted.")


@rules_cli.command("matching")
@PARTNER_OPTION
@click.argument("rule_id", type=int)
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--page-size", type=int, default=25, show_default=True)
@click.option("--search", default="")
@AS_OPTION
@with_appcontext
def rules_matching(partner_id, rule_id, page, page_size, search, username):
    """Matching Products of a rule: publisher, item type, product id, title."""
    from msphub_psa.commands.rules.matching import MatchingProductsCommand

    result = MatchingProductsCommand(as_actor(username), rule_id, page, page_size, search).run()
    for item, claimed in zip(result.items, result.claimed_by):
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
    from msphub_psa.commands.rules.common import RuleData
    from msphub_psa.commands.rules.default import UpdateDefaultRuleCommand

    UpdateDefaultRuleCommand(as_actor(username), RuleData([], category, subcategory, type_, product_class),
                             partner_id).run()
    click.echo("Default rule saved.")


@rules_cli.command("refresh-lists")
@PARTNER_OPTION
@click.option("--queue", is_flag=True, help="Queue the job instead of refreshing now.")
@AS_OPTION
@with_appcontext
def rules_refresh_lists(partner_id, queue, username):
    """Refresh the cached ConnectWise categories, subcategories and product types."""
    from msphub_psa.commands.rules.lists import RefreshListsCommand, RequestListsRefreshCommand

    actor = as_actor(username)
    if queue:
        RequestListsRefreshCommand(actor, partner_id).run()
        click.echo("Refresh queued.")
        return
    state = RefreshListsCommand(partner_id, actor).run()
    click.echo(f"Refresh {state.status}" + (f": {state.error}" if state.error else f" at {state.refreshed_at}."))


# --- Products / Subscriptions tab (issue 7) -------------------------------------------------


@psa_cli.group("subscriptions")
def subscriptions_cli() -> None:
    """Subscription -> ConnectWise agreement mappings (Products / Subscriptions tab)."""


@subscriptions_cli.command("list")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=int, required=True)
@click.option("--history", is_flag=True, help="Also print every earlier mapping of each subscription.")
@with_appcontext
def subscriptions_list(partner_id: int, username: str, customer_id: int, history: bool) -> None:
    """List a mapped customer's subscriptions: agreement, From Date, sync status, or why unmapped."""
    from msphub_psa.commands.subscriptions import CustomerSubscriptionsCommand, SubscriptionHistoryCommand

    actor = as_actor(username)
    found = CustomerSubscriptionsCommand(actor, customer_id, partner_id).run()
    click.echo(f"{found.customer.name} [{found.customer.external_id}] -> {found.mapping.company.name}")
    for row in found.rows:
        sub, mapping = row["subscription"], row["mapping"]
        target = (f"{row['agreement'].name} (#{row['agreement'].remote_id}) from {mapping.from_date} "
                  f"[{mapping.method} by {mapping.created_by}]") if mapping else f"not mapped: {row['unmapped_reason']}"
        click.echo(f"{sub.id:>8}  {sub.name} x{sub.quantity:f} ({sub.external_id})  -> {target}  "
                   f"sync: {row['sync']['status']}")
        if history and mapping:
            for old in SubscriptionHistoryCommand(actor, sub.id, partner_id).run()[1:]:
                click.echo(f"{'':>10}was {old.agreement.name} from {old.from_date} by {old.created_by}, "
                           f"ended {old.ended_at:%Y-%m-%d %H:%M} by {old.ended_by}")
    mapped = sum(1 for r in found.rows if r["mapping"])
    click.echo(f"{mapped} of {len(found.rows)} subscription(s) mapped.")


@subscriptions_cli.command("agreements")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=int, required=True)
@with_appcontext
def subscriptions_agreements(partner_id: int, username: str, customer_id: int) -> None:
    """The agreements a mapped customer's subscriptions can go to: eligibility, From Date lower bound, warnings."""
    from msphub_psa.commands.subscriptions import AgreementOptionsCommand

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
    return click.option("--from-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                        help="Custom From Date (YYYY-MM-DD); default: all history from the agreement's billing start.")(func)


@subscriptions_cli.command("map")
@PARTNER_OPTION
@AS_OPTION
@click.option("--customer", "customer_id", type=int, required=True)
@click.option("--agreement", "agreement_id", type=int, required=True, help="Cached agreement id.")
@click.option("--subscription", "subscription_ids", type=int, multiple=True, required=True, help="Repeat for several.")
@_from_date_options
@with_appcontext
def subscriptions_map(partner_id: int, username: str, customer_id: int, agreement_id: int,
                      subscription_ids: tuple[int, ...], from_date) -> None:
    """Map unmapped subscriptions of a mapped customer to one agreement, in one transaction."""
    from msphub_psa.commands.subscriptions import MapSubscriptionsCommand

    created = MapSubscriptionsCommand(as_actor(username), customer_id, agreement_id, list(subscription_ids),
                                      "custom" if from_date else "all", from_date.date() if from_date else None,
                                      partner_id).run()
    click.echo(f"{len(created)} subscription(s) mapped to {created[0].agreement.name}: "
               + ", ".join(f"{m.subscription_id} from {m.from_date}" for m in created))


@subscriptions_cli.command("remap")
@PARTNER_OPTION
@AS_OPTION
@click.option("--subscription", "subscription_id", type=int, required=True)
@click.option("--agreement", "agreement_id", type=int, required=True, help="Cached agreement id.")
@_from_date_options
@click.option("--move-pushed", is_flag=True, help="Also move transactions already pushed to the old agreement after "
              "the From Date (the next push removes ours there and creates them on the new one; periods already "
              "invoiced must be credited on the old agreement).")
@click.option("--preview", is_flag=True, help="Only show what the change would do.")
@with_appcontext
def subscriptions_remap(partner_id: int, username: str, subscription_id: int, agreement_id: int, from_date,
                        move_pushed: bool, preview: bool) -> None:
    """Change a subscription's agreement and/or From Date (the old mapping is kept as history)."""
    from msphub_psa.commands.subscriptions import RemapPreviewCommand, RemapSubscriptionCommand

    args = (as_actor(username), subscription_id, agreement_id, "custom" if from_date else "all",
            from_date.date() if from_date else None)
    if preview:
        _echo_plan(RemapPreviewCommand(*args, partner_id=partner_id).run())
        return
    mapping, plan = RemapSubscriptionCommand(*args, move_pushed=move_pushed, partner_id=partner_id).run()
    _echo_plan(plan)
    moved = len(mapping.move_transaction_ids or [])
    click.echo(f"Subscription {subscription_id} now mapped to {mapping.agreement.name} from {mapping.from_date}"
               f"{f' ({moved} pushed transaction(s) move at the next push)' if moved else ''}.")


def _echo_plan(plan) -> None:
    """Print a Change preview."""
    p = plan.preview
    click.echo(f"{plan.subscription.name}: {plan.current.agreement.name} from {plan.current.from_date} -> "
               f"{plan.agreement.name} from {plan.from_date} (allowed {plan.allowed.lower}..{plan.allowed.upper})")
    click.echo(f"  {len(p.to_new)} transaction(s) not yet pushed go to the new agreement ({p.to_new_amount:.2f})")
    click.echo(f"  {len(p.to_skip)} transaction(s) before the From Date become skipped ({p.to_skip_amount:.2f})")
    click.echo(f"  {len(p.move_candidates)} already pushed after the From Date ({p.move_amount:.2f}, on "
               f"{', '.join(plan.move_from) or 'no other agreement'}) stay there unless moved (--move-pushed)")
    for text in (plan.warning, p.warning):
        if text:
            click.echo(f"  Warning: {text}")


@subscriptions_cli.command("automap")
@PARTNER_OPTION
@click.option("--as", "username", default=None, help="Act as this user (default: the audited 'system' actor).")
@click.option("--customer", "customer_ids", type=int, multiple=True, help="Only these customers (repeat).")
@with_appcontext
def subscriptions_automap(partner_id: int, username: str | None, customer_ids: tuple[int, ...]) -> None:
    """Auto-associate unmapped subscriptions of mapped customers; the host runs it when subscriptions are created."""
    from msphub_psa.commands.directory import system_actor
    from msphub_psa.commands.subscriptions import AutoAssociateSubscriptionsCommand

    actor = as_actor(username) if username else system_actor(partner_id)
    result = AutoAssociateSubscriptionsCommand(actor, partner_id, list(customer_ids) or None).run()
    for mapping in result.created:
        click.echo(f"{mapping.subscription_id:>8}  -> {mapping.agreement.name} from {mapping.from_date}")
    for sub_id, reason in result.skipped.items():
        click.echo(f"{sub_id:>8}  not mapped: {reason}")
    click.echo(f"{len(result.created)} subscription(s) auto-associated, {len(result.skipped)} left unmapped.")


# --- Operations (issue 10): audit export and key rotation -------------------------------------

@psa_cli.group("audit")
def audit_cli() -> None:
    """The audit log."""


@audit_cli.command("export")
@click.option("--partner", "partner_id", type=int, help="One partner (partner users: their own; Admin: all when omitted).")
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
def audit_export(partner_id, since, until, username_filter, action, object_type, object_id, outcome, output,
                 username):
    """Export the audit log as CSV (the same filters and tenant scope as the page and the API)."""
    from msphub_psa.api.reconciliation import load
    from msphub_psa.commands.audit import ExportAuditCommand
    from msphub_psa.schemas.audit import AuditFilterSchema

    raw = {"partner_id": partner_id, "since": since, "until": until, "username": username_filter,
           "action": action, "object_type": object_type, "object_id": object_id, "outcome": outcome}
    filters = load(AuditFilterSchema(), {k: v for k, v in raw.items() if v is not None})
    for line in ExportAuditCommand(as_actor(username), filters).run():
        output.write(line)


@psa_cli.command("rotate-keys")
@AS_OPTION
@with_appcontext
def rotate_keys(username: str) -> None:
    """Re-encrypt every stored secret under the newest PSA_ENCRYPTION_KEYS key (Admin)."""
    from msphub_psa.commands.keys import RotateKeysCommand

    result = RotateKeysCommand(as_actor(username)).run()
    click.echo(f"Re-encrypted {result.secrets} secret(s) of {result.integrations} integration(s) under the newest "
               "key. Old keys may now be removed from PSA_ENCRYPTION_KEYS.")


# -- Billing push ----------------------------------------------------------------------------------


@psa_cli.group("sync")
def sync_cli() -> None:
    """The billing push: run it, see its status, retry failed rows."""


def _echo_json(data) -> None:
    """Print a result as indented JSON."""
    import json

    click.echo(json.dumps(data, indent=2, default=str))


@sync_cli.command("run")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--inline", is_flag=True, help="Run the push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_run(partner_id: int, inline: bool, username: str) -> None:
    """Push the partner's eligible billing transactions to ConnectWise."""
    from msphub_psa.commands.billing.status import RunPushCommand

    command = RunPushCommand(as_actor(username), partner_id)
    _echo_json(command.run_inline() if inline else command.run())


@sync_cli.command("status")
@click.option("--partner", "partner_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def sync_status(partner_id: int, username: str) -> None:
    """Rows per state, latest runs, failed rows with ConnectWise's reasons, refused products."""
    from msphub_psa.commands.billing.status import SyncStatusCommand

    _echo_json(SyncStatusCommand(as_actor(username), partner_id).run().as_dict())


@sync_cli.command("show-item")
@click.option("--partner", "partner_id", type=int, required=True)
@click.argument("item_id", type=int)
@AS_OPTION
@with_appcontext
def sync_show_item(partner_id: int, item_id: int, username: str) -> None:
    """One outbox row with every state transition it went through."""
    from msphub_psa.commands.billing.status import SyncItemDetailCommand

    _echo_json(SyncItemDetailCommand(as_actor(username), item_id, partner_id).run())


@sync_cli.command("retry-failed")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--id", "item_ids", type=int, multiple=True, help="Only these outbox rows (repeatable).")
@AS_OPTION
@with_appcontext
def sync_retry_failed(partner_id: int, item_ids: tuple[int, ...], username: str) -> None:
    """Return failed rows to pending (the next push sends them again)."""
    from msphub_psa.commands.billing.status import RetryFailedCommand

    count = RetryFailedCommand(as_actor(username), partner_id, list(item_ids) or None).run()
    click.echo(f"{count} failed row(s) returned to pending.")


@sync_cli.command("progress")
@click.option("--partner", "partner_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def sync_progress(partner_id: int, username: str) -> None:
    """The running push's progress (done / total, failures so far), a queued push, the open alert, the last run."""
    from msphub_psa.commands.billing.runs import SyncProgressCommand

    _echo_json(SyncProgressCommand(as_actor(username), partner_id).run())


@sync_cli.command("runs")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=20, show_default=True)
@AS_OPTION
@with_appcontext
def sync_runs(partner_id: int, page: int, page_size: int, username: str) -> None:
    """The run history, newest first: times, status, counts by outcome, ConnectWise calls."""
    from msphub_psa.commands.billing.runs import SyncRunsCommand

    result = SyncRunsCommand(as_actor(username), partner_id, page, page_size).run()
    click.echo(f"{result['total']} run(s); page {page}")
    for run in result["result"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run["counts"].items())) or "-"
        flag = "  ALERT (not acknowledged)" if run["alert"] else ""
        click.echo(f"#{run['id']:<6} {run['status']:<10} {run['started_at']}  {run['duration_seconds']}s  {counts}  "
                   f"calls {run['psa_calls']} (writes {run['writes']}, lookups {run['lookups']}, "
                   f"catalog {run['catalog_calls']}){flag}")


@sync_cli.command("show-run")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--run", "run_id", type=int, required=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=25, show_default=True)
@AS_OPTION
@with_appcontext
def sync_show_run(partner_id: int, run_id: int, page: int, page_size: int, username: str) -> None:
    """One run and the rows that failed in it, with ConnectWise's code and reason (JSON)."""
    from msphub_psa.commands.billing.runs import SyncRunFailuresCommand

    _echo_json(SyncRunFailuresCommand(as_actor(username), run_id, partner_id, page, page_size).run())


@sync_cli.command("acknowledge")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--run", "run_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def sync_acknowledge(partner_id: int, run_id: int, username: str) -> None:
    """Acknowledge a failed, partial or stopped run's alert (and any older open one)."""
    from msphub_psa.commands.billing.runs import AcknowledgeRunAlertCommand

    result = AcknowledgeRunAlertCommand(as_actor(username), run_id, partner_id).run()
    ids = ", ".join(f"#{i}" for i in result["acknowledged"])
    click.echo(f"Acknowledged {ids}." if ids else f"Run #{run_id} was already acknowledged.")
# -- Billing sync control (issue 9, part A): preview, approval, settings, the scheduler ------------


def _echo_sync_preview(data: dict) -> None:
    """Print a preview: who/what, totals, catalog, look-ups, the page of groups with their lines."""
    t = data["totals"]
    head = f"Preview #{data['id']} ({data['status']})" if data.get("id") else "Preview (live, not saved)"
    click.echo(f"{head}: {t['transactions']} transaction(s) for {t['customers']} customer(s), "
               f"{t['agreements']} agreement(s)")
    click.echo(f"  additions {t['additions']} = {t['charges']}   adjustments {t['adjustments']} = {t['credits']}   "
               f"net {t['net']}   blocked {t['blocked']}   errors {t['errors']}")
    catalog = data["catalog"]
    if catalog.get("error"):
        click.echo(f"  catalog: {catalog['error']}")
    for item in catalog["create"]:
        click.echo(f"  catalog item to create: {item['identifier']} ({item.get('title') or ''})")
    for value in catalog["new_lists"]:
        click.echo(f"  classification value to create: {value}")
    click.echo(f"  looked up first (rows in sending): {data['lookups']['count']}")
    groups = data["groups"]
    click.echo(f"Groups {groups['page']} of {max(1, -(-groups['total'] // groups['page_size']))} "
               f"({groups['total']} in all):")
    for g in groups["result"]:
        click.echo(f"  {g['customer_name']} -> {g['agreement_name']} (agreement id {g['agreement_id']}, ConnectWise "
                   f"#{g['agreement_remote_id']}): {g['additions']} addition(s) {g['charges']}, {g['adjustments']} "
                   f"adjustment(s) {g['credits']}, net {g['net']}")
        for line in g["lines"]:
            qty = f"{line['quantity']} x {line['unit_price']} = " if line["quantity"] is not None else ""
            flag = f"  [{line['status']}: {line['error']}]" if line["status"] != "ok" else ""
            click.echo(f"    {line['reference']:<16} {line['kind']:<10} {line['product'][:40]:<40} "
                       f"{line['period_start']}..{line['period_end']}  {qty}{line['amount']}{flag}")
        if g["line_count"] > len(g["lines"]):
            click.echo(f"    ... {g['line_count'] - len(g['lines'])} more line(s)")


def _paging_options(func):
    """--page, --page-size (groups) and --lines (per group)."""
    func = click.option("--lines", default=20, show_default=True, help="Lines shown per group (0-500).")(func)
    func = click.option("--page-size", default=20, show_default=True, help="Groups per page (1-200).")(func)
    return click.option("--page", default=1, show_default=True)(func)


@sync_cli.command("preview")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--preview", "preview_id", type=int, default=None, help="Show this prepared preview instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@_paging_options
@AS_OPTION
@with_appcontext
def sync_preview(partner_id: int, preview_id: int | None, as_json: bool, page: int, page_size: int, lines: int,
                 username: str) -> None:
    """What a push would create now (dry run; nothing is written), or a prepared preview."""
    from msphub_psa.commands.billing.preview import PreviewCommand, PreviewDetailCommand

    actor = as_actor(username)
    if preview_id:
        data = PreviewDetailCommand(actor, preview_id, partner_id, page, page_size, lines).run()
    else:
        data = PreviewCommand(actor, partner_id, page, page_size, lines).run()
    _echo_json(data) if as_json else _echo_sync_preview(data)


@sync_cli.command("prepare")
@click.option("--partner", "partner_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def sync_prepare(partner_id: int, username: str) -> None:
    """Prepare a preview awaiting approval (a newer one expires the previous)."""
    from msphub_psa.commands.billing.preview import PreparePreviewCommand, PreviewDetailCommand

    actor = as_actor(username)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    if preview_id is None:
        click.echo("Nothing to push: no preview prepared.")
        return
    _echo_sync_preview(PreviewDetailCommand(actor, preview_id, partner_id, lines=0).run())


@sync_cli.command("approve")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--preview", "preview_id", type=int, required=True)
@click.option("--agreement", "agreement_ids", type=int, multiple=True, help="Only this agreement's group (repeat).")
@click.option("--inline", is_flag=True, help="Push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_approve(partner_id: int, preview_id: int, agreement_ids: tuple[int, ...], inline: bool, username: str) -> None:
    """Approve a preview: push exactly its transactions (of the chosen agreements) that are still eligible."""
    from msphub_psa.commands.billing.preview import ApprovePreviewCommand

    command = ApprovePreviewCommand(as_actor(username), preview_id, partner_id, list(agreement_ids) or None)
    _echo_json(command.run_inline() if inline else command.run())


@sync_cli.command("push")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--agreement", "agreement_ids", type=int, multiple=True, help="Only this agreement's group (repeat).")
@click.option("--inline", is_flag=True, help="Push in this process instead of queueing the job.")
@AS_OPTION
@with_appcontext
def sync_push(partner_id: int, agreement_ids: tuple[int, ...], inline: bool, username: str) -> None:
    """Prepare a preview and approve it at once (all, or the groups of some agreements)."""
    from msphub_psa.commands.billing.preview import ApprovePreviewCommand, PreparePreviewCommand

    actor = as_actor(username)
    preview_id = PreparePreviewCommand(actor, partner_id).run()
    if preview_id is None:
        click.echo("Nothing to push.")
        return
    command = ApprovePreviewCommand(actor, preview_id, partner_id, list(agreement_ids) or None)
    _echo_json({"preview_id": preview_id, **(command.run_inline() if inline else command.run())})


@sync_cli.command("discard")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--preview", "preview_id", type=int, required=True)
@AS_OPTION
@with_appcontext
def sync_discard(partner_id: int, preview_id: int, username: str) -> None:
    """Discard a preview awaiting approval."""
    from msphub_psa.commands.billing.preview import DiscardPreviewCommand

    _echo_json(DiscardPreviewCommand(as_actor(username), preview_id, partner_id).run())


@sync_cli.command("settings")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--schedule", type=click.Choice(["on", "off"]), default=None)
@click.option("--time", "at", default=None, help="HH:MM in the partner's timezone.")
@click.option("--days", default=None, help="Comma-separated: mon,tue,wed,thu,fri,sat,sun.")
@click.option("--approval", type=click.Choice(["default", "always", "never"]), default=None)
@click.option("--limit", default=None, help="ConnectWise requests a minute, or 'default'.")
@AS_OPTION
@with_appcontext
def sync_settings(partner_id: int, schedule, at, days, approval, limit, username: str) -> None:
    """Show the sync settings, or change the ones given (the others stay)."""
    from msphub_psa.commands.billing.settings import SyncSettingsCommand, UpdateSyncSettingsCommand

    actor = as_actor(username)
    values = {k: v for k, v in {"schedule_enabled": None if schedule is None else schedule == "on",
                                "schedule_time": at, "approval": approval,
                                "schedule_days": None if days is None else [d for d in days.split(",") if d]}.items()
              if v is not None}
    if limit is not None:
        values["requests_per_minute"] = None if limit == "default" else _int_or_text(limit)
    command = UpdateSyncSettingsCommand(actor, values, partner_id) if values else SyncSettingsCommand(actor, partner_id)
    _echo_json(command.run())


def _int_or_text(value: str):
    """An int where the text is one (the command refuses anything else with a clear message)."""
    try:
        return int(value)
    except ValueError:
        return value


@psa_cli.command("scheduler")
@click.option("--once", is_flag=True, help="Run one tick here (e.g. from cron) instead of the scheduler loop.")
@click.option("--name", default=None, help="Scheduler name (unique per host).")
@with_appcontext
def scheduler_cmd(once: bool, name: str | None) -> None:
    """Enqueue the sync schedule's tick every minute (RQ's cron scheduler); several may run, a slot runs once."""
    from msphub_psa.worker import make_scheduler

    if once:
        from msphub_psa.commands.billing.schedule import ScheduleTickCommand

        for partner_id, slot in ScheduleTickCommand().run():
            click.echo(f"partner {partner_id}: scheduled run for {slot.isoformat()} enqueued")
        return
    make_scheduler(current_app._get_current_object(), name).start()


@psa_cli.group("catalog")
def catalog_cli() -> None:
    """The ConnectWise catalog items of MSP Hub products."""


@catalog_cli.command("sync")
@click.option("--partner", "partner_id", type=int, required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be adopted, created or added; change nothing.")
@AS_OPTION
@with_appcontext
def catalog_sync(partner_id: int, dry_run: bool, username: str) -> None:
    """Adopt or create the catalog items of the products of eligible transactions."""
    from msphub_psa.commands.billing.status import CatalogSyncCommand

    _echo_json(CatalogSyncCommand(as_actor(username), partner_id, dry_run).run())
