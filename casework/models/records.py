"""The records lifecycle: legal holds on cases, and batches of cases disposed of together."""

from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from casework.models.base import Base, utcnow
from casework.models.user import User

#: Why a case is held, as a hold's `kind` stores it, and how it is shown.
HOLD_KINDS: dict[str, str] = {
    "litigation": "Litigation",
    "public_records": "Public-records request",
    "investigation": "Investigation",
}


class LegalHold(Base):
    """A legal hold: while one is in force the case may not be disposed of.

    Placing and lifting are also events in the case's trail; this row is what lists and checks
    read.
    """

    __tablename__ = "legal_holds"
    __table_args__ = (sa.Index("ix_legal_holds_case", "case_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text)
    placed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None]
    lift_reason: Mapped[str] = mapped_column(sa.Text, default="")

    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def kind_label(self) -> str:
        return HOLD_KINDS.get(self.kind, self.kind)


class DisposalBatch(Base):
    """Cases of one record series prepared for disposal under one certificate (form RC-3).

    The certificate's PDF and its SHA-256 are kept; the batch may be confirmed from `wait_until`
    (the waiting period after the certificate is sent), and every case in it is then disposed of.
    """

    __tablename__ = "disposal_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(sa.String(300))
    schedule: Mapped[str] = mapped_column(sa.String(100))
    #: The case numbers, as a JSON list, in order.
    numbers_json: Mapped[str] = mapped_column(sa.Text, default="[]")
    #: The earliest and latest day a case in it was closed (the certificate's date range).
    first_day: Mapped[date]
    last_day: Mapped[date]
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    prepared_at: Mapped[datetime] = mapped_column(default=utcnow)
    certificate: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    certificate_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: The first day the batch may be confirmed.
    wait_until: Mapped[date]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]

    prepared_by: Mapped[User] = relationship(foreign_keys=[prepared_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def numbers(self) -> list[str]:
        value: list[str] = json.loads(self.numbers_json)
        return value


class CaseDisposal(Base):
    """A disposed case's tombstone: its content was destroyed under `batch` at `disposed_at`.

    What stays is the case row's number, workflow, state and dates, the batch's series and
    certificate, and every event's sequence, links and hash (events 1 to `erased_through` had
    their data erased; the disposal's own event follows them, whole).
    """

    __tablename__ = "case_disposals"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("disposal_batches.id"), index=True)
    disposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_through: Mapped[int]

    batch: Mapped[DisposalBatch] = relationship()
