"""What a database holds, as a backup's manifest records it and a restore weighs what it would
replace: schema revision, numbers of cases, events and users, and the newest checkpoint."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def _scalar(connection: sa.Connection, sql: str) -> Any:
    return connection.execute(sa.text(sql)).scalar()


def has_table(connection: sa.Connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


def contents(connection: sa.Connection) -> dict[str, Any]:
    """Schema revision, numbers of cases, events and users, and the newest checkpoint's text."""
    found: dict[str, Any] = {"schema_revision": None, "cases": 0, "events": 0, "users": 0}
    if has_table(connection, "alembic_version"):
        found["schema_revision"] = _scalar(connection, "SELECT version_num FROM alembic_version")
    for table in ("cases", "events", "users"):
        if has_table(connection, table):
            found[table] = int(_scalar(connection, f"SELECT count(*) FROM {table}"))  # nosec B608  # fixed table names
    found["checkpoint"] = latest_checkpoint(connection)
    return found


def latest_checkpoint(connection: sa.Connection) -> str | None:
    """The newest signed checkpoint of the whole-database log, if this database keeps one."""
    if not has_table(connection, "log_checkpoints"):
        return None
    columns = {c["name"] for c in sa.inspect(connection).get_columns("log_checkpoints")}
    text_column = next((c for c in ("note", "text", "signed_note") if c in columns), None)
    if text_column is None:
        return None
    order = "tree_size" if "tree_size" in columns else "id"
    value = _scalar(
        connection,
        f"SELECT {text_column} FROM log_checkpoints ORDER BY {order} DESC LIMIT 1",  # nosec B608  # names read from the schema
    )
    return str(value) if value is not None else None


def is_empty(info: dict[str, Any]) -> bool:
    """No case, no event and no user but the system's own: nothing a restore would destroy."""
    return info["cases"] == 0 and info["events"] == 0 and info["users"] <= 1
