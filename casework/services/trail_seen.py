"""What a check of the audit trail may tell a user: the counts and case numbers of the cases they
may see in full, and of no other (the difference would tell the subject of a case how many cases
there are about them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, User
from casework.services.access import visible_clause


@dataclass(frozen=True)
class SeenTrail:
    """The part of the trail a user may see: how many cases and events, and which of the case
    numbers asked about."""

    cases: int
    events: int
    numbers: set[str]


def seen_trail(user: User, numbers: Iterable[str]) -> SeenTrail:
    """The cases and events `user` may see in full, counted, and which of `numbers` they may
    see."""
    visible = visible_clause(user, receipts=False)
    cases_seen: int = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(visible)
    ).scalar_one()
    events_seen: int = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Event)
        .join(Case, Case.id == Event.case_id)
        .where(visible)
    ).scalar_one()
    asked = set(numbers)
    seen = (
        set(
            db.session.execute(
                sa.select(Case.number).where(Case.number.in_(sorted(asked)), visible)
            ).scalars()
        )
        if asked
        else set()
    )
    return SeenTrail(cases_seen, events_seen, seen)
