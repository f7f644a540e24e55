"""The tallies lists and the dashboard count cases from (`CaseTally`), against the cases.

The database's triggers keep them (migration 0016); cases changed with the triggers off, as a
database owner can, are not counted, and these functions find and mend that.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, CaseTally
from casework.services.db import is_sqlite

#: What a case is counted by, in `CaseTally`'s order of columns.
Key = tuple[str, str, str, bool, bool, bool]
_KEY: tuple[Any, ...] = (
    Case.workflow_key,
    Case.state,
    sa.func.coalesce(Case.branch, ""),
    Case.assignee_id.is_(None),
    Case.closed_at.is_(None),
    Case.due_at.is_not(None),
)
_COLUMNS = ("workflow_key", "state", "branch", "unassigned", "open", "due")


def _keyed(rows: Any) -> dict[Key, int]:
    return {(w, s, b, bool(u), bool(o), bool(d)): int(n) for w, s, b, u, o, d, n in rows if n}


def differences(*, snapshot: bool = True) -> list[tuple[Key, int, int]]:
    """Each tally that is not the number of its cases: (key, kept, counted), in key order.

    With `snapshot`, on PostgreSQL both are read in one snapshot of the database (a transaction
    not yet begun is begun so), so that writers at work make no false difference; `rebuild`
    after it needs the statements' own snapshots instead, taken after its lock.
    """
    if snapshot and not is_sqlite() and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    counted = _keyed(db.session.execute(sa.select(*_KEY, sa.func.count()).group_by(*_KEY)))
    columns = [getattr(CaseTally, name) for name in _COLUMNS]
    kept = _keyed(db.session.execute(sa.select(*columns, CaseTally.cases)))
    return [
        (key, kept.get(key, 0), counted.get(key, 0))
        for key in sorted(counted.keys() | kept.keys())
        if kept.get(key, 0) != counted.get(key, 0)
    ]


def rebuild() -> int:
    """Count the cases again into the tallies, with writers held off meanwhile (SQLite's
    write lock, which the caller's transaction holds; PostgreSQL's share lock on the cases).
    Returns how many tallies there are."""
    if not is_sqlite():
        db.session.execute(sa.text("LOCK TABLE cases IN SHARE MODE"))
    db.session.execute(sa.delete(CaseTally))
    counted = sa.select(*_KEY, sa.func.count()).group_by(*_KEY)
    db.session.execute(sa.insert(CaseTally).from_select([*_COLUMNS, "cases"], counted))
    found: int = db.session.execute(sa.select(sa.func.count()).select_from(CaseTally)).scalar_one()
    return found
