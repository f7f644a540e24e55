"""The modules of `casework/` import one another without a cycle (module level: imports made
inside functions, for start-up speed, are loaded late by design)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import casework

PACKAGE = Path(casework.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The casework modules a module imports when it is loaded."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in known:
                    found.add(target)
                elif node.module in known:
                    found.add(node.module)
    return found


def test_the_import_graph_has_no_cycle():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    graph = {name: imports_of(path, known) - {name} for name, path in paths.items()}
    assert len(graph) > 100 and graph["casework.services.firing"], "the graph was not read"
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"an import cycle: {' -> '.join(exc.args[1])}") from None


def package_of(module: str) -> str:
    """The top-level part of casework a module belongs to: `casework.services.log.tree` is in
    `casework.services`; `casework.auth` is a part of its own."""
    return ".".join(module.split(".")[:2])


def test_the_parts_of_casework_import_each_other_without_a_cycle():
    """Packages too: models, workflow, presenting, services, web … each only imports the parts
    below it, so no part needs another that needs it back."""
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        part = package_of(name)
        graph.setdefault(part, set()).update(
            package_of(other) for other in imports_of(path, known) if package_of(other) != part
        )
    assert "casework.presenting" in graph["casework.web"], "the graph was not read"
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"a cycle of parts: {' -> '.join(exc.args[1])}") from None
