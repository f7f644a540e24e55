"""The administration trail: every change to a user account, appended to one hash chain.

Roles granted and removed, users added, disabled and enabled, passwords reset, sessions ended,
e-mail addresses and names changed, API tokens issued and revoked, second factors set up,
replaced and reset, recovery codes used: each is an event chained like a case's
events (canonical JSON, SHA-256, the previous event's hash, a sequence number), with the
trail's head kept in a row of its own so that a trail cut short is caught. The Library Director,
HR and the trustees are told of each event by e-mail, in the event's own transaction.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from casework.errors import Unavailable
from casework.extensions import db
from casework.models import GENESIS_HASH, AdministrationEvent, AdministrationHead, User, utcnow
from casework.services import chains
from casework.services.db import begin_write
from casework.services.log import TRAILS, leaves
from casework.signals import administration_recorded

#: The roles told of every administration event, and who may read the trail.
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

EVENTS = cast(sa.Table, AdministrationEvent.__table__)
#: The administration trail's kind of leaf in the whole-database log.
ADMIN = "admin"
HEAD = cast(sa.Table, AdministrationHead.__table__)


def cli_actor() -> str:
    """How the trail names whoever runs a command: `cli:` and their operating-system user name.

    A colon never appears in a Casework user name, so this cannot be mistaken for one.
    """
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        name = "unknown"
    return f"cli:{name}"[:64]


#: The name actions of no user are recorded under (the command line, the deadline sweep).
SYSTEM_USERNAME = "system"


def actor_label(actor: User | str) -> str:
    return actor.username if isinstance(actor, User) else actor


def administration_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    data_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an administration event's canonical content, chained to the previous hash.

    The content is the canonical JSON object {action, actor, at, data, prev, seq, subject,
    trail}; `data_json` is already canonical, so it is spliced in as it is stored.
    """
    from casework.services.audit import format_at

    dump = chains.json_string
    text = (
        f'{{"action":{dump(action)},"actor":{dump(actor)},"at":"{format_at(at)}",'
        f'"data":{data_json},"prev":"{prev_hash}","seq":{seq},"subject":{dump(subject)},'
        f'"trail":"administration"}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _locked_head() -> tuple[int, str]:
    """The trail's head, locked for this transaction (PostgreSQL; SQLite's write lock serves)."""
    query = sa.select(HEAD.c.head_seq, HEAD.c.head_hash).where(HEAD.c.id == 1).with_for_update()
    row = db.session.execute(query).first()
    if row is None:
        # The head row is made by the migration; an emptied database gets it back here.
        if db.session.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one():
            raise Unavailable(
                "The administration trail has lost its head; nothing was changed. Run "
                "`casework audit verify` and tell the Library Director."
            )
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            db.session.execute(
                pg_insert(HEAD)
                .values(id=1, head_seq=0, head_hash=GENESIS_HASH)
                .on_conflict_do_nothing()
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            db.session.execute(
                sqlite_insert(HEAD)
                .values(id=1, head_seq=0, head_hash=GENESIS_HASH)
                .on_conflict_do_nothing()
            )
        row = db.session.execute(query).one()
    return int(row.head_seq), str(row.head_hash)


def record(
    actor: User | str,
    action: str,
    subject: User,
    data: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    also_tell: tuple[str, ...] = (),
    overseers: bool = True,
) -> AdministrationEvent:
    """Append an administration event and queue its e-mails, in the caller's transaction.

    `also_tell` are further addresses to write to (the old address when an e-mail address
    changes); with `overseers` False only the account's owner is written to (a user ending one
    of their own sessions). Raises `Unavailable` when the trail has lost its head row, or
    another writer moved it first (PostgreSQL locks the head, so only a tampered database gets
    there).
    """
    from casework.services.audit import canonical_json

    assert action in ACTIONS, action
    begin_write()
    db.session.flush()  # the account's change is written before the event that records it
    at = at or utcnow()
    data_json = canonical_json(data or {})
    head_seq, prev_hash = _locked_head()
    seq = head_seq + 1
    who = actor_label(actor)
    digest = administration_hash(seq, at, who, action, subject.username, data_json, prev_hash)
    row = {
        "seq": seq,
        "at": at,
        "actor": who,
        "action": action,
        "subject": subject.username,
        "data_json": data_json,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    connection = db.session.connection()
    event_id = connection.execute(EVENTS.insert().returning(EVENTS.c.id), row).scalar_one()
    moved = connection.execute(
        HEAD.update()
        .where(HEAD.c.id == 1, HEAD.c.head_seq == head_seq)
        .values(head_seq=seq, head_hash=digest)
    )
    if moved.rowcount != 1:
        raise Unavailable("Another change to a user account came first; nothing was changed.")
    # The event is a leaf of the whole-database log too, placed when this transaction commits.
    leaves.append_leaf(db.session(), ADMIN, event_id, f"admin/{seq}", bytes.fromhex(digest))
    event = AdministrationEvent(id=event_id, **row)
    administration_recorded.send(event, subject=subject, also_tell=also_tell, overseers=overseers)
    return event


# --- reading ------------------------------------------------------------------------------


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
    total: int = db.session.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one()
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


# --- verifying ----------------------------------------------------------------------------


@dataclass
class TrailBroken:
    """The first broken link of the administration trail."""

    seq: int
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "problem": self.problem}


@dataclass
class TrailCheck:
    events: int = 0
    broken: list[TrailBroken] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "ok": self.ok,
            "broken": [b.as_dict() for b in self.broken],
        }


#: The columns the check walks; the time as the driver gives it (see audit._EVENT_COLUMNS).
_COLUMNS = (
    EVENTS.c.seq,
    sa.type_coerce(EVENTS.c.at, sa.String).label("at"),
    EVENTS.c.actor,
    EVENTS.c.action,
    EVENTS.c.subject,
    EVENTS.c.data_json,
    EVENTS.c.prev_hash,
    EVENTS.c.hash,
)


def check_trail(connection: sa.Connection | None = None) -> TrailCheck:
    """Walk the administration trail in order: sequence, links, hashes, and the head row.

    Names the first broken link (sequence and what differs), as `audit verify` does for a case.
    """
    conn = connection if connection is not None else db.session.connection()
    rows = conn.execute(sa.select(*_COLUMNS).order_by(EVENTS.c.seq, EVENTS.c.id))
    head = conn.execute(sa.select(HEAD.c.head_seq, HEAD.c.head_hash).where(HEAD.c.id == 1)).first()
    return _walk(rows, head)


def _walk(rows: Iterator[Any], head: Any) -> TrailCheck:
    from casework.services.verification import _stored_time

    result = TrailCheck()
    prev = GENESIS_HASH
    expected = 1
    problem: TrailBroken | None = None
    for seq, at, actor, action, subject, data_json, prev_hash, digest in rows:
        result.events += 1
        if problem is not None:
            continue
        if seq != expected:
            if isinstance(seq, int) and seq > expected:
                problem = TrailBroken(expected, f"event {expected} is missing (found {seq} next)")
            else:
                problem = TrailBroken(expected, "an event's number is out of order")
            continue
        if prev_hash != prev:
            problem = TrailBroken(seq, "prev_hash does not match the hash of the event before it")
            continue
        try:
            recomputed: str | None = administration_hash(
                seq, _stored_time(at), actor, action, subject, data_json, prev_hash
            )
        except (TypeError, ValueError):  # a value of a kind the engine never writes
            recomputed = None
        if recomputed != digest:
            problem = TrailBroken(seq, "content does not match its hash (the event was changed)")
            continue
        prev = digest
        expected += 1
    last = expected - 1
    if head is None:
        result.head_seq, result.head_hash = -1, ""
        if problem is None and last:
            problem = TrailBroken(last, "the trail's head row is missing")
    else:
        result.head_seq, result.head_hash = int(head[0]), str(head[1])
        if problem is None:
            if last < result.head_seq:
                problem = TrailBroken(
                    last + 1,
                    f"events {last + 1}–{result.head_seq} are missing (the trail was cut short)",
                )
            elif last > result.head_seq:
                problem = TrailBroken(result.head_seq + 1, "events after the trail's recorded head")
            elif prev != result.head_hash:
                problem = TrailBroken(
                    last, "the last event does not match the head kept for the trail"
                )
    if problem is not None:
        result.broken.append(problem)
    return result


def _logged_events(connection: sa.Connection) -> Iterator[tuple[int, str, bytes]]:
    """Every administration event as the log checks it: (row id, ref, the trail's hash)."""
    rows = connection.execute(
        sa.select(EVENTS.c.id, EVENTS.c.seq, EVENTS.c.hash).order_by(EVENTS.c.seq)
    )
    for event_id, seq, digest in rows:
        yield event_id, f"admin/{seq}", bytes.fromhex(digest)


TRAILS[ADMIN] = _logged_events
