"""`casework tallies`: check the tallies lists count cases from, and mend them."""

from __future__ import annotations

import sys

import click

from casework.cli.base import app_session, main, make_app


@main.command()
@click.option("--fix", is_flag=True, help="Count the cases again into the tallies.")
def tallies(fix: bool) -> None:
    """Check that the tallies lists and the dashboard count from match the cases.

    The database keeps them by itself; only cases changed with its triggers off (as a database
    owner can) leave them wrong. Exits with 1 when a tally is wrong and `--fix` was not given.
    """
    from casework.services import tallies as kept

    app = make_app()
    with app_session(app, write=fix):
        wrong = kept.differences(snapshot=not fix)
        rebuilt = kept.rebuild() if fix and wrong else None
    for key, held, counted in wrong:
        workflow, state, branch, unassigned, is_open, due = key
        click.echo(
            f"{workflow} {state} (branch {branch or 'none'}, "
            f"{'unassigned' if unassigned else 'assigned'}, {'open' if is_open else 'closed'}, "
            f"{'with' if due else 'without'} a due date): tallied {held}, counted {counted}"
        )
    if not wrong:
        click.echo("tallies: ok, every one is the number of its cases")
    elif rebuilt is not None:
        click.echo(f"tallies: counted again ({rebuilt} tallies)")
    else:
        click.echo(f"tallies: {len(wrong)} wrong; run `casework tallies --fix` to count again")
        sys.exit(1)
