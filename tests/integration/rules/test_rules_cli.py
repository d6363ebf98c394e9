"""``flask psa rules ...``: the same commands as the page and the API."""

from __future__ import annotations

import re

from tests.integration.rules.conftest import product_count, rows_and_audit


def run(app, *args):
    """Invoke the CLI and return the result."""
    return app.test_cli_runner().invoke(args=["psa", "rules", *args])


def test_cli_add_list_matching_move_delete(app, active):
    p = str(active)
    nce = product_count(app, publisher="Microsoft", item_type="OnlineServicesNCE")
    preview = run(
        app,
        "add",
        "--partner",
        p,
        "--condition",
        "publisher",
        "equals",
        "Microsoft",
        "--condition",
        "item_type",
        "equals",
        "OnlineServicesNCE",
        "--category",
        "Microsoft",
        "--subcategory",
        "NCE",
        "--type",
        "License-Based",
        "--class",
        "Agreement",
        "--preview",
        "--as",
        "pilot.admin",
    )
    assert f"{nce} products move from Default Rule to this rule." in preview.output
    assert rows_and_audit(app)[0] == 0
    added = run(
        app,
        "add",
        "--partner",
        p,
        "--condition",
        "publisher",
        "equals",
        "Microsoft",
        "--condition",
        "item_type",
        "equals",
        "OnlineServicesNCE",
        "--category",
        "Microsoft",
        "--subcategory",
        "NCE",
        "--type",
        "License-Based",
        "--class",
        "Agreement",
        "--as",
        "pilot.admin",
    )
    assert added.exit_code == 0 and "added at priority 1" in added.output, added.output
    rule_id = re.search(r"Rule (\d+) added", added.output).group(1)
    listed = run(app, "list", "--partner", p, "--as", "pilot.viewer")
    assert f"[{nce} products]" in listed.output and "Default rule: MSP Hub" in listed.output
    matching = run(app, "matching", rule_id, "--partner", p, "--as", "pilot.viewer")
    assert f"{nce} products, page 1 of 1" in matching.output
    second = run(
        app,
        "add",
        "--partner",
        p,
        "--condition",
        "billing_term",
        "in",
        "P1M, P1Y",
        "--category",
        "X",
        "--subcategory",
        "Y",
        "--type",
        "Z",
        "--class",
        "Service",
        "--as",
        "pilot.admin",
    )
    assert second.exit_code == 0, second.output
    moved = run(app, "move", rule_id, "--down", "--partner", p, "--as", "pilot.admin")
    assert "is now priority 2" in moved.output
    edited = run(app, "edit", rule_id, "--partner", p, "--category", "Renamed", "--as", "pilot.admin")
    assert edited.exit_code == 0 and "saved" in edited.output
    default = run(
        app,
        "default",
        "--partner",
        p,
        "--category",
        "Hub",
        "--subcategory",
        "S",
        "--type",
        "T",
        "--class",
        "Agreement",
        "--as",
        "pilot.admin",
    )
    assert default.exit_code == 0
    deleted = run(app, "delete", rule_id, "--yes", "--partner", p, "--as", "pilot.admin")
    assert deleted.exit_code == 0 and f"Rule {rule_id} deleted." in deleted.output


def test_cli_bad_input_and_viewer_are_refused(app, active):
    p = str(active)
    bad = run(
        app,
        "add",
        "--partner",
        p,
        "--category",
        "A",
        "--subcategory",
        "B",
        "--type",
        "C",
        "--class",
        "Service",
        "--as",
        "pilot.admin",
    )
    assert bad.exit_code == 2 and "Error (400)" in bad.output and "at least one condition" in bad.output
    viewer = run(
        app,
        "add",
        "--partner",
        p,
        "--condition",
        "publisher",
        "equals",
        "X",
        "--category",
        "A",
        "--subcategory",
        "B",
        "--type",
        "C",
        "--class",
        "Service",
        "--as",
        "pilot.viewer",
    )
    assert viewer.exit_code == 2 and "Error (403)" in viewer.output
    assert rows_and_audit(app)[0] == 0


def test_cli_refresh_lists(app, active):
    result = run(app, "refresh-lists", "--partner", str(active), "--as", "pilot.admin")
    assert result.exit_code == 0 and "Refresh ok" in result.output, result.output
