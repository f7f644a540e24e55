"""`casework workflows`: check and show the workflow definitions."""

from __future__ import annotations

import os
from typing import Any

import click

from casework.cli.base import fail, main


def _registry() -> Any:
    from casework.config import workflows_dir
    from casework.workflow import WorkflowFileError, load_registry

    folder = workflows_dir({"WORKFLOWS_DIR": os.environ.get("CASEWORK_WORKFLOWS_DIR")})
    try:
        return load_registry(folder)
    except WorkflowFileError as exc:
        fail(str(exc), 2)


@main.group()
def workflows() -> None:
    """Check and show workflow definitions."""


@workflows.command("check")
def workflows_check() -> None:
    """Validate every workflow file."""
    registry = _registry()
    for w in registry:
        click.echo(
            f"ok  {w.key:<12} v{w.version}  {w.prefix}  "
            f"{len(w.states)} states, {len(w.transitions)} transitions"
        )


@workflows.command("show")
@click.argument("key")
@click.option("--svg", is_flag=True, help="Print the diagram as SVG.")
def workflows_show(key: str, svg: bool) -> None:
    """Show workflow KEY: its states, transitions and who may fire them."""
    from casework.presenting.diagram import render_svg
    from casework.presenting.words import role_label

    registry = _registry()
    if key not in registry:
        fail(f"no workflow {key!r}; known: {', '.join(registry.keys())}")
    w = registry.get(key)
    if svg:
        click.echo(render_svg(w))
        return
    click.echo(f"{w.title} ({w.key} v{w.version}, numbers {w.prefix}-YEAR-NNNN)")
    if w.policy:
        click.echo(f"Policy: {w.policy}")
    click.echo("\nStates:")
    for s in w.states.values():
        flags = " (final)" if s.terminal else ""
        flags += " (start)" if s.name == w.initial else ""
        deadline = f" — due within {s.deadline.period}" if s.deadline else ""
        click.echo(f"  {s.name}{flags}{deadline}")
    click.echo("\nRetention:")
    if w.retention is None:
        click.echo("  no rule: the cases are kept for good")
    else:
        for state in w.terminal_states:
            rule = w.retention.for_state(state)
            click.echo(f"  {state}: {rule.series} (schedule {rule.schedule}), {rule.period}")
    click.echo("\nTransitions:")
    for t in w.transitions.values():
        roles = ", ".join(role_label(r) for r in t.roles)
        click.echo(f"  {t.trigger}: {' | '.join(t.sources)} -> {t.dest}  [{roles}]")
        for source, narrower in t.roles_by_source.items():
            click.echo(f"      from {source} only: {', '.join(role_label(r) for r in narrower)}")
        if t.fields:
            click.echo(
                f"      fields: {', '.join(f.name + ('*' if f.required else '') for f in t.fields)}"
            )
        if t.guards or t.conditions:
            click.echo(f"      checks: {', '.join(t.guards + t.conditions)}")
