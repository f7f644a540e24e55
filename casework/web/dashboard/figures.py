"""The dashboard's figures, each over the cases the user may see, and its weekly chart."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, User
from casework.presenting.words import local_date
from casework.services import listing
from casework.services.access import visible_clause, visible_parts
from casework.services.context import library
from casework.services.listing import count_by_state
from casework.workflow import Workflow
from casework.workflow.definition import FigureDef

WEEKS = 12
#: One colour per workflow, each at least 3:1 against white (WCAG non-text contrast).
COLOURS = ("#1f5f8b", "#a14f00", "#2e6b30", "#6f3a8c", "#8a1c3c", "#35525e")


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
    count: int = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(visible_clause(user), Case.due_at < now)
    ).scalar_one()
    return count


@dataclass(frozen=True)
class TimeFigure:
    label: str
    text: str


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


def time_figures(user: User) -> list[TimeFigure]:
    """Each workflow's declared time figures, over the cases the user may see of it."""
    out = []
    for workflow in library().workflows:
        if not workflow.figures or not visible_parts(user, workflows=[workflow], receipts=False):
            continue
        for figure in workflow.figures:
            span = median_time(user, workflow, figure)
            out.append(TimeFigure(figure.label, describe_span(span, figure.empty)))
    return out


def describe_span(span: timedelta | None, empty: str = "None yet") -> str:
    if span is None:
        return empty
    hours = span.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


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


@dataclass
class Bar:
    """One week's share of one kind of case in the chart."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Chart:
    """The weekly chart laid out: `dashboard/chart.svg` draws it, escaping every text."""

    width: int
    height: int
    left: int
    right: int
    desc: str
    #: (y, value) of each horizontal grid line.
    ticks: list[tuple[float, int]]
    bars: list[Bar]
    #: (x, y, text) of each week's label under the bars.
    labels: list[tuple[float, float, str]]
    #: (x, y, colour, title) of each kind of case in the legend.
    legend: list[tuple[float, float, str, str]]


def chart(data: WeeklySeries) -> Chart:
    """A stacked bar chart of cases opened per week, laid out on the server (no script needed)."""
    width, height = 720, 300
    left, right, top, bottom = 44, 16, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[1][i] for s in data.series) for i in range(len(data.weeks))]
    peak = max(totals + [1])
    step = max(1, -(-peak // 5))
    ceiling = step * -(-peak // step)
    slot = plot_w / len(data.weeks)
    bar = slot * 0.62
    ticks = [(top + plot_h - plot_h * tick / ceiling, tick) for tick in range(0, ceiling + 1, step)]
    bars: list[Bar] = []
    labels: list[tuple[float, float, str]] = []
    for i, week in enumerate(data.weeks):
        x = left + slot * i + (slot - bar) / 2
        base = float(top + plot_h)
        for index, (title, values) in enumerate(data.series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / ceiling
            base -= h
            colour = COLOURS[index % len(COLOURS)]
            bars.append(
                Bar(x, base, bar, h, colour, f"{title}, week of {local_date(week)}: {value}")
            )
        if i % 2 == 0 or len(data.weeks) <= 8:
            labels.append((x + bar / 2, top + plot_h + 18, f"{week.day} {week:%b}"))
    legend: list[tuple[float, float, str, str]] = []
    legend_x = float(left)
    for index, (title, _) in enumerate(data.series):
        legend.append((legend_x, height - 16, COLOURS[index % len(COLOURS)], title))
        legend_x += 24 + int(len(title) * 6.6)
    return Chart(width, height, left, right, _describe(data, totals), ticks, bars, labels, legend)


def _describe(data: WeeklySeries, totals: list[int]) -> str:
    if not data.series:
        return "No cases were opened in these weeks."
    busiest = max(range(len(totals)), key=lambda i: totals[i])
    return (
        f"Over the last {len(data.weeks)} weeks, {sum(totals)} cases were opened; the busiest "
        f"week began {local_date(data.weeks[busiest])} with {totals[busiest]}. "
        "The table below gives every number."
    )


def records_count(user: User, now: datetime, which: str) -> int:
    """How many cases the user may see are on legal hold, or eligible for disposal today."""
    f = listing.CaseFilter(on_hold=which == "on_hold", eligible=which == "eligible")
    conditions = listing.filter_conditions(user, f, now)
    found: int = db.session.execute(
        sa.select(sa.func.count()).select_from(Case).where(*conditions)
    ).scalar_one()
    return found
