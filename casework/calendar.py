"""Business days in the library's time zone: weekends, public holidays and closure days skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


class BusinessCalendar:
    """Counts business days for deadlines."""

    def __init__(
        self,
        tz: ZoneInfo,
        country: str = "US",
        subdivision: str | None = "OH",
        closures: set[date] | frozenset[date] = frozenset(),
    ) -> None:
        self.tz = tz
        self.country = country
        self.subdivision = subdivision or None
        self.closures = frozenset(closures)
        self._holidays: Any = None

    def _holiday_table(self) -> Any:
        if self._holidays is None:
            import holidays  # imported on first use: it is slow to import

            self._holidays = holidays.country_holidays(self.country, subdiv=self.subdivision)
        return self._holidays

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.closures and day not in self._holiday_table()

    def business_days_between(self, first: date, last: date) -> int:
        """Business days after `first` up to and including `last` (0 when `last` is not later)."""
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    def due(self, start: datetime, business_days: int) -> datetime:
        """The end (23:59:59 local) of the Nth business day after the day `start` falls on."""
        day = start.astimezone(self.tz).date()
        counted = 0
        while counted < business_days:
            day += timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        return datetime.combine(day, time(23, 59, 59), self.tz).astimezone(UTC)


def parse_closures(text: str) -> frozenset[date]:
    """Closure days from configuration: ISO dates separated by commas or spaces."""
    days = set()
    for item in text.replace(",", " ").split():
        days.add(date.fromisoformat(item))
    return frozenset(days)
