"""The documentation is the code's: the settings (docs/operations.md) and the marketplace contract (docs/plugin.md)
are generated from their declarations here and compared, and every file, module and name that README.md and
docs/*.md cite exists, as does every page and section they link to."""

from __future__ import annotations

import ast
import re
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


# -- every file, module and name the documentation cites exists ------------------------------------------------

ROOT = DOCS.parent
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PATH = re.compile(r"(?<![\w./-])((?:plugin|msphub_psa|tests|benchmarks|migrations|docs)/[\w./-]*)(?:::(\w+))?")
DOTTED = re.compile(r"(?<![\w.])msphub_psa(?:\.\w+)+(?::\w+)?")
LINK = re.compile(r"\]\(([^)\s]+)\)")
TO_WRITE = ("halopsa",)
"""Files the architecture page tells a newcomer to write (adding HaloPSA): cited, not there yet."""
NOT_MODULES = {"msphub_psa.access"}
"""Dotted names that are logger names, not modules."""


def _cited(pattern: re.Pattern) -> set[tuple[str, str]]:
    """(page name, match) of every citation in README.md and docs/*.md."""
    return {(page.name, m.group(0)) for page in PAGES for m in pattern.finditer(page.read_text(encoding="utf-8"))}


def _defines(path: Path, names: list[str]) -> bool:
    """True when ``names[0]`` is defined at the top of the module (a def, class, assignment or import) and each
    further name inside the class before it."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for name in names:
        found = None
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
                found = node
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                found = node
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name:
                found = node
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (a.asname or a.name.split(".")[0]) == name for a in node.names
            ):
                found = node
        if found is None:
            return False
        body = getattr(found, "body", [])
    return True


def _source(parts: list[str]) -> tuple[Path | None, list[str]]:
    """The module file of the longest importable prefix of ``msphub_psa.<parts>``, and the names after it."""
    for cut in range(len(parts), -1, -1):
        base = ROOT.joinpath("plugin", *parts[:cut])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if cut and candidate.is_file() or not cut and candidate.name == "__init__.py" and candidate.is_file():
                return candidate, parts[cut:]
    return None, parts


def test_every_cited_path_exists():
    missing = []
    for page, cited in _cited(PATH):
        match = PATH.match(cited)
        path, name = match.group(1).rstrip("."), match.group(2)
        if any(part in path for part in TO_WRITE):
            continue
        file = ROOT / path.replace("msphub_psa/", "plugin/", 1)
        if not file.exists() or (name and not _defines(file, [name])):
            missing.append(f"{page}: {cited}")
    assert not missing, missing


def test_every_cited_module_and_name_exists():
    missing = []
    for page, cited in _cited(DOTTED):
        dotted = cited.replace(":", ".")
        if cited in NOT_MODULES or any(part in dotted for part in TO_WRITE):
            continue
        source, names = _source(dotted.split(".")[1:])
        if source is None or (names and not _defines(source, names)):
            missing.append(f"{page}: {cited}")
    assert not missing, missing


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_link_between_the_pages_leads_somewhere():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", dest.read_text(encoding="utf-8"), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{page.name}: {target}")
    assert not broken, broken
