"""What the database says about the running system, for health checks and metrics."""

from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa

from casework.extensions import MIGRATIONS, db
from casework.models import LogCheckpoint, OutboxMessage, SweepRun, utcnow


@functools.lru_cache(maxsize=1)
def schema_head() -> str | None:
    """The newest migration this installation ships (read once: it changes with the code only)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config).get_current_head()


def database_answers() -> bool:
    """Whether the database takes a query now."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError:
        db.session.rollback()
        return False
    return True


def schema_revision() -> str | None:
    """The revision the database's schema is at (None before `casework init`)."""
    try:
        return db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        db.session.rollback()
        return None


def _age(at: datetime | None, now: datetime) -> float:
    if at is None:
        return float("nan")
    return (now.replace(tzinfo=None) - at.replace(tzinfo=None)).total_seconds()


def database_figures() -> list[tuple[str, str, float]]:
    """(name, help, value) of each figure; counts only, never anything from a case."""
    now = utcnow()
    session = db.session
    pending = session.execute(
        sa.select(sa.func.count()).where(OutboxMessage.status == "pending")
    ).scalar_one()
    failed = session.execute(
        sa.select(sa.func.count()).where(OutboxMessage.status == "failed")
    ).scalar_one()
    runs, last_sweep = session.execute(
        sa.select(sa.func.count(), sa.func.max(SweepRun.finished_at))
    ).one()
    figures = [
        ("casework_outbox_pending", "E-mail messages waiting to be sent", float(pending)),
        ("casework_outbox_failed", "E-mail messages given up on", float(failed)),
        ("casework_sweep_runs", "Deadline sweeps finished", float(runs)),
        (
            "casework_last_sweep_age_seconds",
            "Seconds since the last deadline sweep finished (NaN: never)",
            _age(last_sweep, now),
        ),
    ]
    checkpoint = latest_checkpoint_at()
    figures.append(
        (
            "casework_checkpoint_age_seconds",
            "Seconds since the newest signed checkpoint of the whole-database log (NaN: none)",
            _age(checkpoint, now),
        )
    )
    session.rollback()
    return figures


def latest_checkpoint_at() -> datetime | None:
    """When the newest checkpoint of the whole-database log was made."""
    made: datetime | None = db.session.execute(
        sa.select(sa.func.max(LogCheckpoint.made_at))
    ).scalar()
    return made
