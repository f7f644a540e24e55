"""Counted attempts for limits and throttles: one row per counted attempt, kept for a day."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base


class ThrottleHit(Base):
    """One attempt counted against a limit (a failed sign-in, a write, a report).

    Counted in the database, not in a process, so a limit holds across every worker and host.
    """

    __tablename__ = "throttle_hits"
    __table_args__ = (
        sa.Index("ix_throttle_hits_key_at", "key", "at"),
        sa.Index("ix_throttle_hits_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What is counted, e.g. `sign-in:name+address:director|10.0.0.7` or `writes:user:12`.
    key: Mapped[str] = mapped_column(sa.String(400))
    at: Mapped[datetime]
