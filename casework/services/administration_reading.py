"""Reading the administration trail: each event in a sentence, and the trail a page at a time for
those who may read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import AdministrationEvent, User

#: The roles told of every administration event; they and the administrators read the trail.
OVERSEERS = ("director", "hr", "trustee")
READERS = frozenset({*OVERSEERS, "admin"})

#: How each action reads on the trail's page and in e-mail.
ACTIONS = {
    "user_added": "User added",
    "roles_changed": "Roles changed",
    "email_changed": "E-mail address changed",
    "name_changed": "Name changed",
    "user_disabled": "User disabled",
    "user_enabled": "User enabled again",
    "password_reset": "Password reset",
    "sessions_ended": "Sessions and API tokens ended",
    "token_issued": "API token issued",
    "token_revoked": "API token revoked",
    "second_factor_enrolled": "Two-factor sign-in set up",
    "second_factor_replaced": "Authenticator app replaced",
    "second_factor_reset": "Two-factor sign-in reset",
    "recovery_code_used": "Recovery code used",
    "session_ended": "Session ended",
    "sign_on_linked": "Sign-on identity linked",
    "sign_on_unlinked": "Sign-on identity unlinked",
    "database_restored": "Database restored from a backup",
    "acting_director_named": "Acting Director named",
    "acting_director_ended": "Acting Director term ended",
}


@dataclass(frozen=True)
class TrailLine:
    """One event as the trail's page shows it."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    what: str
    hash: str


def describe(action: str, subject: str, data: dict[str, Any]) -> str:
    """One sentence saying what an administration event did."""
    from casework.presenting.words import role_label

    def roles(names: list[str]) -> str:
        return ", ".join(role_label(n) for n in names) or "none"

    if action == "user_added":
        return f"Added {subject} with the roles {roles(data.get('roles', []))}."
    if action == "roles_changed":
        parts = []
        if data.get("granted"):
            parts.append(f"gave {subject} {roles(data['granted'])}")
        if data.get("removed"):
            parts.append(f"took {roles(data['removed'])} from {subject}")
        sentence = " and ".join(parts) or f"changed the roles of {subject}"
        return sentence[0].upper() + sentence[1:] + "."
    if action == "email_changed":
        old = data.get("from") or "none"
        new = data.get("to") or "none"
        return f"Changed the e-mail address of {subject} from {old} to {new}."
    if action == "name_changed":
        return f"Changed the name of {subject} from “{data.get('from')}” to “{data.get('to')}”."
    if action == "user_disabled":
        return f"Disabled {subject}; every session and API token of theirs ended."
    if action == "user_enabled":
        return f"Enabled {subject} again."
    if action == "password_reset":
        return (
            f"Reset the password of {subject} to a one-time password; every session and API "
            "token of theirs ended."
        )
    if action == "sessions_ended":
        return f"Ended every session and API token of {subject}."
    if action == "token_issued":
        named = f" “{data['name']}”" if data.get("name") else ""
        until = f", valid until {str(data['expires_at'])[:10]}" if data.get("expires_at") else ""
        return f"Issued an API token{named} to {subject}{until}."
    if action == "token_revoked":
        return f"Revoked the API token “{data.get('name')}” of {subject}."
    if action == "second_factor_enrolled":
        return f"{subject} set up two-factor sign-in with an authenticator app."
    if action == "second_factor_replaced":
        return f"{subject} replaced their authenticator app; the old one no longer works."
    if action == "second_factor_reset":
        return (
            f"Reset the two-factor sign-in of {subject}: their authenticator app and recovery "
            "codes no longer work."
        )
    if action == "recovery_code_used":
        return f"{subject} signed in with a recovery code ({data.get('left')} left)."
    if action == "session_ended":
        return f"Ended a session of {subject} ({data.get('browser') or 'a browser'})."
    if action == "sign_on_linked":
        return (
            f"Linked {subject} to the sign-on identity {data.get('subject')} at "
            f"{data.get('issuer')} by the verified address {data.get('email')}."
        )
    if action == "sign_on_unlinked":
        return (
            f"Unlinked the sign-on identity {data.get('subject')} at {data.get('issuer')} from "
            f"{subject}; their next sign-on links again by verified address."
        )
    if action == "acting_director_named":
        return (
            f"Named {subject} acting Library Director from {data.get('from')} until "
            f"{data.get('until')}: {data.get('reason')}"
        )
    if action == "acting_director_ended":
        return (
            f"Ended the term of {subject} as acting Library Director "
            f"({data.get('from')} until {data.get('until')})."
        )
    if action == "database_restored":
        lost = data.get("events_lost")
        gone = (
            f" {lost} logged events recorded after it are gone."
            if lost
            else " No logged event is known to be gone."
        )
        return (
            f"Restored the database from the backup {data.get('file')} taken "
            f"{data.get('taken_at')} ({data.get('cases')} cases, {data.get('events')} events)."
            + gone
        )
    return f"{ACTIONS.get(action, action)}: {subject}."


def may_read_trail(user: User) -> bool:
    """The Director, HR, the trustees and the administrators read the administration trail."""
    return bool(user.roles & READERS)


def trail_lines(page: int = 1, per_page: int = 100) -> tuple[list[TrailLine], int]:
    """A page of the trail, newest first, and how many events it holds."""
    total: int = db.session.execute(
        sa.select(sa.func.count()).select_from(AdministrationEvent)
    ).scalar_one()
    rows = db.session.execute(
        sa.select(AdministrationEvent)
        .order_by(AdministrationEvent.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars()
    lines = [
        TrailLine(
            e.seq, e.at, e.actor, e.action, e.subject, describe(e.action, e.subject, e.data), e.hash
        )
        for e in rows
    ]
    return lines, total
