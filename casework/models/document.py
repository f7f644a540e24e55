"""Printed documents kept for reuse: a record is fully determined by what it was rendered from."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from casework.models.base import Base, utcnow


class RenderedDocument(Base):
    __tablename__ = "rendered_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 over everything the document depends on (kind, chain heads, redaction, layout).
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"), index=True)
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
