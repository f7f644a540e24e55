"""The dashboard's figures, each counted over the cases the user may see: cases per state, overdue,
median times between states, cases opened per week, and records on hold or due for disposal."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from casework.extensions import db
from casework.library import library
from casework.models import Case, Event, User
from casework.services import listing
from casework.services.access import visible_clause, visible_parts
from casework.services.listing import count_by_state
from casework.workflow import Workflow
from casework.workflow.definition import FigureDef

WEEKS = 12


@dataclass
class StateCount:
    workflow: str
    state: str
    label: str
    count: int
    terminal: bool


@dataclass
class WorkflowCounts:
    key: str
    title: str
    states: list[StateCount]

    @property
    def total(self) -> int:
        return sum(s.count for s in self.states)


def counts(user: User) -> list[WorkflowCounts]:
    """Visible cases per workflow and state; workflows the user sees nothing of are left out."""
    found = count_by_state(user)
    out = []
    for workflow in library().workflows:
        states = [
            StateCount(
                workflow.key, s.name, s.label, found.get((workflow.key, s.name), 0), s.terminal
            )
            for s in workflow.states.values()
        ]
        if any(s.count for s in states):
            out.append(WorkflowCounts(workflow.key, workflow.title, states))
    return out


def overdue_count(user: User, now: datetime) -> int:
    """How many cases the user may see are overdue now."""
    count: int = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(visible_clause(user), Case.due_at < now)
    ).scalar_one()
    return count


def median_time(user: User, workflow: Workflow, figure: FigureDef) -> timedelta | None:
    """Median time the visible cases of a workflow took from one state (or from being received)
    to the first time they reached another; None when none has made the step."""
    reached = (
        sa.select(Event.case_id, sa.func.min(Event.at).label("at"))
        .where(Event.to_state.in_(figure.to_states), Event.from_state != Event.to_state)
        .group_by(Event.case_id)
    )
    if figure.from_state is not None:
        reached = reached.where(Event.from_state == figure.from_state)
    arrived = reached.subquery()
    rows = db.session.execute(
        sa.select(Case.created_at, Case.fields_json, arrived.c.at)
        .join(arrived, arrived.c.case_id == Case.id)
        .where(Case.workflow_key == workflow.key, visible_clause(user))
    ).all()
    spans = [
        (at - _received(workflow, opened, fields_json)).total_seconds()
        for opened, fields_json, at in rows
    ]
    if not spans:
        return None
    return timedelta(seconds=statistics.median(spans))


def _received(workflow: Workflow, opened: datetime, fields_json: str) -> datetime:
    """When the library received a case: its received field if the workflow has one, else when
    it was opened."""
    if workflow.received_field:
        value = json.loads(fields_json).get(workflow.received_field)
        if value:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return opened


@dataclass(frozen=True)
class TimeSpan:
    """A workflow's declared time figure and its median over the cases the user may see."""

    figure: FigureDef
    #: None when no visible case has made the step.
    span: timedelta | None


def time_spans(user: User) -> list[TimeSpan]:
    """Each workflow's declared time figures, over the cases the user may see of it."""
    out = []
    for workflow in library().workflows:
        if not workflow.figures or not visible_parts(user, workflows=[workflow], receipts=False):
            continue
        for figure in workflow.figures:
            out.append(TimeSpan(figure, median_time(user, workflow, figure)))
    return out


@dataclass
class WeeklySeries:
    weeks: list[date]
    #: (workflow title, counts per week)
    series: list[tuple[str, list[int]]]


def opened_per_week(user: User, now: datetime) -> WeeklySeries:
    """Cases opened in each of the last `WEEKS` weeks (Monday to Sunday, library time)."""
    tz = library().tz
    today = now.astimezone(tz).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS - 1)
    start = datetime.combine(first, time(), tz)
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    rows = db.session.execute(
        sa.select(Case.workflow_key, Case.created_at).where(
            visible_clause(user), Case.created_at >= start
        )
    ).all()
    per: dict[str, list[int]] = {}
    for key, created in rows:
        local = created.astimezone(tz).date()
        index = (local - first).days // 7
        if 0 <= index < WEEKS:
            per.setdefault(key, [0] * WEEKS)[index] += 1
    series = [(w.title, per[w.key]) for w in library().workflows if w.key in per]
    return WeeklySeries(weeks, series)


def records_count(user: User, now: datetime, which: str) -> int:
    """How many cases the user may see are on legal hold, or eligible for disposal today."""
    f = listing.CaseFilter(on_hold=which == "on_hold", eligible=which == "eligible")
    conditions = listing.filter_conditions(user, f, now)
    found: int = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(*conditions)
    ).scalar_one()
    return found
