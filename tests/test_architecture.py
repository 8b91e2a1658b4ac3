"""The folders show the architecture, and keep showing it: each layer imports only the layers below
it, no module imports another's private names, and no two modules import each other.

    cli             the command line: parses options, calls one library function
    services        the composition root: opens what each command needs
    pipeline        the stages in order, a batch, and the two ways of running them
    status          the status page and recordgen status: what the store and the folders say
    subject_access  answering a subject access request from the store
    intake          taking files in: claim, load, files that are not case files, rejected
    documents       validate, rules, render, convert, publish, one way to produce a version
    deadlines       statutory clocks: when due, which document starts and stops them, what is due
    records         the store, its chain and seals, history and verify
    (foundation)    settings, calendar, cases, kinds, dates, permissions, clock, errors
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "recordgen"
# Highest first. A module may import its own layer's modules and any layer below.
LAYERS = ["cli", "services", "pipeline", "status", "subject_access", "intake", "documents", "deadlines",
          "records", "foundation"]
FOUNDATION = {"settings", "calendar", "cases", "kinds", "dates", "permissions", "clock", "errors"}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return "foundation"  # the package's face: its version
    name = parts[1]
    if name == "__main__":
        return "cli"  # python -m recordgen
    return "foundation" if name in FOUNDATION else name


def _imports(path: Path) -> Iterator[tuple[str, str, int]]:
    """(module imported, name imported or "", line) for each recordgen import of a file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recordgen"):
            for alias in node.names:
                yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("recordgen"):
                    yield alias.name, "", node.lineno


MODULES = {_module(p): p for p in sorted(SRC.rglob("*.py"))}


def test_every_module_sits_in_a_known_layer() -> None:
    assert {_layer(m) for m in MODULES} <= set(LAYERS)


def test_no_layer_imports_one_above_it() -> None:
    upward = []
    for module, path in MODULES.items():
        mine = LAYERS.index(_layer(module))
        for imported, name, line in _imports(path):
            target = f"{imported}.{name}" if f"{imported}.{name}" in MODULES else imported
            if LAYERS.index(_layer(target)) < mine:
                upward.append(f"{path.relative_to(SRC)}:{line} imports {target}")
    assert upward == []


def test_no_module_imports_another_modules_private_names() -> None:
    private = [f"{path.relative_to(SRC)}:{line} imports {name} from {imported}"
               for module, path in MODULES.items() for imported, name, line in _imports(path)
               if name.startswith("_") and not name.endswith("__") and imported != module]
    assert private == []


def test_no_two_modules_import_each_other() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for imported, name, _ in _imports(path):
            target = f"{imported}.{name}" if f"{imported}.{name}" in MODULES else imported
            if target in MODULES and target != module:
                graph[module].add(target)
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        for target in graph[module]:
            if target in trail:
                circles.append(" -> ".join([*trail[trail.index(target):], target]))
            elif len(trail) < 12:
                visit(target, [*trail, target])

    for module in graph:
        visit(module, [module])
    assert circles == []


@pytest.mark.parametrize("source", [
    "from recordgen.pipeline.stages import plan\n",
    "from recordgen.documents.validate import _translate\n",
])
def test_the_checks_see_what_they_look_for(tmp_path: Path, source: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    ((imported, name, _),) = list(_imports(path))
    if name.startswith("_"):
        assert imported == "recordgen.documents.validate"
    else:
        assert LAYERS.index(_layer(f"{imported}.{name}" if f"{imported}.{name}" in MODULES
                                   else imported)) == LAYERS.index("pipeline")
