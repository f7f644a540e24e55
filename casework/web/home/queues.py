"""The queues a home page shows, by role: the library's daily work, as lists of cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, User
from casework.services import listing
from casework.services.access import visible_clause
from casework.services.context import library
from casework.services.definitions import workflow_of
from casework.services.watches import flags
from casework.web.display import CaseRow, case_rows
from casework.web.standing import waiting_on_others

#: Rows a queue shows on the home page; the rest are a click away.
QUEUE_ROWS = 10


@dataclass(frozen=True)
class Queue:
    """A queue as the home page shows it: the workflow's definition and the list behind it."""

    title: str
    #: The case list behind it, as search parameters (so "see all" is the same list).
    filters: dict[str, str]
    empty: str
    #: Only the cases this watch flags (the search cannot filter on it, so no "see all").
    watch: str | None = None
    #: A step out of the queue's state may leave a case waiting for another role's step (a
    #: condition, such as a second approval): such cases leave the queue of those who gave theirs.
    may_wait: bool = False


@dataclass
class FilledQueue:
    queue: Queue
    rows: list[CaseRow]
    total: int


def queues_of(user: User) -> list[Queue]:
    """The queues the workflow files give the user's roles, in the order the files list them."""
    found = []
    for workflow in library().workflows:
        for q in workflow.queues:
            if user.roles & set(q.roles):
                filters = {"workflow": workflow.key, "state": q.state, "sort": q.sort}
                if q.overdue_only:
                    filters["overdue"] = "1"
                may_wait = any(t.conditions for t in workflow.transitions_from(q.state))
                found.append(Queue(q.title, filters, q.empty, q.watch, may_wait))
    return found


def queues_for(user: User, now: datetime) -> list[FilledQueue]:
    """The user's queues with their first rows; only cases the user may see."""
    filled = []
    for queue in queues_of(user):
        if queue.watch is not None:
            flagged = _flagged(user, queue, now)
            filled.append(
                FilledQueue(queue, case_rows(user, flagged[:QUEUE_ROWS], now), len(flagged))
            )
            continue
        if queue.may_wait:
            mine = _waiting_on(user, queue, now)
            filled.append(FilledQueue(queue, case_rows(user, mine[:QUEUE_ROWS], now), len(mine)))
            continue
        f = listing.parse_filter({**queue.filters, "per_page": str(QUEUE_ROWS)})
        page = listing.list_cases(user, f, now=now)
        filled.append(FilledQueue(queue, case_rows(user, page.items, now), page.total))
    return filled


def _waiting_on(user: User, queue: Queue, now: datetime) -> list[Case]:
    """The queue's cases less those that wait only for other roles (at most a page's worth are
    looked at, as for watches: cases waiting for a second approval are few)."""
    f = listing.parse_filter({**queue.filters, "per_page": "200"})
    found = listing.list_cases(user, f, now=now).items
    others = waiting_on_others(user, found)
    return [case for case in found if case.id not in others]


def _flagged(user: User, queue: Queue, now: datetime) -> list[Case]:
    """The visible cases of the queue's state that its watch flags now (at most a page's worth
    are looked at: watches are for small sets, such as active accounts)."""
    f = listing.parse_filter({**queue.filters, "per_page": "200"})
    today = now.astimezone(library().tz).date()
    return [
        case
        for case in listing.list_cases(user, f, now=now).items
        if any(flag.watch.key == queue.watch for flag in flags(case, workflow_of(case), today))
    ]


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
