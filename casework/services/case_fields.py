"""What a case's fields are checked against (other cases, people, users), and the columns a
case derives from its fields (title, branch, search text, due date)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.library import library
from casework.models import (
    Case,
    Person,
    User,
)
from casework.services.access import (
    visible_clause,
)
from casework.workflow import Workflow
from casework.workflow.definition import FieldDef


class References:
    """Database lookups behind `person`, `case` and `usernames` fields, as `actor` sees them."""

    def __init__(self, actor: User) -> None:
        self.actor = actor

    def person_exists(self, person_id: int) -> bool:
        return db.session.get(Person, person_id) is not None

    def case_state(self, number: str, workflow: str) -> str | None:
        clause = visible_clause(self.actor) if "system" not in self.actor.roles else sa.true()
        state: str | None = db.session.execute(
            sa.select(Case.state).where(
                Case.number == number, Case.workflow_key == workflow, clause
            )
        ).scalar_one_or_none()
        return state

    def unknown_users(self, names: Iterable[str]) -> list[str]:
        names = list(names)
        found = set(
            db.session.execute(sa.select(User.username).where(User.username.in_(names))).scalars()
        )
        return [n for n in names if n not in found]

    def branches(self) -> tuple[str, ...]:
        return library().branches


def _display(f: FieldDef | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_display(f, v) for v in value)
    if f is not None and f.choices:
        return f.choice_label(str(value))
    return str(value)


def derived_columns(number: str, workflow: Workflow, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns lists show and search (title, branch, search text), from the intake fields."""
    title_def = workflow.field(workflow.title_field)
    title = " ".join(_display(title_def, fields.get(workflow.title_field)).split())
    branch = fields.get("branch")
    parts = [number]
    for f in workflow.fields:
        if f.name in fields and f.type not in ("person",):
            parts.append(_display(f, fields[f.name]))
    return {
        "title": title if len(title) <= 200 else title[:199] + "…",
        "branch": str(branch) if branch else None,
        "search_text": "\n".join(parts),
    }


def deadline_in(workflow: Workflow, state: str, entered: datetime) -> datetime | None:
    rule = workflow.states[state].deadline
    if rule is None:
        return None
    if rule.days:
        return entered + timedelta(days=rule.days)
    return library().calendar.due(entered, rule.business_days)
