"""The audit trail: events appended to a case's hash chain, never changed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base

#: The marks the sweep leaves on a case and looks for on its next run: a reminder sent in the
#: case's state, and a watch's flag raised or cleared. Written out, not bound, so that the
#: partial indexes below serve the queries that use them (SQLite proves a partial index usable
#: only from the query's own text).
REMINDED = "action = 'overdue'"
FLAGGED = "action IN ('flagged', 'flag_cleared')"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq"),
        # The sweep looks these up on every overdue case and every watched case.
        sa.Index(
            "ix_events_reminded",
            "case_id",
            "at",
            postgresql_where=sa.text(REMINDED),
            sqlite_where=sa.text(REMINDED),
        ),
        sa.Index(
            "ix_events_flags",
            "case_id",
            "seq",
            postgresql_where=sa.text(FLAGGED),
            sqlite_where=sa.text(FLAGGED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    #: 1, 2, 3 … within the case.
    seq: Mapped[int]
    at: Mapped[datetime]
    #: Username of who did it (`system` for the deadline sweep).
    actor: Mapped[str] = mapped_column(sa.String(64))
    #: created, transition, note, attachment, assign, link, view, print, export …
    action: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str | None] = mapped_column(sa.String(64))
    to_state: Mapped[str | None] = mapped_column(sa.String(64))
    #: Canonical JSON of what happened (trigger and fields given, note text …).
    data_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    #: When the event's data was erased by the disposal of its case: `data_json` is then "{}"
    #: and `hash` the one computed from the content as it was (checked by the links alone).
    erased_at: Mapped[datetime | None]

    @property
    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data_json)
        return value
