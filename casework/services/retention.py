"""Retention: the record series a case belongs to, and the day it may lawfully be disposed of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from casework.library import library
from casework.models import Case
from casework.workflow import Workflow
from casework.workflow.definition import RetentionRule


@dataclass(frozen=True)
class Eligibility:
    """When a case's retention period ends, as far as it is known today."""

    #: The rule of the case's series (None: its workflow has no rule, so it is kept for good).
    rule: RetentionRule | None
    #: The first day the case may be disposed of; None while that is not known, or never.
    on: date | None
    #: In words: "from 2031-06-01", "kept permanently", "open", "the subject has not left".
    status: str

    def eligible(self, today: date) -> bool:
        return self.on is not None and self.on <= today

    def within(self, today: date, days: int) -> bool:
        return self.on is not None and (self.on - today).days <= days

    def describe(self) -> dict[str, object]:
        return {
            "series": self.rule.series if self.rule else None,
            "schedule": self.rule.schedule if self.rule else None,
            "period": self.rule.period if self.rule else "kept for good",
            "eligible_on": self.on.isoformat() if self.on else None,
            "status": self.status,
        }


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The library's calendar day of a stored (UTC, naive) time."""
    return moment.replace(tzinfo=UTC).astimezone(tz).date()


def case_eligibility(case: Case, workflow: Workflow) -> Eligibility:
    """`eligibility` of a loaded case, in the library's time zone."""
    subject = case.subject if workflow.access.subject_field else None
    return eligibility(case, workflow, subject.separated_on if subject else None, library().tz)


def eligibility(
    case: Case, workflow: Workflow, separated_on: date | None, tz: ZoneInfo
) -> Eligibility:
    """The case's series and the day it becomes eligible for disposal.

    The rule is its end state's (or, while open, the workflow's); a period counts from the day
    the case was closed, or from the subject's separation, and never starts while the case is
    open: a reopened case waits again.
    """
    if workflow.retention is None:
        return Eligibility(None, None, "kept for good (no retention rule)")
    rule = workflow.retention.for_state(case.state)
    if rule.permanent:
        return Eligibility(rule, None, "kept permanently")
    if case.closed_at is None:
        return Eligibility(rule, None, "open: the period starts when the case is closed")
    if rule.after == "separation":
        if separated_on is None:
            return Eligibility(rule, None, "the subject has not left the library")
        start = separated_on
    else:
        start = local_day(case.closed_at, tz)
    on = add_years(start, rule.years)
    return Eligibility(rule, on, f"eligible from {on.isoformat()}")
