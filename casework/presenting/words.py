"""The library's words for times, roles, sizes and counts: the same on screen, paper and e-mail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from casework.workflow.roles import ROLE_LABELS

#: Actions that record someone reading a case; they never change what a record shows.
ACCESS_ACTIONS = frozenset({"view", "print", "export", "download"})

#: The order in which a person's roles name them: the first one they hold is their title.
ROLE_PRECEDENCE = (
    "director",
    "hr",
    "trustee",
    "librarian_in_charge",
    "records_officer",
    "social_media_team",
    "admin",
    "staff",
    "system",
)


def _zone(tz: ZoneInfo | None) -> ZoneInfo:
    if tz is not None:
        return tz
    from casework.library import library

    return library().tz


def local_time(moment: datetime | None, tz: ZoneInfo | None = None) -> str:
    """A moment as the library reads it, in its own time zone: "2 December 2026, 14:05"."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(_zone(tz))
    return f"{local.day} {local:%B %Y, %H:%M}"


def local_date(moment: datetime | date | None, tz: ZoneInfo | None = None) -> str:
    """A day as the library reads it: "2 December 2026" (a moment's day in the library's zone)."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(_zone(tz)).date()
    return f"{moment.day} {moment:%B %Y}"


def file_date(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """A day for a file name, sorting as text sorts: "2026-12-02" (in the library's zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(_zone(tz)):%Y-%m-%d}"


def stored_time(text: str, tz: ZoneInfo | None = None) -> str:
    """A stored timestamp (ISO, `...Z` for UTC) as `local_time` shows it; other text unchanged."""
    try:
        return local_time(datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
    except ValueError:
        return text


def stored_date(text: str) -> str:
    """A stored day (`2026-12-02`) as `local_date` shows it; other text unchanged."""
    try:
        return local_date(date.fromisoformat(text))
    except ValueError:
        return text


def humanize(name: str) -> str:
    """A stored key as words: "handbook_reference" → "Handbook reference"."""
    return name.replace("_", " ").capitalize()


def role_label(role: Any) -> str:
    """A role's name: "director" → "Library Director"."""
    return ROLE_LABELS.get(str(role), humanize(str(role)))


def role_list(roles: Iterable[str]) -> str:
    """Roles as a list of names, without the automatic one."""
    return ", ".join(role_label(r) for r in roles if r != "system")


#: Roles a sentence names with "the" (one office, or one body).
THE_ROLES = frozenset(
    {"director", "librarian_in_charge", "social_media_team", "trustee", "records_officer"}
)


def roles_in_words(roles: Iterable[str]) -> str:
    """Who holds these roles, as a sentence says it: "the Library Director and Human Resources"."""
    names = [f"the {role_label(r)}" if r in THE_ROLES else role_label(r) for r in roles]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def principal_role(roles: Iterable[str], allowed: Iterable[str] = ()) -> str | None:
    """The role that titles a person: the first of `allowed` (the roles a step took) that they
    hold, else the highest of their roles (`ROLE_PRECEDENCE`)."""
    held = set(roles)
    for role in allowed:
        if role in held:
            return role
    ranked = [r for r in ROLE_PRECEDENCE if r in held]
    others = sorted(held - set(ROLE_PRECEDENCE))
    return next(iter(ranked + others), None)


def with_role(name: str, role: str | None) -> str:
    """A person named with their role: "Dana Whitfield, Library Director"."""
    return f"{name}, {role_label(role)}" if role else name


def file_size(size: Any) -> str:
    """A size in bytes as words: "512 bytes", "14.2 KB", "3.1 MB"."""
    if not isinstance(size, int):
        return str(size)
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def times(n: int) -> str:
    """How often: "once", "twice", "5 times"."""
    return {1: "once", 2: "twice"}.get(n, f"{n:,} times")


def reads_line(reads: Iterable[tuple[str, str]]) -> str:
    """Reads of a case in one line, from (what, who) pairs in order: "Viewed 5 times by Dana
    Whitfield, Library Director; printed once by …"."""
    counts: dict[tuple[str, str], int] = {}
    for what, who in reads:
        counts[(what.lower(), who)] = counts.get((what.lower(), who), 0) + 1
    said = "; ".join(f"{what} {times(n)} by {who}" for (what, who), n in counts.items())
    return said[:1].upper() + said[1:]
