"""Reading a case whose workflow records views always leaves a view in its trail.

`load_case` notes every such case a user loads in full: whatever the request then answers (the
case page, the case as JSON, a 409 carrying the current case, a form shown again with its
errors), it may carry the case's content. At the end of the request `record_views` appends a
view for each noted case that the request's own events (a transition, a note, a print…) do not
already put on record: in the request's own transaction when it commits, or, when a refusal has
rolled that back, in a transaction of its own, so that the view outlives the refused action.
The one place that commits (`casework/transaction.py`) calls it; a request whose view cannot be
recorded answers without the case.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, User
from casework.services.audit import append_event, appended, forget_appended
from casework.services.db import begin_write

#: `Session.info` key: {(case id, username)} loaded in full by this request, views owed.
OWED = "casework_views_owed"


def owe_view(actor: User, case: Case) -> None:
    """Note that this request showed `case` to `actor`, whose look at it must be recorded."""
    db.session().info.setdefault(OWED, set()).add((case.id, actor.username))


def owed() -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = db.session().info.get(OWED, set())
    return found


def forget() -> None:
    """Start afresh: nothing owed, nothing appended (at the start and end of each request)."""
    db.session().info.pop(OWED, None)
    forget_appended()


def unrecorded(*, committed_only: bool) -> list[tuple[int, str]]:
    """The owed views no event of the request records: all but those of cases the same user
    changed, printed, exported or viewed in a transaction that is (or, unless `committed_only`,
    is about to be) committed."""
    return sorted(owed() - appended(committed_only=committed_only))


def record_views(data: dict[str, Any] | None = None, *, after_rollback: bool = False) -> int:
    """Append a view event for each unrecorded owed view; the caller commits. Returns how many.

    `after_rollback`: the request's own transaction was rolled back, so only its committed events
    count. Each case is locked again for its event (its chain head must not move meanwhile).
    """
    missing = unrecorded(committed_only=after_rollback)
    if not missing:
        return 0
    begin_write()
    for case_id, username in missing:
        case = db.session.execute(
            sa.select(Case)
            .where(Case.id == case_id)
            .with_for_update(of=Case)
            .execution_options(populate_existing=True)
        ).scalar_one()
        append_event(case, username, "view", data or {})
    return len(missing)
