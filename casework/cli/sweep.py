"""`casework sweep`: act on overdue cases, sign a checkpoint, send the waiting e-mail."""

from __future__ import annotations

import sys
from typing import Any

import click

from casework.cli.base import app_session, main, make_app


@main.command()
@click.option("--dry-run", is_flag=True, help="List what the sweep would do; change nothing.")
@click.option("--quiet", is_flag=True, help="Print nothing when there was nothing to do.")
def sweep(dry_run: bool, quiet: bool) -> None:
    """Act on overdue cases as their workflows say, then send the waiting e-mail.

    Safe to run every few minutes (cron, a systemd timer), and on several hosts at once.
    Exits with 1 when an overdue case could not be acted on.
    """
    import socket

    from casework.extensions import db
    from casework.jobs.deadlines import sweep_deadlines
    from casework.models import SweepRun, utcnow
    from casework.notifications.delivery import deliver_outbox, due_messages
    from casework.services.db import refresh_statistics

    app = make_app()
    now = utcnow()
    with app_session(app, write=not dry_run):
        actions = sweep_deadlines(now, dry_run=dry_run)
        due = [(m.recipient, m.subject) for m in due_messages(now)] if dry_run else []
        if not dry_run:
            refresh_statistics()  # every few minutes: the planner keeps up as cases pile up
    for action in actions:
        click.echo(action.line())
    if not actions and not quiet:
        click.echo("deadlines: nothing to do")
    if dry_run:
        for recipient, subject in due:
            click.echo(f"would send to {recipient}: {subject}")
        click.echo(f"mail: {len(due)} message(s) would be sent now")
        return
    with app.app_context():
        try:
            checkpoint = _sweep_checkpoint(now, quiet)
            report = deliver_outbox(now)
        finally:
            db.session.remove()
            db.engine.dispose()
    if checkpoint:
        click.echo(checkpoint)
    with app_session(app):
        db.session.add(
            SweepRun(
                started_at=now,
                finished_at=utcnow(),
                host=socket.gethostname()[:255],
                actions=sum(a.what != "problem" for a in actions),
                problems=sum(a.what == "problem" for a in actions),
                mail_sent=report.sent,
                mail_failed=report.failed,
            )
        )
    for error in report.errors:
        click.echo(f"mail failed for good: {error}")
    if not quiet or report.sent or report.retrying or report.failed:
        click.echo(report.summary())
    if any(a.what == "problem" for a in actions):
        sys.exit(1)


def _sweep_checkpoint(now: Any, quiet: bool) -> str:
    """A checkpoint when the log has grown since the last (before the mail, which sends it)."""
    from casework.extensions import db
    from casework.services.db import begin_write
    from casework.services.log import LogError
    from casework.services.log.checkpoints import make_checkpoint

    try:
        begin_write()
        row = make_checkpoint(now, only_if_grown=True)
        db.session.commit()
    except LogError as exc:
        db.session.rollback()
        return "" if quiet else f"checkpoint: not made: {exc.message}"
    return f"checkpoint: {row.size} records signed" if row else ""
