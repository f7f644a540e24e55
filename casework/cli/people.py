"""`casework people`: the people who can be subjects of violation cases."""

from __future__ import annotations

import click

from casework.cli.base import fail, main, with_app


@main.group()
def people() -> None:
    """Manage the people who can be subjects of violation cases."""


@people.command("add")
@click.argument("name")
@click.option("--employee-id", required=True)
@click.option("--branch", default="")
@click.option("--user", "username", help="The person's own user account, if any.")
@with_app
def people_add(name: str, employee_id: str, branch: str, username: str | None) -> None:
    """Add a person NAME."""
    from casework.services.people import create_person

    person = create_person(name, employee_id, branch, username)
    click.echo(f"added person {person.id}: {person.name} ({person.employee_id})")


@people.command("separate")
@click.argument("employee_id")
@click.argument("day", metavar="DATE")
@with_app
def people_separate(employee_id: str, day: str) -> None:
    """Record that the person with EMPLOYEE_ID left on DATE (YYYY-MM-DD); "" clears it."""
    import sqlalchemy as sa

    from casework.extensions import db
    from casework.models import Person
    from casework.services.people import set_separation

    found = db.session.execute(
        sa.select(Person).where(Person.employee_id == employee_id)
    ).scalar_one_or_none()
    if found is None:
        fail(f"no person with employee id {employee_id!r}")
        return
    set_separation(found, day)
    click.echo(f"{found.name}: left {found.separated_on or 'no date'}")
