"""The dashboard's figures as the page words them, and its weekly chart laid out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from casework.models import User
from casework.presenting.words import local_date
from casework.services.figures import WeeklySeries, time_spans

#: One colour per workflow, each at least 3:1 against white (WCAG non-text contrast).
COLOURS = ("#1f5f8b", "#a14f00", "#2e6b30", "#6f3a8c", "#8a1c3c", "#35525e")


@dataclass(frozen=True)
class TimeFigure:
    label: str
    text: str


def time_figures(user: User) -> list[TimeFigure]:
    """Each workflow's declared time figures, over the cases the user may see of it, in words."""
    return [
        TimeFigure(t.figure.label, describe_span(t.span, t.figure.empty)) for t in time_spans(user)
    ]


def describe_span(span: timedelta | None, empty: str = "None yet") -> str:
    """A span in hours, or in days past two days; `empty` when there is none."""
    if span is None:
        return empty
    hours = span.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


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
