"""Users (people who sign in), their roles, second factor, sessions and API tokens."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, utcnow
from casework.workflow.roles import effective_roles

if TYPE_CHECKING:
    from casework.models.oversight import ActingDirector

#: The role an acting term gives.
ACTING_ROLE = "director"
#: An e-mail address Casework sends to: one address, no display name, nothing that could break
#: out of a mail header.
ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case sign-in name; never changes, since audit events name users by it.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str | None] = mapped_column(sa.String(320))
    #: Hash of the password (argon2); None when the user may not sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    #: The password was set by someone else (init, reset) and must be changed at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped at sign-out everywhere, password change or disabling: ends every session at once.
    session_generation: Mapped[int] = mapped_column(default=0)
    #: Failed sign-ins in a row, and until when further attempts are refused.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    #: Kinds of e-mail notification the user has turned off, comma separated.
    mail_optout: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    #: The authenticator app, once the user has set one up (read only when needed).
    second_factor: Mapped[SecondFactor | None] = relationship(
        cascade="all, delete-orphan", lazy="select"
    )

    #: Terms as acting Library Director (`services.acting`), read at the first look at `roles`.
    acting_terms: Mapped[list[ActingDirector]] = relationship(
        foreign_keys="ActingDirector.user_id", lazy="select", viewonly=True
    )

    @property
    def roles(self) -> frozenset[str]:
        """Every role the user holds, `staff` included where implied, and `director` while
        they are acting Library Director (the one place an acting term gives the role)."""
        held = frozenset(r.role for r in self.role_rows)
        if self.acting_term() is not None:
            held |= {ACTING_ROLE}
        return effective_roles(held)

    @property
    def acting_roles(self) -> frozenset[str]:
        """The roles the user holds only through an acting term in force (not their own)."""
        own = {r.role for r in self.role_rows}
        if ACTING_ROLE in own or self.acting_term() is None:
            return frozenset()
        return frozenset({ACTING_ROLE})

    def acting_term(self, now: datetime | None = None) -> ActingDirector | None:
        """The acting Director term in force for this user now, if any."""
        moment = now or utcnow()
        return next((t for t in self.acting_terms if t.holds(moment)), None)

    @property
    def assigned_roles(self) -> list[str]:
        """The roles given to the user, without implied ones."""
        return sorted(r.role for r in self.role_rows)

    def set_roles(self, roles: list[str] | tuple[str, ...] | set[str]) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=role) for role in sorted(wanted - {r.role for r in self.role_rows})
        ]

    @property
    def name(self) -> str:
        return self.display_name or self.username

    # Flask-Login's user interface.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session's user id carries the session generation, so old sessions stop working."""
        return f"{self.id}:{self.session_generation}"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(40), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class SecondFactor(Base):
    """A user's authenticator app (TOTP): its secret, and the last time step a code was used."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    #: Base32, as the app has it: both sides make the codes from it (README says what guards it).
    secret: Mapped[str] = mapped_column(sa.String(64))
    enrolled_at: Mapped[datetime]
    #: The last TOTP time step a code was accepted for: each code is accepted once.
    last_step: Mapped[int]


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: What its owner calls it ("reports script"); unique per user.
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: After this moment the token answers 401 "expired".
    expires_at: Mapped[datetime]
    #: When the token last signed a request, to the minute (written at most once a minute).
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """One of the ten single-use codes that stand in for the authenticator app; argon2-hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[datetime | None]


class UserSession(Base):
    """One signed-in browser: the cookie carries a random key whose SHA-256 is kept here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    started_at: Mapped[datetime]
    #: The last request, to the minute (written at most once a minute).
    last_seen_at: Mapped[datetime]
    #: The browser's User-Agent, shortened; shown so the user can tell sessions apart.
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")
    address: Mapped[str] = mapped_column(sa.String(100), default="")
    ended_at: Mapped[datetime | None]
