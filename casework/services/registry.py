"""The account registry's history: since when each administrator serves, and the last review."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Event


@dataclass
class AccountHistory:
    #: Each current administrator's user name, and since when they have been one.
    since: dict[str, datetime] = field(default_factory=dict)
    #: When the account was last reviewed (its yearly review), if ever.
    last_review: datetime | None = None


#: Transitions whose fields can replace an account's administrators, and the yearly review.
REVIEW_TRIGGER = "review"


def account_histories(case_ids: Iterable[int]) -> dict[int, AccountHistory]:
    """From the accounts' trails: when each administrator in the current list was added, and when
    each account was last reviewed. One query for all the accounts."""
    ids = list(case_ids)
    found: dict[int, AccountHistory] = {i: AccountHistory() for i in ids}
    if not ids:
        return found
    rows = db.session.execute(
        sa.select(Event.case_id, Event.at, Event.action, Event.data_json)
        .where(Event.case_id.in_(ids), Event.action.in_(("created", "transition")))
        .order_by(Event.case_id, Event.seq)
    )
    for case_id, at, action, data_json in rows:
        history = found[case_id]
        data = Event(data_json=data_json).data
        if action == "transition" and data.get("trigger") == REVIEW_TRIGGER:
            history.last_review = at
        names = (data.get("fields") or {}).get("administrators")
        if isinstance(names, list):
            history.since = {str(n): history.since.get(str(n), at) for n in names}
    return found
