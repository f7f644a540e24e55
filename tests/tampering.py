"""Changing the audit trail behind the application's back, as a tampering test needs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.logcheck import entry, leaf_hash
from casework.models import AdministrationEvent, Case, Event
from casework.services.log.leaves import case_leaf

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
    """Rebuild the whole log from the trails as they now are, positions without gaps: every case
    event, then every administration event."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.id, Case.number, Event.seq, Event.hash)
            .join(Case, Case.id == Event.case_id)
            .order_by(Event.id)
        ).all()
        admin = db.session.execute(
            sa.select(
                AdministrationEvent.id, AdministrationEvent.seq, AdministrationEvent.hash
            ).order_by(AdministrationEvent.seq)
        ).all()
        db.session.rollback()
    leaves = [
        ("case", event_id, *case_leaf(number, seq, digest))
        for event_id, number, seq, digest in rows
    ]
    for event_id, seq, digest in admin:
        ref = f"admin/{seq}"
        leaves.append(
            ("admin", event_id, ref, leaf_hash(entry("admin", ref, bytes.fromhex(digest))))
        )
    statements = [("DELETE FROM log_leaves", {})]
    for position, (kind, row_id, ref, leaf) in enumerate(leaves):
        params = {"p": position, "k": kind, "r": row_id, "ref": ref, "h": leaf}
        statements.append(
            (
                "INSERT INTO log_leaves (position, kind, row_id, ref, hash) "
                "VALUES (:p, :k, :r, :ref, :h)",
                params,
            )
        )
    statements.append(("UPDATE log_head SET size = :n", {"n": len(leaves)}))
    tamper(app, *statements)
