"""The queues the workflow files give each role, and the cases in them: the library's daily work,
only ever the cases the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from casework.extensions import db
from casework.library import library
from casework.models import Case, User
from casework.services import listing
from casework.services.access import visible_clause
from casework.services.definitions import workflow_of
from casework.services.history import waiting_on_others
from casework.services.watches import Standings, flags

#: Cases looked at for a queue the search cannot filter (watches, cases waiting for others):
#: such sets are small.
LOOKED_AT = 200


@dataclass(frozen=True)
class Queue:
    """A queue as the workflow file defines it, for one user: the list behind it."""

    title: str
    #: The case list behind it, as search parameters (so "see all" is the same list).
    filters: dict[str, str]
    empty: str
    #: Only the cases this watch flags (the search cannot filter on it, so no "see all").
    watch: str | None = None
    #: A step out of the queue's state may leave a case waiting for another role's step (a
    #: condition, such as a second approval): such cases leave the queue of those who gave theirs.
    may_wait: bool = False


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


def queue_cases(user: User, queue: Queue, now: datetime, rows: int) -> tuple[list[Case], int]:
    """The first `rows` cases of the queue the user may see, and how many it holds."""
    if queue.watch is not None:
        flagged = _flagged(user, queue, now)
        return flagged[:rows], len(flagged)
    if queue.may_wait:
        mine = _waiting_on(user, queue, now)
        return mine[:rows], len(mine)
    f = listing.parse_filter({**queue.filters, "per_page": str(rows)})
    page = listing.list_cases(user, f, now=now)
    return list(page.items), page.total


def _waiting_on(user: User, queue: Queue, now: datetime) -> list[Case]:
    """The queue's cases less those that wait only for other roles (at most a page's worth are
    looked at, as for watches: cases waiting for a second approval are few)."""
    f = listing.parse_filter({**queue.filters, "per_page": str(LOOKED_AT)})
    found = listing.list_cases(user, f, now=now).items
    others = waiting_on_others(user, found)
    return [case for case in found if case.id not in others]


def _flagged(user: User, queue: Queue, now: datetime) -> list[Case]:
    """The visible cases of the queue's state that its watch flags now (at most a page's worth
    are looked at: watches are for small sets, such as active accounts)."""
    f = listing.parse_filter({**queue.filters, "per_page": str(LOOKED_AT)})
    standings = Standings(now.astimezone(library().tz).date())
    return [
        case
        for case in listing.list_cases(user, f, now=now).items
        if any(flag.watch.key == queue.watch for flag in flags(case, workflow_of(case), standings))
    ]


def assigned_open(user: User, limit: int) -> list[Case]:
    """Open cases assigned to the user that they may see, those due soonest first."""
    return list(
        db.session.execute(
            sa.select(Case)
            .where(visible_clause(user), Case.assignee_id == user.id, Case.closed_at.is_(None))
            .order_by(Case.due_at.is_(None), Case.due_at, Case.created_at)
            .limit(limit)
            .options(listing.WITH_ASSIGNEE)
        ).scalars()
    )


def reported_by(user: User, limit: int) -> list[Case]:
    """What the user reported or opened lately, newest first (confidential ones they may see
    only as receipts are among them)."""
    return list(
        db.session.execute(
            sa.select(Case)
            .where(visible_clause(user), Case.reporter_id == user.id)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
            .options(listing.WITH_ASSIGNEE)
        ).scalars()
    )
