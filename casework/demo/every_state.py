"""A demo case in every state of each workflow the scripted cases leave out, walked from its
definition alone with plausible field values."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.demo.seeder import Seeder
from casework.errors import CaseworkError
from casework.extensions import db
from casework.library import library
from casework.models import Case, utcnow
from casework.workflow.definition import FieldDef


def _sample(s: Seeder, f: FieldDef) -> Any:
    """A plausible value for a field of a workflow the demo has no script for."""
    if f.type == "choice":
        return f.choices[0].value
    if f.type == "multichoice":
        return [f.choices[0].value]
    if f.type == "yesno":
        return "no"
    if f.type == "date":
        return utcnow().date().isoformat()
    if f.type == "datetime":
        return None  # "now", or left out
    if f.type == "url":
        return "https://social.example/post/900"
    if f.type == "person":
        return next(iter(s.people.values())).id
    if f.type == "usernames":
        return ["social"]
    if f.type == "branch":
        return (library().branches or ("Main Library",))[0]
    if f.type == "case":
        query = sa.select(Case.number).where(Case.workflow_key == f.workflow)
        if f.states:
            query = query.where(Case.state.in_(f.states))
        return db.session.execute(query.order_by(Case.id).limit(1)).scalar_one_or_none()
    if f.type == "textarea":
        return f"Demo {f.label.lower()}."
    return f"Demo {f.label.lower()}"


def _sample_fields(s: Seeder, fields: tuple[FieldDef, ...]) -> dict[str, Any]:
    values = {f.name: _sample(s, f) for f in fields if f.required or f.type == "case"}
    return {k: v for k, v in values.items() if v is not None}


def _user_for(s: Seeder, roles: tuple[str, ...]) -> str | None:
    for user in s.users.values():
        if user.roles & set(roles) and user.username not in ("system", "admin"):
            return user.username
    return None


def seed_every_state() -> None:
    """A demo case in every state of each workflow that has none yet, walked the shortest way
    from its start; a state a guard keeps the demo from reaching is left out."""
    s = Seeder()
    now = utcnow()
    for workflow in library().workflows:
        seeded = db.session.execute(
            sa.select(Case.id).where(Case.workflow_key == workflow.key).limit(1)
        ).first()
        opener = _user_for(s, workflow.access.intake)
        if seeded or opener is None:
            continue
        for state in workflow.states:
            try:
                with db.session.begin_nested():
                    case = s.open(opener, workflow.key, _sample_fields(s, workflow.fields), now)
                    for transition, source in workflow.path_to(state):
                        who = _user_for(s, transition.roles_from(source))
                        if who is None:
                            raise CaseworkError("nobody in the demo may take this step")
                        fields = _sample_fields(s, transition.fields)
                        s.fire(who, case, transition.trigger, now, **fields)
            except CaseworkError:
                continue
