"""Changing the audit trail behind the application's back, as a tampering test needs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.extensions import db

#: The SQLite triggers that keep the case trails and the administration trail append-only.
SQLITE_GUARDS = (
    "events_no_update",
    "events_no_delete",
    "administration_events_no_update",
    "administration_events_no_delete",
    "administration_trail_no_delete",
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
