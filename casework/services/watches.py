"""Watches: the named checks a workflow runs over every case in a state, such as an account
whose administrators can no longer reach it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, Person, User
from casework.models.event import FLAGGED
from casework.services.audit import append_event
from casework.workflow import Workflow
from casework.workflow.definition import WatchDef
from casework.workflow.hooks import WATCHES


@dataclass(frozen=True)
class UserStanding:
    active: bool
    roles: frozenset[str]
    separated: bool


@dataclass(frozen=True)
class Flag:
    """A watch that flags a case now, and why."""

    watch: WatchDef
    reason: str


class Standings:
    """How users stand on one day, each user read once however many cases name them (a sweep
    or a list runs the watches over every case in a state)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self._known: dict[str, UserStanding | None] = {}

    def of(self, usernames: Iterable[str]) -> dict[str, UserStanding]:
        names = set(usernames)
        missing = sorted(names - self._known.keys())
        if missing:
            found = standing_of(missing, self.today)
            self._known.update({name: found.get(name) for name in missing})
        return {name: known for name in names if (known := self._known[name]) is not None}


class _Watched:
    def __init__(self, case: Case, standings: Standings) -> None:
        self.fields: Mapping[str, Any] = case.fields
        self._standings = standings

    def standing(self, usernames: Iterable[str]) -> dict[str, UserStanding]:
        return self._standings.of(usernames)


def standing_of(usernames: Iterable[str], today: date) -> dict[str, UserStanding]:
    """How the named users stand today: active, their roles, and whether they have left."""
    names = sorted(set(usernames))
    if not names:
        return {}
    rows = db.session.execute(
        sa.select(User, Person.separated_on)
        .outerjoin(Person, Person.user_id == User.id)
        .where(User.username.in_(names))
    ).all()
    return {
        user.username: UserStanding(
            user.active, user.roles, separated_on is not None and separated_on <= today
        )
        for user, separated_on in rows
    }


def flags(case: Case, workflow: Workflow, standings: Standings) -> list[Flag]:
    """The watches of the case's state that flag it now, on the day of `standings` (which many
    cases may share)."""
    found = []
    watched = _Watched(case, standings)
    for watch in workflow.watches:
        if watch.state != case.state:
            continue
        reason = WATCHES[watch.check](watched)
        if reason:
            found.append(Flag(watch, reason))
    return found


#: What a case's last recorded verdict of each watch was: watch key -> the event's action and data.
LastFlags = Mapping[str, Mapping[str, Any]]
#: Written out (`models.event.FLAGGED`), so that the partial index of flags serves it.
FLAG_EVENTS = sa.text(f"events.{FLAGGED}")


def _last_flags(rows: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Each watch's last verdict among (action, data) rows in the order they were recorded."""
    last: dict[str, dict[str, Any]] = {}
    for action, data_json in rows:
        data = Event(action=action, data_json=data_json).data
        last[str(data.get("watch"))] = {"action": action, **data}
    return last


def last_flags(case: Case) -> dict[str, dict[str, Any]]:
    """The case's last recorded verdict of each watch, by watch key."""
    return _last_flags(
        db.session.execute(
            sa.select(Event.action, Event.data_json)
            .where(Event.case_id == case.id, FLAG_EVENTS)
            .order_by(Event.seq)
        ).all()
    )


def last_flags_in(
    workflow: Workflow, states: Iterable[str]
) -> dict[int, dict[str, dict[str, Any]]]:
    """`last_flags` of every case of the workflow in those states, by case id, in one read."""
    rows = db.session.execute(
        sa.select(Event.case_id, Event.action, Event.data_json)
        .join(Case, Case.id == Event.case_id)
        .where(
            Case.workflow_key == workflow.key,
            Case.state.in_(list(states)),
            FLAG_EVENTS,
        )
        .order_by(Event.case_id, Event.seq)
    ).all()
    by_case: dict[int, list[tuple[str, str]]] = {}
    for case_id, action, data_json in rows:
        by_case.setdefault(case_id, []).append((action, data_json))
    return {case_id: _last_flags(found) for case_id, found in by_case.items()}


def changes_due(
    case: Case, workflow: Workflow, current: Mapping[str, str], last: LastFlags
) -> list[tuple[WatchDef, str | None]]:
    """The watches of the case's state whose verdict now (`current`: key -> reason of each that
    flags) differs from the last one recorded: raised (with its reason) or cleared (None)."""
    changes: list[tuple[WatchDef, str | None]] = []
    for watch in workflow.watches:
        if watch.state != case.state:
            continue
        before = last.get(watch.key)
        reason = current.get(watch.key)
        if reason is not None:
            if not (before and before["action"] == "flagged" and before.get("reason") == reason):
                changes.append((watch, reason))
        elif before and before["action"] == "flagged":
            changes.append((watch, None))
    return changes


def verdicts(case: Case, workflow: Workflow, standings: Standings) -> dict[str, str]:
    """Each watch that flags the case now, by key, with its reason."""
    return {flag.watch.key: flag.reason for flag in flags(case, workflow, standings)}


def record_flags(
    case: Case,
    workflow: Workflow,
    actor: str,
    now: datetime,
    standings: Standings,
) -> list[tuple[WatchDef, str | None]]:
    """Record on the case each watch whose verdict changed since it was last recorded: raised
    (with its reason) or cleared. Returns the changes; raised ones are to be told."""
    current = verdicts(case, workflow, standings)
    changes = changes_due(case, workflow, current, last_flags(case))
    for watch, reason in changes:
        if reason is not None:
            data = {"watch": watch.key, "label": watch.label, "reason": reason}
            append_event(case, actor, "flagged", data, at=now)
        else:
            data = {"watch": watch.key, "label": watch.label}
            append_event(case, actor, "flag_cleared", data, at=now)
    return changes
