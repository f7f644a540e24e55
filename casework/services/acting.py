"""Acting Library Directors: named for dates by the Director or a trustee, on the trail.

While a term holds, its user has the `director` role (`User.roles` adds it, the one place roles
are resolved), so they work the Director's queue, fire the Director's steps and read what the
Director reads; the subject rule still keeps every violation case about them from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casework.errors import Forbidden, InvalidFields, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import ActingDirector, User, UserRole, utcnow
from casework.models.user import ACTING_ROLE
from casework.services import administration
from casework.services.db import begin_write
from casework.services.users import find_user
from casework.workflow.roles import NON_STAFF_ROLES

#: Who may name (and end) an acting Director: a Director by role, and the Board.
NAMERS = frozenset({"director", "trustee"})
#: The longest term one naming may give.
LONGEST = timedelta(days=366)


def may_name(user: User) -> bool:
    """A Library Director (by their own role, not an acting one) or a trustee."""
    return bool(NAMERS & set(user.assigned_roles))


def require_namer(user: User) -> None:
    if not may_name(user):
        raise Forbidden("Only the Library Director or a trustee names an acting Director.")


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants that start `first` and end `last` in the library's zone."""
    tz = library().tz
    start = datetime.combine(first, time.min, tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC)
    return start, end


def _day(value: Any, name: str, label: str, errors: dict[str, list[str]]) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        errors[name] = [f"Enter the {label} as a date, for example 2026-12-24."]
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = [f"Enter the {label} as a date (YYYY-MM-DD), for example 2026-12-24."]
        return None


def holders_of(roles: Iterable[str], now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition on `User`: holds one of `roles`, by their own role or an acting term now.

    For finding people by role in the database (who is told of what), where `User.roles`
    cannot be asked row by row.
    """
    wanted = sorted(set(roles))
    held = User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(wanted)))
    if ACTING_ROLE not in wanted:
        return held
    now = now or utcnow()
    acting_now = sa.select(ActingDirector.user_id).where(
        ActingDirector.starts_at <= now,
        ActingDirector.ends_at > now,
        ActingDirector.ended_at.is_(None),
    )
    return sa.or_(held, User.id.in_(acting_now))


def in_force_or_coming(now: datetime | None = None) -> list[ActingDirector]:
    """Terms not ended and not yet over, soonest first."""
    now = now or utcnow()
    return list(
        db.session.execute(
            sa.select(ActingDirector)
            .where(ActingDirector.ends_at > now, ActingDirector.ended_at.is_(None))
            .order_by(ActingDirector.starts_at, ActingDirector.id)
        ).scalars()
    )


def terms_of(user: User) -> list[ActingDirector]:
    """Every term of one user, newest first (the user's admin page)."""
    return list(
        db.session.execute(
            sa.select(ActingDirector)
            .where(ActingDirector.user_id == user.id)
            .order_by(ActingDirector.starts_at.desc(), ActingDirector.id.desc())
        ).scalars()
    )


def name_acting(
    by: User,
    username: Any,
    from_day: Any,
    until_day: Any,
    reason: Any,
    *,
    now: datetime | None = None,
) -> ActingDirector:
    """Name a user acting Library Director from one day until another (both included).

    Raises `Forbidden` unless `by` is a Director by role or a trustee, and `InvalidFields` for
    oneself, an unknown, disabled, IT-only or Director user, dates in the past or out of order,
    a term longer than a year, one that overlaps another term, or no reason.
    """
    require_namer(by)
    now = now or utcnow()
    today = now.astimezone(library().tz).date()
    errors: dict[str, list[str]] = {}
    name = str(username or "").strip().lower()
    user = find_user(name) if name else None
    if not name:
        errors["user"] = ["Choose who will act as Library Director."]
    elif user is None or not user.active:
        errors["user"] = [f"There is no active user {name}."]
    elif user.id == by.id:
        errors["user"] = [
            "Nobody names themselves acting Director: another Director or a trustee must."
        ]
    elif "director" in user.assigned_roles:
        errors["user"] = [f"{user.name} is a Library Director already."]
    elif not set(user.assigned_roles) - NON_STAFF_ROLES:
        errors["user"] = [
            f"{user.name} is an IT administrator only, who sees no case: choose a member of staff."
        ]
    first = _day(from_day, "from_day", "first day", errors)
    last = _day(until_day, "until_day", "last day", errors)
    if first is not None and first < today:
        errors["from_day"] = ["The first day cannot be in the past: choose today or later."]
    if first is not None and last is not None and "from_day" not in errors:
        if last < first:
            errors["until_day"] = ["The last day must be on or after the first day."]
        elif last - first >= LONGEST:
            errors["until_day"] = ["A term lasts a year at most: name them again after it."]
    why = " ".join(str(reason or "").split())
    if not why:
        errors["reason"] = ["Say why, for example “Director on leave”."]
    elif len(why) > 500:
        errors["reason"] = ["Keep the reason to 500 characters."]
    if errors:
        raise InvalidFields(errors)
    assert user is not None and first is not None and last is not None
    begin_write()
    starts_at, ends_at = _bounds(first, last)
    clash = db.session.execute(
        sa.select(ActingDirector)
        .where(
            ActingDirector.ended_at.is_(None),
            ActingDirector.starts_at < ends_at,
            ActingDirector.ends_at > starts_at,
        )
        .limit(1)
    ).scalar_one_or_none()
    if clash is not None:
        holder = db.session.get(User, clash.user_id)
        raise InvalidFields(
            {
                "from_day": [
                    f"{holder.name if holder else 'Someone'} is acting Director from "
                    f"{clash.from_day.isoformat()} until {clash.until_day.isoformat()}: "
                    "end that term first, or choose other dates."
                ]
            }
        )
    term = ActingDirector(
        user_id=user.id,
        from_day=first,
        until_day=last,
        starts_at=starts_at,
        ends_at=ends_at,
        named_by_id=by.id,
        reason=why,
        created_at=now,
    )
    db.session.add(term)
    administration.record(
        by,
        "acting_director_named",
        user,
        {"from": first.isoformat(), "until": last.isoformat(), "reason": why},
        at=now,
    )
    return term


def end_term(by: User, term_id: int, *, now: datetime | None = None) -> ActingDirector:
    """End a term now (or cancel one not yet begun); recorded on the administration trail."""
    require_namer(by)
    now = now or utcnow()
    begin_write()
    term = db.session.get(ActingDirector, term_id)
    if term is None or term.ended_at is not None or term.ends_at <= now:
        raise NotFound("There is no such acting Director term in force or to come.")
    user = db.session.get(User, term.user_id)
    assert user is not None
    term.ended_at = now
    term.ended_by_id = by.id
    administration.record(
        by,
        "acting_director_ended",
        user,
        {"from": term.from_day.isoformat(), "until": term.until_day.isoformat()},
        at=now,
    )
    return term


@dataclass(frozen=True)
class Standing:
    """What a user's home page says of an acting term."""

    until_day: date
    named_by: str


def acting_standing(user: User, now: datetime | None = None) -> Standing | None:
    """The term `user` acts under now, if any, for their home page."""
    term = user.acting_term(now)
    if term is None:
        return None
    namer = db.session.get(User, term.named_by_id)
    return Standing(term.until_day, namer.name if namer else "")
