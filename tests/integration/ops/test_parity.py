"""Every REST endpoint has its `flask psa` command (both call the same command object), docs/api.md's parity
table lists the same pairs, and the read-only CLI commands added for parity print what the API returns."""

from __future__ import annotations

import re
from pathlib import Path

import click
from sqlalchemy import select

from msphub_psa.daos.base import session
from msphub_psa.models.reconciliation import CustomerMapping
from tests.support import tenants
from tests.support.reconciliation import pilot_ready

API_TO_CLI = {
    ("GET", "/api/v1/psa_audit/"): "audit export",
    ("GET", "/api/v1/psa_audit/export"): "audit export",
    ("GET", "/api/v1/psa_features/"): "feature list",
    ("PUT", "/api/v1/psa_features/<psa_id:partner_id>"): "feature enable|feature disable",
    ("GET", "/api/v1/psa_health/"): "health",
    ("GET", "/api/v1/psa_integration/"): "integration status",
    ("POST", "/api/v1/psa_integration/activate"): "integration activate",
    ("PUT", "/api/v1/psa_integration/"): "integration edit",
    ("POST", "/api/v1/psa_integration/deactivate"): "integration deactivate",
    ("GET", "/api/v1/psa_reconciliation/summary"): "reconciliation summary",
    ("GET", "/api/v1/psa_reconciliation/chart"): "reconciliation summary",
    ("GET", "/api/v1/psa_reconciliation/customers"): "customers list",
    ("GET", "/api/v1/psa_reconciliation/companies"): "directory companies",
    ("GET", "/api/v1/psa_reconciliation/suggestions"): "customers suggestions",
    ("POST", "/api/v1/psa_reconciliation/mappings"): "customers map",
    ("DELETE", "/api/v1/psa_reconciliation/mappings/<psa_id:customer_id>"): "customers unmap",
    ("GET", "/api/v1/psa_reconciliation/exact-matches"): "customers automap",
    ("POST", "/api/v1/psa_reconciliation/exact-matches"): "customers automap",
    ("GET", "/api/v1/psa_reconciliation/directory"): "directory status",
    ("POST", "/api/v1/psa_reconciliation/directory/refresh"): "directory refresh",
    ("GET", "/api/v1/psa_reconciliation/customers/<psa_id:customer_id>/subscriptions"): "subscriptions list",
    ("GET", "/api/v1/psa_reconciliation/customers/<psa_id:customer_id>/agreements"): "subscriptions agreements",
    ("GET", "/api/v1/psa_reconciliation/subscriptions/unmapped"): "subscriptions unmapped",
    ("POST", "/api/v1/psa_reconciliation/subscription-mappings"): "subscriptions map",
    ("GET", "/api/v1/psa_reconciliation/subscription-mappings/preview"): "subscriptions map",
    ("GET", "/api/v1/psa_reconciliation/subscriptions/<psa_id:subscription_id>/remap-preview"): "subscriptions remap",
    ("PUT", "/api/v1/psa_reconciliation/subscriptions/<psa_id:subscription_id>/mapping"): "subscriptions remap",
    ("GET", "/api/v1/psa_reconciliation/subscriptions/<psa_id:subscription_id>/history"): "subscriptions list",
    ("POST", "/api/v1/psa_reconciliation/subscriptions/automap"): "subscriptions automap",
    ("GET", "/api/v1/psa_rules/"): "rules list",
    ("POST", "/api/v1/psa_rules/"): "rules add",
    ("PUT", "/api/v1/psa_rules/<psa_id:rule_id>"): "rules edit",
    ("DELETE", "/api/v1/psa_rules/<psa_id:rule_id>"): "rules delete",
    ("PUT", "/api/v1/psa_rules/<psa_id:rule_id>/move"): "rules move",
    ("GET", "/api/v1/psa_rules/<psa_id:rule_id>/matching"): "rules matching",
    ("PUT", "/api/v1/psa_rules/default"): "rules default",
    ("POST", "/api/v1/psa_rules/lists/refresh"): "rules refresh-lists",
    ("POST", "/api/v1/psa_rules/preview"): "rules add|rules edit|rules move|rules delete",
    ("GET", "/api/v1/psa_sync/"): "sync status",
    ("GET", "/api/v1/psa_sync/check"): "sync check",
    ("POST", "/api/v1/psa_sync/run"): "sync run",
    ("POST", "/api/v1/psa_sync/retry-failed"): "sync retry-failed",
    ("GET", "/api/v1/psa_sync/runs/<psa_id:run_id>"): "sync show-run",
    ("GET", "/api/v1/psa_sync/items/<psa_id:item_id>"): "sync show-item",
    ("GET", "/api/v1/psa_sync/progress"): "sync progress",
    ("GET", "/api/v1/psa_sync/runs"): "sync runs",
    ("GET", "/api/v1/psa_sync/runs/<psa_id:run_id>/failed"): "sync show-run",
    ("POST", "/api/v1/psa_sync/runs/<psa_id:run_id>/acknowledge"): "sync acknowledge",
    ("GET", "/api/v1/psa_sync/preview"): "sync preview",
    ("POST", "/api/v1/psa_sync/previews"): "sync prepare",
    ("GET", "/api/v1/psa_sync/previews/<psa_id:preview_id>"): "sync preview",
    ("POST", "/api/v1/psa_sync/previews/<psa_id:preview_id>/approve"): "sync approve|sync push",
    ("POST", "/api/v1/psa_sync/previews/<psa_id:preview_id>/discard"): "sync discard",
    ("GET", "/api/v1/psa_sync/settings"): "sync settings",
    ("PUT", "/api/v1/psa_sync/settings"): "sync settings",
    ("POST", "/api/v1/psa_sync/assurance/run"): "assurance run",
    ("GET", "/api/v1/psa_sync/assurance/findings"): "assurance findings",
    ("POST", "/api/v1/psa_sync/assurance/findings/<psa_id:finding_id>/resolve"): "assurance resolve",
}
"""Each of the plugin's REST endpoints and the CLI command(s) that do the same (``|`` separates several)."""


def documented_pairs() -> dict[tuple[str, str], str]:
    """(method, path) -> CLI command(s) of the parity table in docs/api.md."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text()
    table = text.split("## Parity: REST, CLI and screen", 1)[1]
    pairs = {}
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 4 and cells[0] in ("GET", "POST", "PUT", "DELETE"):
            pairs[(cells[0], cells[1].strip("`"))] = cells[2].strip("`").replace("\\|", "|")
    return pairs


def test_the_docs_parity_table_is_this_one():
    assert documented_pairs() == API_TO_CLI


def _cli_paths(app) -> set[str]:
    """Every ``flask psa`` leaf command, as "group command"."""
    paths: set[str] = set()

    def walk(group: click.Group, prefix: str) -> None:
        context = click.Context(group)
        for name in group.list_commands(context):  # lazy groups load their modules here
            command = group.get_command(context, name)
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")
            else:
                paths.add(f"{prefix}{name}")

    walk(app.cli.commands["psa"], "")
    return paths


def test_every_endpoint_has_its_cli_command(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/psa_")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    missing = sorted(routes - set(API_TO_CLI))
    assert not missing, f"endpoints without a CLI counterpart in API_TO_CLI: {missing}"
    gone = sorted(set(API_TO_CLI) - routes)
    assert not gone, f"API_TO_CLI names endpoints that no longer exist: {gone}"
    cli = _cli_paths(app)
    absent = sorted({c for value in API_TO_CLI.values() for c in value.split("|")} - cli)
    assert not absent, f"CLI commands named but missing: {absent}"


def test_parity_cli_commands_print_what_the_api_returns(app, client, cw_live):
    from tests.support.web import api_token

    with app.app_context():
        partner_id, _actor = pilot_ready(cw_live)
        customer = tenants.first_customer(partner_id)
    runner = app.test_cli_runner()
    base = ["--partner", str(partner_id), "--as", "pilot.admin"]
    headers = {"Authorization": f"Bearer {api_token(client, 'pilot.admin')}"}

    out = runner.invoke(args=["psa", "feature", "list", "--as", "distributor"])
    assert out.exit_code == 0 and f"{partner_id:>6}  " in out.output and "enabled" in out.output, out.output
    out = runner.invoke(args=["psa", "feature", "list", "--as", "pilot.admin"])
    assert out.exit_code == 2 and "Only your distributor" in out.output

    api = client.get("/api/v1/psa_reconciliation/summary?period=all", headers=headers).json
    out = runner.invoke(args=["psa", "reconciliation", "summary", *base, "--chart"])
    assert out.exit_code == 0, out.output
    assert f"Unmapped customers: {api['unmapped_customers']} of {api['customers']}" in out.output
    assert f"Unsynchronized revenue (all): {api['unsynchronized_revenue']} {api['currency']}" in out.output
    assert out.output.count("\n") >= 5 + 1 + 12  # the twelve months of the chart

    api = client.get("/api/v1/psa_reconciliation/directory", headers=headers).json
    out = runner.invoke(args=["psa", "directory", "status", *base])
    assert out.exit_code == 0 and f"status: {api['status']}" in out.output, out.output
    assert all(f"{key}: " in out.output for key in api)

    api = client.get("/api/v1/psa_reconciliation/companies?q=a&page_size=5", headers=headers).json
    out = runner.invoke(args=["psa", "directory", "companies", *base, "--search", "a", "--page-size", "5"])
    assert out.exit_code == 0 and f"{api['total']} compan" in out.output, out.output
    assert all(company["name"] in out.output for company in api["result"])

    api = client.get(f"/api/v1/psa_reconciliation/suggestions?customer_ids={customer.id}", headers=headers).json
    out = runner.invoke(args=["psa", "customers", "suggestions", *base, "--customer", str(customer.id)])
    assert out.exit_code == 0 and f"customer {customer.id}:" in out.output, out.output
    assert all(s["company_name"] in out.output for s in api["result"][str(customer.id)])

    with app.app_context():
        mapped = session().scalar(
            select(CustomerMapping.customer_id).where(
                CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
            )
        )
        if mapped is None:
            runner.invoke(args=["psa", "customers", "automap", *base])
            mapped = session().scalar(
                select(CustomerMapping.customer_id).where(
                    CustomerMapping.partner_id == partner_id, CustomerMapping.ended_at.is_(None)
                )
            )
    api = client.get(f"/api/v1/psa_reconciliation/customers/{mapped}/agreements", headers=headers).json
    out = runner.invoke(args=["psa", "subscriptions", "agreements", *base, "--customer", str(mapped)])
    assert out.exit_code == 0 and api["agreements"], out.output
    assert all(a["name"] in out.output for a in api["agreements"])

    out = runner.invoke(args=["psa", "sync", "show-run", *base, "--run", "999999"])
    assert out.exit_code == 2 and "not found" in out.output
    assert client.get("/api/v1/psa_sync/runs/999999", headers=headers).status_code == 404

    out = runner.invoke(args=["psa", "health"])
    assert "database ok" in out.output and "redis ok" in out.output
