"""The Board's monthly report: complaints engaged in time, escalations decided, violation cases
by category and outcome (counts only), and third-party posts by ground.

The figures are SQL aggregates over the cases; what SQL cannot do portably (business days,
which skip the holidays the configuration lists, and months in the library's zone) is done on
the grouped rows here. Nothing in the report names a person or a case: violation cases are
counted, never listed, and a count small enough to point at someone is shown as "fewer than N".
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from casework.errors import InvalidFields, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, Event, ReportRead, User, utcnow
from casework.presenting import spreadsheet
from casework.services.access import person_id_of
from casework.services.db import begin_write
from casework.workflow import Workflow

REPORT = "board_monthly"
#: The sections, in the order the report shows them, and the workflow each counts.
SECTIONS = {
    "engagement": "complaint",
    "escalations": "complaint",
    "violations": "violation",
    "moderation": "moderation",
}
#: The report is the Board's: the Director (who presents it) and the trustees see every section.
BOARD = frozenset({"director", "trustee"})
#: A count below this (but above 0) is shown as "fewer than N", unless configured otherwise.
SMALLEST = 3
#: The most months one report covers.
MOST_MONTHS = 24
#: How far before a month a complaint may have been logged and still be received in it.
BACKDATED = timedelta(days=92)
NO_BRANCH = "No branch given"


# --- months -----------------------------------------------------------------------------------


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_label(key: str) -> str:
    return date.fromisoformat(f"{key}-01").strftime("%B %Y")


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def last_full_month(now: datetime | None = None) -> str:
    today = (now or utcnow()).astimezone(library().tz).date()
    first = today.replace(day=1)
    return month_key((first - timedelta(days=1)).replace(day=1))


def parse_month(value: Any, name: str) -> date:
    """The first day of a month written YYYY-MM; `InvalidFields` naming `name` otherwise."""
    text = str(value or "").strip()
    try:
        if len(text) != 7:
            raise ValueError
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidFields(
            {name: [f"Enter the month as YYYY-MM, for example 2026-11 (not “{text[:20]}”)."]}
        ) from None


@dataclass(frozen=True)
class Period:
    """Whole months, from the first to the last (both included)."""

    first: date
    last: date

    @property
    def months(self) -> list[str]:
        found, day = [], self.first
        while day <= self.last:
            found.append(month_key(day))
            day = _next_month(day)
        return found

    @property
    def first_key(self) -> str:
        return month_key(self.first)

    @property
    def last_key(self) -> str:
        return month_key(self.last)

    @property
    def label(self) -> str:
        if self.first == self.last:
            return month_label(self.first_key)
        return f"{month_label(self.first_key)} to {month_label(self.last_key)}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The UTC instants that start the first month and end the last, in the library's zone."""
        tz = library().tz
        start = datetime.combine(self.first, time.min, tz).astimezone(UTC)
        end = datetime.combine(_next_month(self.last), time.min, tz).astimezone(UTC)
        return start, end


def choose_period(
    month: Any = None, first: Any = None, last: Any = None, *, now: datetime | None = None
) -> Period:
    """The months asked for: `first`..`last` (YYYY-MM), or one `month`, or the last full month.

    Raises `InvalidFields` for a month badly written, a range out of order, longer than
    `MOST_MONTHS`, or a month not yet begun.
    """
    if first or last:
        start = parse_month(first, "from")
        end = parse_month(last or first, "until")
    else:
        start = end = parse_month(month or last_full_month(now), "month")
    if end < start:
        raise InvalidFields({"until": ["The last month must be on or after the first."]})
    period = Period(start, end)
    if len(period.months) > MOST_MONTHS:
        raise InvalidFields({"until": [f"A report covers {MOST_MONTHS} months at most."]})
    today = (now or utcnow()).astimezone(library().tz).date()
    if end > today.replace(day=1):
        field_name = "until" if (first or last) else "month"
        raise InvalidFields({field_name: ["That month has not begun yet: choose an earlier one."]})
    return period


# --- who sees which section -------------------------------------------------------------------


def _reads(roles: frozenset[str], workflow: Workflow) -> bool:
    rules = workflow.access
    return bool(roles & (set(rules.readers) | set(rules.stand_in.values())))


def sections_for(user: User) -> list[str]:
    """The sections `user` is shown: the Board all; others those whose cases their roles read.

    A section about violation cases goes only to the roles the violation workflow names as its
    readers or stand-ins (the Director, HR, the trustees), so nobody else learns they exist.
    """
    lib = library()
    roles = user.roles
    everything = "system" in roles  # the command line, run by whoever runs the server
    shown = []
    for section, key in SECTIONS.items():
        if key not in lib.workflows:
            continue
        workflow = lib.workflow(key)
        board = bool(roles & BOARD) and not workflow.access.confidential
        if everything or board or _reads(roles, workflow):
            shown.append(section)
    return shown


def require_sections(user: User) -> list[str]:
    """`sections_for`, or `NotFound` for a user the report can show nothing."""
    shown = sections_for(user)
    if not shown:
        raise NotFound("There is no such page.")
    return shown


# --- figures ----------------------------------------------------------------------------------


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


@dataclass
class BoardReport:
    period: Period
    sections: list[str]
    generated_at: datetime
    deadline_words: str = "2 business days"
    engagement: list[EngagementRow] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)
    violations: ViolationTable | None = None
    moderation: list[ModerationRow] = field(default_factory=list)


def json_text(column: Any, *path: str) -> ColumnElement[Any]:
    """The text at `path` in a JSON text column, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(column, sa.JSON), *path)
    return sa.func.json_extract(column, "$." + ".".join(f'"{p}"' for p in path))


def business_days_between(start: datetime, end: datetime) -> int:
    """Business days after the day `start` falls on, up to the day `end` falls on (library time)."""
    lib = library()
    day = start.astimezone(lib.tz).date()
    last = end.astimezone(lib.tz).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        if lib.calendar.is_business_day(day):
            count += 1
    return count


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


def build_report(user: User, period: Period, *, now: datetime | None = None) -> BoardReport:
    """The report for `user` over `period`: only the sections `user` is shown.

    Raises `NotFound` for a user it can show nothing.
    """
    now = now or utcnow()
    shown = require_sections(user)
    report = BoardReport(period, shown, now)
    if "engagement" in shown:
        report.engagement, report.deadline_words = engagement(period, now)
    if "escalations" in shown:
        report.escalations = escalations(period)
    if "violations" in shown:
        report.violations = violations(period, person_id_of(user))
    if "moderation" in shown:
        report.moderation = moderation(period)
    return report


def record_read(reader: User | str, report: BoardReport, form: str, *, at: datetime) -> None:
    """Keep who read the report, when, which months and sections, and in what form."""
    name = reader.username if isinstance(reader, User) else reader
    begin_write()
    db.session.add(
        ReportRead(
            at=at,
            reader=name,
            report=REPORT,
            first_month=report.period.first_key,
            last_month=report.period.last_key,
            format=form,
            sections=",".join(report.sections),
        )
    )


def reads(limit: int = 20) -> list[ReportRead]:
    """The latest readings of the report, newest first."""
    return list(
        db.session.execute(
            sa.select(ReportRead).order_by(ReportRead.at.desc(), ReportRead.id.desc()).limit(limit)
        ).scalars()
    )


# --- the CSV ----------------------------------------------------------------------------------


def csv_rows(report: BoardReport) -> Iterable[list[str]]:
    """The report as CSV rows: one block per section, each headed by its name."""
    yield ["Casework: report for the Board of Trustees", report.period.label]
    if "engagement" in report.sections:
        yield []
        yield [f"Complaints engaged within {report.deadline_words}"]
        yield ["Month", "Branch", "Received", "Engaged in time", "Late", "Waiting", "In time"]
        for row in report.engagement:
            yield [
                row.month,
                row.branch,
                str(row.received),
                str(row.in_time),
                str(row.late),
                str(row.waiting),
                row.share,
            ]
    if "escalations" in report.sections:
        yield []
        yield ["Escalated complaints: time to decide (business days)"]
        yield ["Month", "Escalated", "Decided", "Median", "Longest"]
        for e in report.escalations:
            yield [e.month, str(e.escalated), str(e.decided), e.median_text, e.max_text]
    if report.violations is not None:
        yield []
        yield [
            "Staff policy violation cases reported, by category and outcome (counts only; "
            f"fewer than {report.violations.least} shown as such)"
        ]
        yield ["Category", *report.violations.outcomes]
        for label, cells in report.violations.rows:
            yield [label, *cells]
    if "moderation" in report.sections:
        yield []
        yield ["Third-party posts decided, by ground"]
        yield ["Outcome", "Posts"]
        for m in report.moderation:
            yield [m.outcome, str(m.count)]


def csv_text(report: BoardReport) -> str:
    """The report as the text of a CSV file."""
    return spreadsheet.csv_text(csv_rows(report))
