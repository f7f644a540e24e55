"""What a list's filters may offer: the values found among the cases a user may see, read from
the indexes without reading the cases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casework.extensions import db
from casework.models import Case, User
from casework.services.access import visible_clause


def branches_among(user: User, limit: int = 200) -> list[str]:
    """The branches of the cases `user` may see in full, in order."""
    return [
        b for b in distinct_among(Case.branch, visible_clause(user, receipts=False), limit) if b
    ]


def assignees_among(user: User, limit: int = 1000) -> list[tuple[str, str]]:
    """(username, name) of the people assigned cases `user` may see in full, by name."""
    ids = distinct_among(Case.assignee_id, visible_clause(user, receipts=False), limit)
    rows = db.session.execute(
        sa.select(User.username, User.display_name)
        .where(User.id.in_(ids))
        .order_by(User.display_name)
    )
    return [(name, display or name) for name, display in rows]


def distinct_among(column: Any, visible: ColumnElement[bool], limit: int) -> list[Any]:
    """The distinct values of an indexed column of the cases `visible` admits, in order.

    Found value after value, each the first in the column's index after the one before (a loose
    index scan), instead of reading every case: a few dozen index seeks at 100,000 cases.
    """

    def first_after(previous: Any) -> Any:
        later = column > previous if previous is not None else column.is_not(None)
        return sa.select(column).where(visible, later).order_by(column).limit(1).scalar_subquery()

    steps = sa.select(first_after(None).label("value")).cte("steps", recursive=True)
    steps = steps.union_all(sa.select(first_after(steps.c.value)).where(steps.c.value.is_not(None)))
    found = sa.select(steps.c.value).where(steps.c.value.is_not(None)).limit(limit)
    return list(db.session.execute(found).scalars())


def cases_to_name(
    user: User, workflow: str, states: Sequence[str] = (), limit: int = 500
) -> list[tuple[str, str]]:
    """(number, title) of the cases of `workflow` (in one of `states`, when given) that `user`
    may see in full, by number: what a field naming a case offers."""
    query = sa.select(Case.number, Case.title).where(
        Case.workflow_key == workflow, visible_clause(user, receipts=False)
    )
    if states:
        query = query.where(Case.state.in_(states))
    rows = db.session.execute(query.order_by(Case.number).limit(limit))
    return [(number, title) for number, title in rows]
