"""`casework print` and `casework history`: printed case records and case histories."""

from __future__ import annotations

import click

from casework.cli.base import main, printing_user, save, with_app


@main.command("print")
@click.argument("number")
@click.option("-o", "--output", required=True, help="The PDF file to write.")
@click.option("--redacted", is_flag=True, help="The public-records copy: confidential withheld.")
@click.option("--as", "username", help="Print as this user, with their access (default: system).")
@with_app
def print_record(number: str, output: str, redacted: bool, username: str | None) -> None:
    """Write the record of case NUMBER as a PDF; the print is recorded in the case's trail."""
    from casework.printing.record import case_record_pdf

    printed = case_record_pdf(printing_user(username), number, redacted=redacted)
    save(printed.content, output)
    click.echo(f"{output}: {printed.filename}, {len(printed.content)} bytes")


@main.command("history")
@click.argument("person")
@click.option("-o", "--output", required=True, help="The PDF file to write.")
@click.option("--as", "username", help="Print as this user, with their access (default: system).")
@with_app
def print_history(person: str, output: str, username: str | None) -> None:
    """Write the case history of PERSON (id or employee id) as a PDF, for the personnel file."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Person
    from casework.printing.history import employee_history_pdf

    found = db.session.execute(
        sa.select(Person.id).where(Person.employee_id == person)
    ).scalar_one_or_none()
    printed = employee_history_pdf(printing_user(username), found if found else person)
    save(printed.content, output)
    click.echo(f"{output}: {len(printed.recorded)} case(s), {len(printed.content)} bytes")
