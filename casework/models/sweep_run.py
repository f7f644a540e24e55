"""A record of each deadline sweep, so monitoring can tell when the last one ran."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base


class SweepRun(Base):
    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime] = mapped_column(index=True)
    #: The host that ran it (several hosts may run the sweep; one at a time acts).
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    #: Overdue cases acted on, and those that could not be.
    actions: Mapped[int] = mapped_column(default=0)
    problems: Mapped[int] = mapped_column(default=0)
    mail_sent: Mapped[int] = mapped_column(default=0)
    mail_failed: Mapped[int] = mapped_column(default=0)
