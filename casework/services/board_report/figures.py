"""The Board report's figures: SQL aggregates over the cases, finished on the grouped rows where
SQL cannot be portable (business days, which skip the library's holidays, and months in its
zone). Nothing here names a person or a case: a count small enough to point at someone is
shown as "fewer than N"."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from casework.extensions import db
from casework.library import library
from casework.models import Case, Event
from casework.services.board_report.months import Period, month_key
from casework.workflow import Workflow

#: A count below this (but above 0) is shown as "fewer than N", unless configured otherwise.
SMALLEST = 3
#: How far before a month a complaint may have been logged and still be received in it.
BACKDATED = timedelta(days=92)
NO_BRANCH = "No branch given"


def smallest() -> int:
    return int(current_app.config.get("BOARD_REPORT_SMALLEST_COUNT") or SMALLEST)


def shown_count(count: int, least: int) -> str:
    """A count as the report shows it: small ones (but not 0) as "fewer than N"."""
    if 0 < count < least:
        return f"fewer than {least}"
    return str(count)


@dataclass(frozen=True)
class EngagementRow:
    month: str
    branch: str
    received: int
    in_time: int
    late: int
    #: Not engaged yet, and the deadline not yet passed.
    waiting: int

    @property
    def share(self) -> str:
        decided = self.in_time + self.late
        return f"{round(100 * self.in_time / decided)}%" if decided else "—"


@dataclass(frozen=True)
class EscalationRow:
    month: str
    escalated: int
    decided: int
    median_days: float | None
    max_days: int | None

    @property
    def median_text(self) -> str:
        if self.median_days is None:
            return "—"
        return f"{self.median_days:g}"

    @property
    def max_text(self) -> str:
        return "—" if self.max_days is None else str(self.max_days)


@dataclass(frozen=True)
class ViolationTable:
    outcomes: list[str]
    #: (category label, shown count per outcome)
    rows: list[tuple[str, list[str]]]
    least: int


@dataclass(frozen=True)
class ModerationRow:
    outcome: str
    count: int


def json_text(column: Any, *path: str) -> ColumnElement[Any]:
    """The text at `path` in a JSON text column, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(column, sa.JSON), *path)
    return sa.func.json_extract(column, "$." + ".".join(f'"{p}"' for p in path))


def business_days_between(start: datetime, end: datetime) -> int:
    """Business days after the day `start` falls on, up to the day `end` falls on (library time)."""
    lib = library()
    first, last = (moment.astimezone(lib.tz).date() for moment in (start, end))
    return lib.calendar.business_days_between(first, last)


def _local_month(moment: datetime) -> str:
    return month_key(moment.astimezone(library().tz).date())


def _received(workflow: Workflow, opened: datetime, fields_json: str) -> datetime:
    if workflow.received_field:
        value = json.loads(fields_json).get(workflow.received_field)
        if value:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return opened


def engagement(period: Period, now: datetime) -> tuple[list[EngagementRow], str]:
    """Complaints received in each month, by branch: engaged within the deadline, late, waiting."""
    workflow = library().workflow("complaint")
    rule = workflow.states[workflow.initial].deadline
    start, end = period.bounds()
    first_engaged = (
        sa.select(Event.case_id, sa.func.min(Event.at).label("at"))
        .where(Event.to_state == "engaged", Event.from_state == workflow.initial)
        .group_by(Event.case_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Case.branch, Case.created_at, Case.fields_json, first_engaged.c.at)
        .outerjoin(first_engaged, first_engaged.c.case_id == Case.id)
        .where(
            Case.workflow_key == workflow.key,
            Case.created_at >= start - BACKDATED,
            Case.created_at < end,
        )
    ).all()
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    months = set(period.months)
    for branch, opened, fields_json, engaged_at in rows:
        received = _received(workflow, opened, fields_json)
        month = _local_month(received)
        if month not in months:
            continue
        tally = counts[(month, (branch or "").strip() or NO_BRANCH)]
        tally["received"] += 1
        due = library().calendar.due(received, rule.business_days) if rule else None
        if due is None:
            tally["in_time" if engaged_at is not None else "waiting"] += 1
        elif engaged_at is not None and engaged_at <= due:
            tally["in_time"] += 1
        elif engaged_at is None and now <= due:
            tally["waiting"] += 1
        else:
            tally["late"] += 1
    found = [
        EngagementRow(month, branch, t["received"], t["in_time"], t["late"], t["waiting"])
        for (month, branch), t in sorted(counts.items())
    ]
    return found, rule.period if rule else "the deadline"


def escalations(period: Period) -> list[EscalationRow]:
    """Per month: complaints escalated, and escalations decided (escalated → resolved) with the
    median and longest time from escalation to decision, in business days."""
    start, end = period.bounds()
    escalated = aliased(Event)
    escalated_at = (
        sa.select(sa.func.max(escalated.at))
        .where(
            escalated.case_id == Event.case_id,
            escalated.to_state == "escalated",
            escalated.at <= Event.at,
        )
        .scalar_subquery()
    )
    decided = db.session.execute(
        sa.select(Event.at, escalated_at)
        .join(Case, Case.id == Event.case_id)
        .where(
            Case.workflow_key == "complaint",
            Event.from_state == "escalated",
            Event.to_state == "resolved",
            Event.at >= start,
            Event.at < end,
        )
    ).all()
    raised = db.session.execute(
        sa.select(Event.at)
        .join(Case, Case.id == Event.case_id)
        .where(
            Case.workflow_key == "complaint",
            Event.to_state == "escalated",
            Event.from_state != "escalated",
            Event.at >= start,
            Event.at < end,
        )
    ).scalars()
    per_month: dict[str, list[int]] = defaultdict(list)
    for at, since in decided:
        if since is not None:
            per_month[_local_month(at)].append(business_days_between(since, at))
    escalated_count = Counter(_local_month(at) for at in raised)
    out = []
    for month in period.months:
        spans = per_month.get(month, [])
        out.append(
            EscalationRow(
                month,
                escalated_count.get(month, 0),
                len(spans),
                float(statistics.median(spans)) if spans else None,
                max(spans) if spans else None,
            )
        )
    return out


#: How a violation case's state reads as an outcome: open until disciplined or dismissed.
VIOLATION_OUTCOMES = ("open", "disciplined", "dismissed")
OUTCOME_LABELS = {"open": "Open", "disciplined": "Disciplined", "dismissed": "Dismissed"}


def violations(period: Period, reader_person: int | None = None) -> ViolationTable:
    """Violation cases reported in the period, by category and where they stand now: counts
    only, and small counts shown as "fewer than N". A case about the reader (`reader_person`,
    their person record) is not counted: its subject never learns of it, even as a number."""
    workflow = library().workflow("violation")
    start, end = period.bounds()
    category = json_text(Case.fields_json, "category").label("category")
    statement = (
        sa.select(category, Case.state, sa.func.count())
        .where(Case.workflow_key == workflow.key, Case.created_at >= start, Case.created_at < end)
        .group_by(category, Case.state)
    )
    if reader_person is not None:
        statement = statement.where(
            sa.or_(Case.subject_person_id.is_(None), Case.subject_person_id != reader_person)
        )
    rows = db.session.execute(statement).all()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for value, state, count in rows:
        outcome = state if state in VIOLATION_OUTCOMES else "open"
        counts[str(value) if value else ""][outcome] += int(count)
    least = smallest()
    choices = workflow.field("category")
    labels = [(c.value, c.label) for c in choices.choices] if choices else []
    known = {value for value, _ in labels}
    table = [
        (label, [shown_count(counts[value][o], least) for o in VIOLATION_OUTCOMES])
        for value, label in labels
    ]
    other = Counter[str]()
    for value, tally in counts.items():
        if value not in known:
            other.update(tally)
    if other:
        table.append(
            ("No longer recorded", [shown_count(other[o], least) for o in VIOLATION_OUTCOMES])
        )
    return ViolationTable([OUTCOME_LABELS[o] for o in VIOLATION_OUTCOMES], table, least)


def moderation(period: Period) -> list[ModerationRow]:
    """Third-party posts decided in the period: removed (by ground), kept, referred."""
    workflow = library().workflow("moderation")
    start, end = period.bounds()
    grounds = json_text(Event.data_json, "fields", "grounds").label("grounds")
    rows = db.session.execute(
        sa.select(Event.to_state, grounds, sa.func.count())
        .join(Case, Case.id == Event.case_id)
        .where(
            Case.workflow_key == workflow.key,
            Event.action == "transition",
            Event.from_state == workflow.initial,
            Event.to_state != workflow.initial,
            Event.at >= start,
            Event.at < end,
        )
        .group_by(Event.to_state, grounds)
    ).all()
    remove = workflow.transitions.get("remove")
    ground_field = next((f for f in remove.fields if f.name == "grounds"), None) if remove else None
    out: list[ModerationRow] = []
    removed = {str(g): int(n) for state, g, n in rows if state == "removed"}
    if ground_field is not None:
        for choice in ground_field.choices:
            out.append(ModerationRow(f"Removed: {choice.label}", removed.pop(choice.value, 0)))
    if removed:
        out.append(ModerationRow("Removed: other grounds", sum(removed.values())))
    others = Counter[str]()
    for state, _, n in rows:
        if state != "removed":
            others[state] += int(n)
    for state in sorted(others):
        label = workflow.states[state].label if state in workflow.states else state
        out.append(ModerationRow(label, others[state]))
    return out
