"""The queues a home page shows, by role: the library's daily work, as lists of cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, User
from casework.services import listing
from casework.services.access import visible_clause
from casework.web.display import CaseRow, case_rows

#: Rows a queue shows on the home page; the rest are a click away.
QUEUE_ROWS = 10


@dataclass(frozen=True)
class Queue:
    title: str
    #: Any of these roles shows the queue.
    roles: frozenset[str]
    #: The case list behind it, as search parameters (so "see all" is the same list).
    filters: dict[str, str] = field(default_factory=dict)
    empty: str = "Nothing waiting."


QUEUES = (
    Queue(
        "New and overdue complaints",
        frozenset({"librarian_in_charge"}),
        {"workflow": "complaint", "state": "received", "sort": "due_at"},
        "No complaint is waiting to be engaged.",
    ),
    Queue(
        "Engaged complaints",
        frozenset({"librarian_in_charge"}),
        {"workflow": "complaint", "state": "engaged", "sort": "-updated_at"},
        "No engaged complaint is open.",
    ),
    Queue(
        "Complaints escalated to you",
        frozenset({"director"}),
        {"workflow": "complaint", "state": "escalated", "sort": "created_at"},
        "No complaint is escalated.",
    ),
    Queue(
        "Violation reports to inspect",
        frozenset({"director", "trustee"}),
        {"workflow": "violation", "state": "reported", "sort": "created_at"},
        "No new report.",
    ),
    Queue(
        "Violation cases inspected",
        frozenset({"director", "trustee"}),
        {"workflow": "violation", "state": "inspected", "sort": "created_at"},
        "None.",
    ),
    Queue(
        "Violation cases under review",
        frozenset({"director", "trustee"}),
        {"workflow": "violation", "state": "under_review", "sort": "created_at"},
        "None.",
    ),
    Queue(
        "Accounts awaiting approval",
        frozenset({"director", "social_media_team"}),
        {"workflow": "account", "state": "requested", "sort": "created_at"},
        "No account request is waiting.",
    ),
    Queue(
        "Flagged posts",
        frozenset({"social_media_team"}),
        {"workflow": "moderation", "state": "flagged", "sort": "created_at"},
        "No post is waiting for a decision.",
    ),
    Queue(
        "Approved accounts to activate",
        frozenset({"social_media_team"}),
        {"workflow": "account", "state": "approved", "sort": "created_at"},
        "None.",
    ),
    Queue(
        "Decided violation cases: disciplined",
        frozenset({"hr"}),
        {"workflow": "violation", "state": "disciplined", "sort": "-updated_at"},
        "None.",
    ),
    Queue(
        "Decided violation cases: dismissed",
        frozenset({"hr"}),
        {"workflow": "violation", "state": "dismissed", "sort": "-updated_at"},
        "None.",
    ),
)


@dataclass
class FilledQueue:
    queue: Queue
    rows: list[CaseRow]
    total: int


def queues_for(user: User, now: datetime) -> list[FilledQueue]:
    """The user's queues with their first rows; only cases the user may see."""
    filled = []
    for queue in QUEUES:
        if not user.roles & queue.roles:
            continue
        f = listing.parse_filter({**queue.filters, "per_page": str(QUEUE_ROWS)})
        page = listing.list_cases(user, f, now=now)
        filled.append(FilledQueue(queue, case_rows(user, page.items, now), page.total))
    return filled


def assigned_open(user: User, now: datetime) -> list[CaseRow]:
    """Open cases assigned to the user, those due soonest first."""
    found = db.session.execute(
        sa.select(Case)
        .where(visible_clause(user), Case.assignee_id == user.id, Case.closed_at.is_(None))
        .order_by(Case.due_at.is_(None), Case.due_at, Case.created_at)
        .limit(QUEUE_ROWS * 2)
        .options(listing.WITH_ASSIGNEE)
    ).scalars()
    return case_rows(user, found, now)


def reported_by(user: User, now: datetime) -> list[CaseRow]:
    """What the user reported or opened lately; confidential ones as receipts."""
    found = db.session.execute(
        sa.select(Case)
        .where(visible_clause(user), Case.reporter_id == user.id)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(QUEUE_ROWS * 2)
        .options(listing.WITH_ASSIGNEE)
    ).scalars()
    return case_rows(user, found, now)
