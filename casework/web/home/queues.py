"""The queues a home page shows, by role: the library's daily work, as rows of cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.models import User
from casework.services import queues
from casework.services.queues import Queue
from casework.web.display import CaseRow, case_rows

#: Rows a queue shows on the home page; the rest are a click away.
QUEUE_ROWS = 10


@dataclass
class FilledQueue:
    queue: Queue
    rows: list[CaseRow]
    total: int


def queues_for(user: User, now: datetime) -> list[FilledQueue]:
    """The user's queues with their first rows; only cases the user may see."""
    filled = []
    for queue in queues.queues_of(user):
        found, total = queues.queue_cases(user, queue, now, QUEUE_ROWS)
        filled.append(FilledQueue(queue, case_rows(user, found, now), total))
    return filled


def assigned_open(user: User, now: datetime) -> list[CaseRow]:
    """Open cases assigned to the user, those due soonest first."""
    return case_rows(user, queues.assigned_open(user, QUEUE_ROWS * 2), now)


def reported_by(user: User, now: datetime) -> list[CaseRow]:
    """What the user reported or opened lately; confidential ones as receipts."""
    return case_rows(user, queues.reported_by(user, QUEUE_ROWS * 2), now)
