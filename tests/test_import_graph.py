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
    `casework.services`; `casework.config` is a part of its own."""
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


#: The layers of casework, lowest first. A part may import its own layer and those below it,
#: never one above, not even inside a function: the house is built upwards.
LAYERS: tuple[tuple[str, ...], ...] = (
    # what everything stands on: settings, paths, the errors services raise, the core's signals,
    # business days, and the auditor's verifier (which stands alone)
    ("config", "paths", "errors", "signals", "calendar", "logcheck"),
    ("workflow",),  # workflow files: loading and checking them, the machine
    ("library",),  # the library this app serves: its workflows and settings
    ("models", "extensions", "migrations"),  # the tables
    ("presenting",),  # turning values, people and events into words
    ("services", "policies"),  # what can be done to cases, users and the log
    ("printing", "notifications"),  # what services' results become: PDFs and e-mail
    ("jobs", "demo"),  # work done on a schedule or on command, not in a request
    ("http",),  # serving a request, for pages and API alike
    ("web", "api", "monitoring"),  # the ways in over HTTP
    ("",),  # the application factory, `casework` itself, which puts them together
    ("cli",),  # the command line, which builds the application
)
LAYER_OF = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def layer_of(module: str) -> tuple[str, int]:
    part = module.split(".")[1] if "." in module else ""
    if part not in LAYER_OF:
        raise AssertionError(f"{module} is in no layer: place `{part}` in LAYERS")
    return part, LAYER_OF[part]


def every_import(path: Path, known: set[str]) -> set[str]:
    """The casework modules a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                found.add(target if target in known else node.module)
    return {name for name in found if name in known}


def test_every_part_of_casework_imports_only_its_layer_and_those_below():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(paths)
    upwards = []
    for name, path in sorted(paths.items()):
        part, rank = layer_of(name)
        for other in sorted(every_import(path, known)):
            other_part, other_rank = layer_of(other)
            if other_rank > rank:
                upwards.append(f"{name} ({part}) imports {other} ({other_part})")
    assert len(paths) > 100, "the modules were not read"
    assert not upwards, "imports up the layers:\n" + "\n".join(upwards)


def test_the_layer_check_catches_an_import_upwards(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from casework.web.security import add_security_headers\n")
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found = every_import(planted, known)
    assert found == {"casework.web.security"}
    assert layer_of("casework.services.firing")[1] < layer_of(next(iter(found)))[1]
