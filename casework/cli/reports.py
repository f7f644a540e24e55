"""`casework report`: reports for the Board of Trustees."""

from __future__ import annotations

import click

from casework.cli.base import main, printing_user, save, with_app


@main.group()
def report() -> None:
    """Reports for the Board of Trustees."""


@report.command("monthly")
@click.option("--month", help="The month, YYYY-MM (default: the last full month).")
@click.option("--from", "first", help="The first month of a range, YYYY-MM.")
@click.option("--until", "last", help="The last month of a range, YYYY-MM.")
@click.option("--format", "form", type=click.Choice(["csv", "pdf"]), default="csv")
@click.option("-o", "--output", required=True, help="The file to write.")
@click.option("--as", "username", help="Make it as this user, with their sections.")
@with_app
def report_monthly(
    month: str | None,
    first: str | None,
    last: str | None,
    form: str,
    output: str,
    username: str | None,
) -> None:
    """Write the Board's monthly report as CSV or PDF; the reading is recorded."""
    from casework.models import utcnow
    from casework.services import board_report
    from casework.services.administration import cli_actor
    from casework.services.board_report.csv_file import csv_text
    from casework.services.board_report.months import choose_period

    reader = printing_user(username)
    period = choose_period(month, first, last)
    made = board_report.build_report(reader, period, now=utcnow())
    if form == "pdf":
        from casework.printing.board import board_report_pdf

        content = board_report_pdf(reader, made)
    else:
        content = csv_text(made).encode("utf-8")
    who = reader.username if username else cli_actor()
    board_report.record_read(who, made, form, at=made.generated_at)
    save(content, output)
    click.echo(f"{output}: report for {period.label}, {len(content)} bytes")
