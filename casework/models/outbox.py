"""E-mail notifications waiting to be sent: written with the event that causes them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, utcnow


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_pending", "status", "next_attempt_at"),
        # The latest message to a recipient: e-mails to one person are spaced out and gathered.
        sa.Index("ix_outbox_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the message is about (escalated, violation_reported, overdue, decided, ...).
    kind: Mapped[str] = mapped_column(sa.String(40))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: pending, sent or failed (gave up after repeated errors; shown to the administrator).
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
