"""Release packets: the public-records copies released in answer to a records request."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from casework.models.base import Base, utcnow


class ReleasePacket(Base):
    """One released packet: the PDF exactly as given out, its hash and what it withheld.

    Written in the same transaction as the `packet_released` event of the request's trail,
    whose data carries the same hash and withholdings, so the trail vouches for the file.
    """

    __tablename__ = "release_packets"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The request (REQ case) the packet answers.
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    #: The sequence of the request's `packet_released` event.
    seq: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    #: The numbers of the cases it holds, in order (JSON list).
    cases_json: Mapped[str] = mapped_column(sa.Text)
    #: Each withholding: case, place, authority; never the withheld text (JSON list).
    withholdings_json: Mapped[str] = mapped_column(sa.Text)
    released_by: Mapped[str] = mapped_column(sa.String(64))
    released_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def numbers(self) -> list[str]:
        found: list[str] = json.loads(self.cases_json)
        return found

    @property
    def withholdings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.withholdings_json)
        return found
