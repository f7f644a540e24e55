"""The administration trail: who changed which user account, hash-chained and never changed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base
from casework.models.case import GENESIS_HASH


class AdministrationEvent(Base):
    """One change to a user account: roles, addition, disabling, password reset, tokens …"""

    __tablename__ = "administration_events"
    #: Ids are never reused (the whole-database log names events by id).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 1, 2, 3 … over the whole trail (there is one chain, not one per user).
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime]
    #: Username of who did it; `cli:NAME` for the command line run by operating-system user NAME.
    actor: Mapped[str] = mapped_column(sa.String(64))
    #: user_added, roles_changed, email_changed, name_changed, user_disabled, user_enabled,
    #: password_reset, sessions_ended, token_issued, sign_on_linked,
    #: sign_on_unlinked, acting_director_named, acting_director_ended.
    action: Mapped[str] = mapped_column(sa.String(32))
    #: Username of the account changed.
    subject: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: Canonical JSON of what changed (roles granted and removed, old and new address …).
    data_json: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    @property
    def data(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.data_json)
        return value


class AdministrationHead(Base):
    """The trail's head (one row): a trail cut short no longer ends where this says it does."""

    __tablename__ = "administration_trail"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(sa.String(64), default=GENESIS_HASH)
