"""The package tree is the architecture: layers go one way (foundations -> pure domain ->
binding -> services -> CLI), packages do not import each other in a circle, nothing below
the CLI imports it, each package's docstring names what it may import, and modules stay
small enough to read in one sitting."""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import pytest

import enet4y2

ROOT = Path(enet4y2.__file__).parent
FOUNDATIONS = {"errors", "fileio", "paths", "proc", "fdio", "images"}
LAYER = {
    **dict.fromkeys(FOUNDATIONS, 0),
    "data": 1, "cfg": 1, "weights": 1, "log": 1,
    "darknet": 2, "export": 2, "runtime": 2,
    "build": 3, "fetch": 3, "train": 3, "evaluate": 3, "detect": 3, "modelfiles": 3,
    "video": 3,
    "demo": 3, "slurm": 3, "dataset": 3, "executors": 3,
    "cli": 4, "__main__": 4,
}
#: What each package may import besides the foundations (and itself).
ALLOWED = {
    "data": set(), "cfg": set(), "log": set(), "weights": {"cfg"},
    "darknet": {"cfg", "weights", "data"},
    "export": {"cfg", "weights", "data", "darknet"},
    "runtime": {"cfg", "weights", "data", "darknet", "export"},
    "build": {"darknet", "fetch"},
    "fetch": {"data", "cfg", "weights"},
    "train": {"data", "cfg", "weights", "log", "build"},
    "evaluate": {"data", "cfg", "darknet", "runtime"},
    "detect": {"darknet"},
    "video": {"detect", "darknet"},
    "modelfiles": {"cfg", "data", "weights"},
    "demo": {"data"},
    "slurm": {"train", "cfg", "data", "weights", "log"},
    "dataset": {"data", "cfg", "evaluate"},
    "executors": {"runtime", "detect", "evaluate"},
}
MAX_LINES = 400


@functools.cache
def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(["enet4y2", *parts])] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Every enet4y2 module this file imports, at any depth (function-local too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("enet4y2")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("enet4y2"):
            submodules = {f"{node.module}.{a.name}" for a in node.names} & set(_modules())
            found |= submodules
            if len(submodules) < len(node.names):  # names defined in the module itself
                found.add(node.module)
    modules = _modules()
    return {m for m in found if m in modules and m != module}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


GRAPH = {m: _imports(p, m) for m, p in _modules().items()}


def test_every_top_level_name_has_a_layer():
    names = {_package(m) for m in GRAPH} - {None}
    assert names <= set(LAYER), names - set(LAYER)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_layers_go_one_way(module):
    here = _package(module)
    for target in GRAPH[module]:
        there = _package(target)
        if there is None or there == here or here is None:
            continue
        assert LAYER[there] <= LAYER[here], f"{module} ({here}) imports {target} ({there})"
        if there not in FOUNDATIONS and here in ALLOWED:
            assert there in ALLOWED[here], f"{module} may not import {target}"
        if here in FOUNDATIONS:
            assert LAYER[there] == 0 and target != "enet4y2.cli"


def test_no_import_cycles_between_modules():
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_no_cycles_between_packages():
    deps = defaultdict(set)
    for module, targets in GRAPH.items():
        for target in targets:
            a, b = _package(module), _package(target)
            if a and b and a != b:
                deps[a].add(b)
    for a, targets in deps.items():
        for b in targets:
            assert a not in deps.get(b, ()), f"{a} and {b} import each other"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_docstrings_say_what_they_own_and_may_import(package):
    init = ROOT / package / "__init__.py"
    if not init.is_file():  # a single-module service
        init = ROOT / f"{package}.py"
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    assert "May import:" in doc or package in ("modelfiles", "demo"), package
    for allowed in ALLOWED[package]:
        if "May import:" in doc:
            assert f"enet4y2.{allowed}" in doc, f"{package}'s docstring omits {allowed}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_modules_stay_readable(module):
    lines = len(_modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"
