"""Changing the audit trail behind the application's back, as a tampering test needs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event
from casework.services import log

#: The SQLite triggers that keep the case trails, the administration trail and the log
#: append-only.
SQLITE_GUARDS = (
    "events_no_update",
    "events_no_delete",
    "administration_events_no_update",
    "administration_events_no_delete",
    "administration_trail_no_delete",
    "cases_no_delete",
    "log_leaves_no_update",
    "log_leaves_no_delete",
    "log_checkpoints_no_update",
    "log_checkpoints_no_delete",
)


def tamper(app: Any, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run SQL statements (with their parameters) on the trail, past the database's own refusal."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                for trigger in SQLITE_GUARDS:
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
            for statement, params in statements:
                conn.execute(sa.text(statement), params)


def rebuild_log(app: Any) -> None:
    """Rebuild the whole log from the events as they now are, positions without gaps."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.id, Case.number, Event.seq, Event.hash)
            .join(Case, Case.id == Event.case_id)
            .order_by(Event.id)
        ).all()
        db.session.rollback()
    statements = [("DELETE FROM log_leaves", {})]
    for position, (event_id, number, seq, digest) in enumerate(rows):
        ref, leaf = log.case_leaf(number, seq, digest)
        params = {"p": position, "r": event_id, "ref": ref, "h": leaf}
        statements.append(
            (
                "INSERT INTO log_leaves (position, kind, row_id, ref, hash) "
                "VALUES (:p, 'case', :r, :ref, :h)",
                params,
            )
        )
    statements.append(("UPDATE log_head SET size = :n", {"n": len(rows)}))
    tamper(app, *statements)
