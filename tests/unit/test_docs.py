"""The documentation's tables are the code's: the settings (docs/operations.md) and the marketplace contract
(docs/plugin.md) are generated from their declarations here and compared."""

from __future__ import annotations

from pathlib import Path

from msphub_psa.models.hub import CONTRACT_MODELS
from msphub_psa.settings import fields_table

DOCS = Path(__file__).resolve().parents[2] / "docs"


def settings_rows() -> list[str]:
    """The settings table's rows as docs/operations.md shows them."""
    rows = []
    for key, default, doc, required in fields_table():
        shown = "**required**" if required else ("empty" if default == "empty" else f"`{default}`")
        rows.append(f"| `{key}` | {doc} | {shown} |")
    return rows


def contract_rows() -> list[str]:
    """The contract table's rows as docs/plugin.md shows them."""
    rows = []
    for model in CONTRACT_MODELS:
        table = model.__table__
        columns = ", ".join(
            f"`{c.name}` {c.type}{' null' if c.nullable and not c.primary_key else ''}" for c in table.columns
        )
        indexes = "; ".join(
            "(" + ", ".join(c.name for c in index.columns) + ")"
            for index in sorted(table.indexes, key=lambda i: i.name)
        )
        rows.append(f"| `{table.name}` | {columns} | {indexes or '—'} |")
    return rows


def _table_rows(text: str, header: str) -> list[str]:
    """The rows of the markdown table whose header line starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_the_settings_table_is_the_settings_module():
    assert _table_rows((DOCS / "operations.md").read_text(), "| key | meaning | default |") == settings_rows()


def test_the_contract_table_is_the_contract_models():
    assert _table_rows((DOCS / "plugin.md").read_text(), "| relation | columns | indexes |") == contract_rows()
