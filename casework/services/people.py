"""People: employees who may be the subject of a violation case."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from casework.errors import InvalidFields
from casework.extensions import db
from casework.library import library
from casework.models import Case, Person, User
from casework.presenting.values import employee_label
from casework.services.access import visible_clause
from casework.services.users import find_user
from casework.workflow.fields import clean_branch, clean_text

#: Roles that may add people.
PEOPLE_EDITORS = frozenset({"director", "hr", "admin"})


def create_person(name: Any, employee_id: Any, branch: Any = "", username: Any = None) -> Person:
    """Add a person; raises `InvalidFields` naming each bad field (a branch must be one of the
    configured branches and departments, when the library lists them)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field, value, required in (
        ("name", name, True),
        ("employee_id", employee_id, True),
        ("branch", branch if branch is not None else "", False),
    ):
        try:
            values[field] = clean_text(
                value, multiline=False, max_length=200 if field != "employee_id" else 64
            )
        except ValueError as exc:
            errors[field] = [str(exc)]
            continue
        if required and not values[field]:
            errors[field] = ["This field is required."]
    if values.get("branch"):
        try:
            clean_branch(values["branch"], library().branches)
        except ValueError as exc:
            errors["branch"] = [str(exc)]
    user = None
    if username not in (None, ""):
        if not isinstance(username, str):
            errors["user"] = ["Must be a user name."]
        else:
            user = find_user(username)
            if user is None:
                errors["user"] = ["No user has that name."]
            elif db.session.execute(sa.select(Person.id).where(Person.user_id == user.id)).first():
                errors["user"] = ["That user already belongs to another person."]
    if (
        "employee_id" not in errors
        and db.session.execute(
            sa.select(Person.id).where(Person.employee_id == values["employee_id"])
        ).first()
    ):
        errors["employee_id"] = ["Another person has this employee id."]
    if errors:
        raise InvalidFields(errors)
    person = Person(
        name=values["name"],
        employee_id=values["employee_id"],
        branch=values.get("branch", ""),
        user_id=user.id if user else None,
    )
    db.session.add(person)
    db.session.flush()
    return person


def search_people(text: str, limit: int = 20) -> list[Person]:
    """People whose name or employee id contains `text`."""
    text = text.replace("\x00", "")
    pattern = f"%{text.strip()}%"
    return list(
        db.session.execute(
            sa.select(Person)
            .where(sa.or_(Person.name.ilike(pattern), Person.employee_id.ilike(pattern)))
            .order_by(Person.name)
            .limit(limit)
        ).scalars()
    )


def set_separation(person: Person, value: Any) -> None:
    """Record the day the person left (an ISO date), or clear it with an empty value.

    Raises `InvalidFields` naming `separated_on`.
    """
    if value in (None, ""):
        person.separated_on = None
        return
    try:
        day = date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2200:
        raise InvalidFields({"separated_on": ["Enter the date they left, such as 2026-03-01."]})
    person.separated_on = day


def person_by_id(person_id: int) -> Person | None:
    """The person with this id, or None."""
    return db.session.get(Person, person_id) if person_id < 2**31 else None


def everyone() -> list[Person]:
    """Every person, by name."""
    return list(db.session.execute(sa.select(Person).order_by(Person.name, Person.id)).scalars())


def employee_labels(ids: Iterable[int]) -> dict[int, str]:
    """The employees these ids name, as every case names them (`employee_label`)."""
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Person.id, Person.name, Person.employee_id, Person.branch).where(
            Person.id.in_(wanted)
        )
    )
    return {pid: employee_label(name, eid, branch) for pid, name, eid, branch in rows}


def cases_about(user: User, person: Person) -> list[Case]:
    """The cases about `person` that `user` may see in full, newest first."""
    return list(
        db.session.execute(
            sa.select(Case)
            .where(Case.subject_person_id == person.id, visible_clause(user, receipts=False))
            .order_by(Case.created_at.desc())
        ).scalars()
    )
