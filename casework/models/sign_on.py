"""Identities at the single sign-on provider, each linked to one Casework user."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, utcnow
from casework.models.user import User


class SignOnIdentity(Base):
    """The provider's (issuer, subject) for a user: found by it at every sign-on after the first.

    The subject is the provider's stable id of the person; an e-mail address can change hands,
    so it is used once, to link, and never again to find the user.
    """

    __tablename__ = "sign_on_identities"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.String(255))
    #: The verified address the identity was linked by.
    email: Mapped[str] = mapped_column(sa.String(320), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
