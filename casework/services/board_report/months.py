"""The months a Board report covers: written YYYY-MM, chosen from a request, and bounded in the
library's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from casework.errors import InvalidFields
from casework.library import library
from casework.models import utcnow

#: The most months one report covers.
MOST_MONTHS = 24


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
