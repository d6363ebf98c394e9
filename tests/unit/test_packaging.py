"""The wheel carries every sub-package of plugin/ under its import name, msphub_psa."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_sub_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"msphub_psa": "plugin"}
    found = {
        "msphub_psa" + "".join(f".{part}" for part in init.parent.relative_to(ROOT / "plugin").parts)
        for init in (ROOT / "plugin").rglob("__init__.py")
    }
    assert found == set(config["packages"])
