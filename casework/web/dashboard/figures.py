"""The dashboard's figures, each over the cases the user may see, and its weekly chart."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, User
from casework.services.access import visible_clause
from casework.services.context import library
from casework.services.listing import count_by_state

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


def median_time_to_engage(user: User) -> timedelta | None:
    """Median time from receiving a complaint to engaging it, over the complaints engaged."""
    first_engaged = (
        sa.select(Event.case_id, sa.func.min(Event.at).label("at"))
        .where(
            Event.action == "transition",
            Event.from_state == "received",
            Event.to_state == "engaged",
        )
        .group_by(Event.case_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Case.created_at, first_engaged.c.at)
        .join(first_engaged, first_engaged.c.case_id == Case.id)
        .where(Case.workflow_key == "complaint", visible_clause(user))
    ).all()
    spans = [(engaged - opened).total_seconds() for opened, engaged in rows]
    if not spans:
        return None
    return timedelta(seconds=statistics.median(spans))


def describe_span(span: timedelta | None) -> str:
    if span is None:
        return "No complaint engaged yet"
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


def chart_svg(data: WeeklySeries) -> str:
    """A stacked bar chart of cases opened per week, drawn on the server (no script needed)."""
    width, height = 720, 300
    left, right, top, bottom = 44, 16, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[1][i] for s in data.series) for i in range(len(data.weeks))]
    peak = max(totals + [1])
    step = max(1, -(-peak // 5))
    ceiling = step * -(-peak // step)
    slot = plot_w / len(data.weeks)
    bar = slot * 0.62
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Cases opened per week, by kind of case</title>',
        f'<desc id="chart-desc">{escape(_describe(data, totals))}</desc>',
    ]
    for tick in range(0, ceiling + 1, step):
        y = top + plot_h - plot_h * tick / ceiling
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333">{tick}</text>'
        )
    for i, week in enumerate(data.weeks):
        x = left + slot * i + (slot - bar) / 2
        base = float(top + plot_h)
        for index, (title, values) in enumerate(data.series):
            value = values[i]
            if not value:
                continue
            h = plot_h * value / ceiling
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[index % len(COLOURS)]}" stroke="#fff" stroke-width="1">'
                f"<title>{escape(title)}, week of {week:%b %-d}: {value}</title></rect>"
            )
        if i % 2 == 0 or len(data.weeks) <= 8:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                f'font-size="12" fill="#333">{week:%b %-d}</text>'
            )
    legend_x = float(left)
    for index, (title, _) in enumerate(data.series):
        colour = COLOURS[index % len(COLOURS)]
        y = height - 16
        parts.append(f'<rect x="{legend_x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        parts.append(
            f'<text x="{legend_x + 16}" y="{y}" font-size="12" fill="#333">{escape(title)}</text>'
        )
        legend_x += 24 + int(len(title) * 6.6)
    parts.append("</svg>")
    return "".join(parts)


def _describe(data: WeeklySeries, totals: list[int]) -> str:
    if not data.series:
        return "No cases were opened in these weeks."
    busiest = max(range(len(totals)), key=lambda i: totals[i])
    return (
        f"Over the last {len(data.weeks)} weeks, {sum(totals)} cases were opened; the busiest "
        f"week began {data.weeks[busiest]:%B %-d} with {totals[busiest]}. "
        "The table below gives every number."
    )
