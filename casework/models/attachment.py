"""Evidence files: contents stored once by SHA-256, attached to cases."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from casework.models.base import Base, utcnow


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: Loaded only when the file itself is downloaded.
    content: Mapped[bytes] = deferred(mapped_column(sa.LargeBinary, nullable=False))
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("case_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    sha256: Mapped[str] = mapped_column(sa.ForeignKey("blobs.sha256"))
    #: The uploader's file name, cleaned; only ever shown, never used as a path.
    name: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(sa.String(100))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    blob: Mapped[Blob] = relationship(lazy="raise")
