"""People: the employees who can be subjects of violation cases."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, utcnow
from casework.models.user import User


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    employee_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    branch: Mapped[str] = mapped_column(sa.String(200), default="")
    #: The person's own user account, if they have one.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    #: The day the person left the library's employment, once they have.
    separated_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
