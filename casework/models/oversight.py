"""Acting Directors named for dates, and who read the Board's monthly report."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, utcnow


class ActingDirector(Base):
    """A user named acting Library Director from one date until another (both included).

    The dates are the library's; `starts_at` and `ends_at` are the UTC instants they bound, so
    whether a term holds now is a comparison with the clock. A term is never deleted: ending it
    early sets `ended_at`.
    """

    __tablename__ = "acting_directors"
    __table_args__ = (sa.CheckConstraint("from_day <= until_day", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: The first and the last day of the term, in the library's time zone.
    from_day: Mapped[date]
    until_day: Mapped[date]
    #: Start of `from_day` and end of `until_day` in the library's zone, in UTC.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    #: Who named them: a Library Director or a trustee.
    named_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When and by whom the term was ended before its last day.
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    def holds(self, now: datetime) -> bool:
        """Whether the term is in force at `now` (UTC)."""
        return self.starts_at <= now < self.ends_at and (
            self.ended_at is None or now < self.ended_at
        )


class ReportRead(Base):
    """One reading of a report (page, CSV or PDF): who, when, which months, which sections."""

    __tablename__ = "report_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Username of the reader; `cli:NAME` for the command line.
    reader: Mapped[str] = mapped_column(sa.String(64))
    #: Which report: `board_monthly`.
    report: Mapped[str] = mapped_column(sa.String(32))
    #: The months covered, as YYYY-MM.
    first_month: Mapped[str] = mapped_column(sa.String(7))
    last_month: Mapped[str] = mapped_column(sa.String(7))
    #: page, csv or pdf.
    format: Mapped[str] = mapped_column(sa.String(8))
    #: The sections the reader was shown, comma separated (violation counts only to some).
    sections: Mapped[str] = mapped_column(sa.String(200), default="")
