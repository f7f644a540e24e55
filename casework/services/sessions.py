"""Signed-in browsers, kept in the database: started, last seen, ended.

The session cookie carries a random key; only its SHA-256 is stored. A session ends when its
user signs out (every session), ends it on the account page, or when it was idle longer than
the idle timeout (shorter for the roles that read personnel records) or is older than the
absolute lifetime. Its last-seen time is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.models import User, UserSession, utcnow
from casework.services import administration
from casework.services.db import begin_write, writes_refused
from casework.services.tokens import revoke_tokens

#: The last-seen time is written at most this often.
SEEN_EVERY = timedelta(minutes=1)


def _roles_setting(name: str) -> frozenset[str]:
    setting = current_app.config.get(name) or ""
    if isinstance(setting, str):
        setting = setting.split(",")
    return frozenset(r.strip() for r in setting if r.strip())


def idle_timeout(reads_personnel: bool) -> timedelta:
    """How long a session may go unused: `CASEWORK_SESSION_IDLE_MINUTES_PERSONNEL` for roles in
    `CASEWORK_SESSION_PERSONNEL_ROLES`, `CASEWORK_SESSION_IDLE_MINUTES` for everyone else."""
    name = "SESSION_IDLE_MINUTES_PERSONNEL" if reads_personnel else "SESSION_IDLE_MINUTES"
    return timedelta(minutes=int(current_app.config[name]))


def lifetime() -> timedelta:
    """How long a session lasts however busy it is (`CASEWORK_SESSION_LIFETIME_HOURS`)."""
    return timedelta(hours=float(current_app.config["SESSION_LIFETIME_HOURS"]))


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def start(
    user: User, *, user_agent: str = "", address: str = "", now: datetime | None = None
) -> str:
    """A new session of the user; the key for its cookie (only its hash is kept)."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    begin_write()
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_key_hash(key),
            started_at=now,
            last_seen_at=now,
            user_agent=user_agent[:300],
            address=address[:100],
        )
    )
    db.session.flush()
    return key


def _reads_personnel(user_id: int) -> sa.Exists:
    from casework.services.acting import holders_of  # an acting Director reads them too

    return (
        sa.select(User.id)
        .where(User.id == user_id, holders_of(_roles_setting("SESSION_PERSONNEL_ROLES")))
        .exists()
    )


def live(
    user_id: int, key: object, *, seen: bool = True, now: datetime | None = None
) -> UserSession | None:
    """The user's session with this cookie key while it has not ended, idled out or grown too
    old; when `seen`, its last-seen time moves on (at most once a minute)."""
    if not isinstance(key, str) or not 20 <= len(key) <= 100:
        return None
    now = now or utcnow()
    row = db.session.execute(
        sa.select(UserSession, _reads_personnel(user_id)).where(
            UserSession.key_hash == _key_hash(key),
            UserSession.user_id == user_id,
            UserSession.ended_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    found, personnel = row
    if now - found.last_seen_at > idle_timeout(bool(personnel)):
        return None
    if now - found.started_at > lifetime():
        return None
    if seen and now - found.last_seen_at >= SEEN_EVERY and not writes_refused():
        session_id = found.id
        begin_write()
        db.session.execute(
            sa.update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )
        found = db.session.get(UserSession, session_id) or found
    return found


@dataclass(frozen=True)
class SessionLine:
    """One session as the account page lists it."""

    id: int
    started_at: datetime
    last_seen_at: datetime
    browser: str
    address: str
    this_one: bool


def active(
    user: User, current_id: int | None = None, now: datetime | None = None
) -> list[SessionLine]:
    """The user's sessions that have not ended nor timed out, most recently seen first."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(UserSession, _reads_personnel(user.id))
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [
        SessionLine(
            s.id, s.started_at, s.last_seen_at, browser(s.user_agent), s.address, s.id == current_id
        )
        for s, personnel in rows
        if now - s.last_seen_at <= idle_timeout(bool(personnel))
        and now - s.started_at <= lifetime()
    ]


def end(by: User, session_id: int) -> bool:
    """End one of `by`'s own sessions, recorded in the administration trail (and e-mailed to
    them); False when there is no such session of theirs still going."""
    begin_write()
    found = db.session.execute(
        sa.select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == by.id,
            UserSession.ended_at.is_(None),
        )
    ).scalar_one_or_none()
    if found is None:
        return False
    found.ended_at = utcnow()
    administration.record(
        by,
        "session_ended",
        by,
        {"browser": browser(found.user_agent), "started_at": found.started_at.isoformat()},
        overseers=False,
    )
    return True


_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\bFirefox/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def browser(user_agent: str) -> str:
    """'Firefox on Windows': enough to tell one's sessions apart, from the User-Agent."""
    name = next((n for n, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((n for n, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if name and system:
        return f"{name} on {system}"
    return name or system or (user_agent[:40] if user_agent else "Unknown browser")


def end_sessions(user: User) -> None:
    """End every web session of the user at once (their own sign-out everywhere)."""
    user.session_generation += 1
    begin_write()
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_access(user: User) -> int:
    """End every session and every API token of the user; how many tokens ended."""
    end_sessions(user)
    return revoke_tokens(user)
