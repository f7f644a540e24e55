"""`casework retention`: the cases eligible for disposal, and disposal batches."""

from __future__ import annotations

from typing import Any

import click

from casework.cli.base import app_session, fail, main, make_app, save, with_app


def _officer(username: str) -> Any:
    from casework.services.users import find_user

    found = find_user(username)
    if found is None or not found.active:
        fail(f"no active user {username!r}")
    return found


@main.group(invoke_without_command=True)
@click.option("--days", default=90, show_default=True, help="How far ahead to look.")
@click.option("--as", "username", help="List as this user (default: every case).")
@click.pass_context
def retention(ctx: click.Context, days: int, username: str | None) -> None:
    """The cases eligible for disposal now and within DAYS days, by record series."""
    if ctx.invoked_subcommand is not None:
        return
    from casework.services import disposal
    from casework.services.users import system_user

    app = make_app()
    with app_session(app, write=False):
        user = _officer(username) if username else system_user()
        today = disposal.today_for()
        due = disposal.due_cases(user, today, days) if username else disposal.all_due(today, days)
        if not due:
            click.echo(f"No case is eligible for disposal within {days} days.")
        for d in due:
            rule = d.eligibility.rule
            assert rule is not None  # nosec B101 # only cases with a rule become eligible
            when = "now" if d.eligibility.eligible(today) else f"from {d.eligibility.on}"
            held = "  ON LEGAL HOLD" if d.held else ""
            click.echo(
                f"{d.case.number}  {rule.schedule}  {rule.series}: eligible {when}"
                f" (closed {d.closed_day}){held}"
            )


@retention.command("prepare")
@click.argument("schedule")
@click.option("--as", "username", required=True, help="The records officer (or Director).")
@click.option("-o", "--output", help="Also write the certificate (PDF) to this file.")
@with_app
def retention_prepare(schedule: str, username: str, output: str | None) -> None:
    """Prepare a disposal batch of the series with schedule number SCHEDULE, and its
    certificate: every case of it eligible today and not under a legal hold."""
    from casework.printing.certificate import certificate_pdf
    from casework.services import disposal

    batch = disposal.prepare_batch(_officer(username), schedule, certificate_pdf)
    if output:
        save(batch.certificate, output)
    click.echo(
        f"batch {batch.id}: {len(batch.numbers)} case(s) of {batch.series} ({batch.schedule}); "
        f"certificate SHA-256 {batch.certificate_sha256}; may be confirmed from "
        f"{batch.wait_until.isoformat()}"
    )


@retention.command("confirm")
@click.argument("batch_id")
@click.option("--as", "username", required=True, help="The records officer (or Director).")
@with_app
def retention_confirm(batch_id: str, username: str) -> None:
    """Confirm disposal batch BATCH_ID: destroy the content of its cases (run again, it finishes
    what a cut-short run left)."""
    from casework.services import disposal

    user = _officer(username)
    done = disposal.confirm_batch(user, disposal.load_batch(user, batch_id, write=True))
    click.echo(f"batch {batch_id}: {len(done.disposed)} case(s) disposed of")
    for reason in done.kept:
        click.echo(f"kept: {reason}")
