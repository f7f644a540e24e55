"""Acting on demo cases through the services, as a named demo user at a given time."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Person, User
from casework.services import activity, evidence, firing, loading, opening


class Seeder:
    """The demo's users and people by name, and the steps they take on cases."""

    def __init__(self) -> None:
        self.users = {u.username: u for u in db.session.execute(sa.select(User)).scalars()}
        self.people = {p.name: p for p in db.session.execute(sa.select(Person)).scalars()}

    def open(self, who: str, workflow: str, fields: dict[str, Any], at: datetime) -> Case:
        return opening.open_case(self.users[who], workflow, fields, now=at)

    def fire(self, who: str, case: Case, trigger: str, at: datetime, **fields: Any) -> None:
        actor = self.users[who]
        loaded = loading.load_case(actor, case.number, write=True)
        firing.fire(actor, loaded, trigger, loaded.case.version, fields, now=at)

    def note(self, who: str, case: Case, text: str, at: datetime) -> None:
        actor = self.users[who]
        activity.add_note(actor, loading.load_case(actor, case.number, write=True), text, now=at)

    def assign(self, who: str, case: Case, to: str, at: datetime) -> None:
        actor = self.users[who]
        activity.assign(actor, loading.load_case(actor, case.number, write=True), to, now=at)

    def attach(self, who: str, case: Case, name: str, text: str, at: datetime) -> None:
        actor = self.users[who]
        loaded = loading.load_case(actor, case.number, write=True)
        evidence.attach(actor, loaded, name, io.BytesIO(text.encode()), now=at)
