"""msphub_psa.connectwise imports only the standard library, httpx (client) and flask/werkzeug (sandbox); its
adapter, the PSA port besides (the layer contracts in pyproject.toml say the same for the whole plugin)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import msphub_psa.connectwise

PACKAGE = Path(msphub_psa.connectwise.__file__).parent
STDLIB = set(sys.stdlib_module_names)
FORBIDDEN = {"flask_appbuilder", "sqlalchemy", "redis", "rq"}


def imported_roots(path: Path) -> set[str]:
    """Absolute top-level modules (or ``msphub_psa.x`` paths) imported by a module."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


def test_every_module_imports_only_what_it_may():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10
    for path in modules:
        in_sandbox = "sandbox" in path.relative_to(PACKAGE).parts
        allowed = {"httpx"} | ({"flask", "werkzeug"} if in_sandbox else set())
        for name in imported_roots(path):
            root = name.split(".")[0]
            assert root not in FORBIDDEN, f"{path}: {name}"
            if root == "msphub_psa":
                port = path.name == "adapter.py" and name.startswith("msphub_psa.psa")
                assert name.startswith("msphub_psa.connectwise") or port, f"{path} imports {name}"
            else:
                assert root in STDLIB or root in allowed or root == "__future__", f"{path} imports {name}"


def test_relative_imports_stay_inside_the_package():
    for path in PACKAGE.rglob("*.py"):
        depth = len(path.relative_to(PACKAGE).parts) - 1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level <= depth + 1, f"{path} reaches outside msphub_psa.connectwise"
                if "sandbox" not in path.relative_to(PACKAGE).parts:
                    assert not (node.module or "").startswith("sandbox"), f"client module {path} imports the sandbox"
