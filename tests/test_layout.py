"""Data flows one way: the emulator imports neither package, tiktok_spiders never imports bridge; the
shared test and bench harness (``harness/``) is imported by tests and bench, never by the product, and
nothing outside ``tests/`` imports ``tests``. The harness stays out of the scrapyd egg but is type-checked."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what the tests and benchmarks bring with them; nothing the service runs may import it
TOOLING = {"harness", "tests", "bench"}
FORBIDDEN = {
    "tiktok_spiders": {"bridge", "emulator", *TOOLING},
    "emulator": {"bridge", "tiktok_spiders", "settings", *TOOLING},
    "settings": {"bridge", "emulator", *TOOLING},
    "bridge": TOOLING,
    "harness": {"tests", "bench"},
    "bench": {"tests"},
    "scripts": TOOLING,
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_harness_is_type_checked_but_not_in_the_scrapyd_egg() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    egg_packages = config["tool"]["setuptools"]["packages"]
    assert not [name for name in egg_packages if name.split(".")[0] in TOOLING]
    assert set(config["tool"]["mypy"]["files"]) >= TOOLING
