"""A case's trail as stored, read for pages and the API: its events, its steps, and whose step it
still waits for."""

from __future__ import annotations

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, User


def events_of(case: Case) -> list[Event]:
    """Every event of the case, oldest first (the caller has authorized reading them)."""
    return list(
        db.session.execute(
            sa.select(Event).where(Event.case_id == case.id).order_by(Event.seq)
        ).scalars()
    )


def head_event(case: Case) -> Event:
    """The case's latest event (the one just appended, after a note)."""
    found: Event = db.session.execute(
        sa.select(Event).where(Event.case_id == case.id, Event.seq == case.head_seq)
    ).scalar_one()
    return found


def steps_of(case: Case) -> list[Event]:
    """The case's transition events, oldest first."""
    return list(
        db.session.execute(
            sa.select(Event)
            .where(Event.case_id == case.id, Event.action == "transition")
            .order_by(Event.seq)
        ).scalars()
    )


def last_step(case: Case) -> Event | None:
    """The case's latest transition event (what put it where it is)."""
    return db.session.execute(
        sa.select(Event)
        .where(Event.case_id == case.id, Event.action == "transition")
        .order_by(Event.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def waiting_roles(case: Case, event: Event | None) -> list[str]:
    """The roles whose step the case still waits for in this state (an approval that needs two
    people records who is still to approve); empty when the case waits on nobody in particular."""
    if event is None or event.to_state != case.state or event.from_state != event.to_state:
        return []
    waiting = event.data.get("waiting_for")
    return [str(r) for r in waiting] if isinstance(waiting, list) else []


def waiting_on_others(user: User, found: list[Case]) -> set[int]:
    """Ids of the cases among `found` that wait only for roles `user` does not hold (an account
    request the Director has approved waits for the social media team, not for her)."""
    if not found:
        return set()
    latest = (
        sa.select(Event.case_id, sa.func.max(Event.seq).label("seq"))
        .where(Event.case_id.in_([c.id for c in found]), Event.action == "transition")
        .group_by(Event.case_id)
        .subquery()
    )
    events = db.session.execute(
        sa.select(Event).join(
            latest, sa.and_(Event.case_id == latest.c.case_id, Event.seq == latest.c.seq)
        )
    ).scalars()
    by_case = {c.id: c for c in found}
    return {
        e.case_id
        for e in events
        for roles in [waiting_roles(by_case[e.case_id], e)]
        if roles and not user.roles & set(roles)
    }
