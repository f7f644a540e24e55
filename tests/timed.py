"""Cases opened and moved at chosen times, in the library's time zone (deadlines, the sweep, the
Board's figures)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from casework.extensions import db
from casework.services import firing, loading, opening
from casework.services.users import find_user

ET = ZoneInfo("America/New_York")


def et(*args: int) -> datetime:
    """A moment given in the library's time (America/New_York), in UTC."""
    return datetime(*args, tzinfo=ET).astimezone(UTC)


def open_at(app: Any, username: str, workflow: str, fields: dict[str, Any], at: datetime) -> str:
    """Open a case as `username` at `at`; its number."""
    with app.app_context():
        case = opening.open_case(find_user(username), workflow, fields, now=at)
        db.session.commit()
        return case.number


def fire_at(app: Any, username: str, number: str, trigger: str, at: datetime, **fields: Any):
    """Fire `trigger` on a case as `username` at `at`."""
    with app.app_context():
        user = find_user(username)
        loaded = loading.load_case(user, number, write=True)
        firing.fire(user, loaded, trigger, loaded.case.version, fields, now=at)
        db.session.commit()
