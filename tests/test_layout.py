"""Data flows one way: the emulator imports neither package, tiktok_spiders never imports bridge; the
shared test and bench harness (``harness/``) is imported by tests and bench, never by the product, and
nothing outside ``tests/`` imports ``tests``. No module imports one that imports it back, however
indirectly (type-only and function-level imports counted). The harness stays out of the scrapyd egg but
is type-checked. The HTTP bridge's answer policy imports nothing from Twisted's web layer."""

from __future__ import annotations

import ast
import tomllib
from graphlib import CycleError, TopologicalSorter
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


#: the project's own packages, whose modules the import graph holds
PACKAGES = ("bridge", "tiktok_spiders", "settings", "emulator", "harness", "bench", "scripts", "tests")
#: the Twisted-free core of the bridge (the answer policy and what it stands on)
CORE = (
    "bridge.policy",
    "bridge.cache",
    "bridge.outcomes",
    "bridge.video_index",
    "bridge.health",
    "bridge.replies",
    "bridge.problems",
    "tiktok_spiders.feeds",
    "tiktok_spiders.params",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every dotted name an import of ``path`` names: modules, and ``module.name`` for each name
    taken from one (which may be a module itself)."""
    module = module_name(path)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                package = module.split(".")
                package = package[: len(package) - node.level + (path.name == "__init__.py")]
                source = ".".join([*package, *([node.module] if node.module else [])])
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        imported: set[str] = set()
        for name in imported_names(path):
            target = name
            while target and target not in modules:  # from a.b import c: module a.b.c, else a.b
                target = target.rpartition(".")[0]
            if target and target != module:
                imported.add(target)
        graph[module] = imported
    return graph


def test_no_module_imports_one_that_imports_it_back() -> None:
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_the_answer_policy_stands_on_no_http_layer() -> None:
    graph = import_graph()
    reachable, pending = set(), list(CORE)
    while pending:  # everything the core imports, directly or not
        module = pending.pop()
        if module not in reachable:
            reachable.add(module)
            pending.extend(graph.get(module, ()))
    for module in sorted(reachable):
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / module.replace(".", "/") / "__init__.py"
        twisted = sorted(name for name in imported_names(path) if name.split(".")[0] == "twisted")
        assert not twisted, f"{module} imports {twisted}"
    assert not reachable & {"bridge.shell", "bridge.routes", "bridge.writer", "bridge.crawls"}


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
