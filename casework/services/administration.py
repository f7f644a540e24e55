"""The administration trail's hash chain: every change to a user account appended to it, and the
chain checked link by link.

Roles granted and removed, users added, disabled and enabled, passwords reset, sessions ended,
e-mail addresses and names changed, API tokens issued and revoked, second factors set up,
replaced and reset, recovery codes used: each is an event chained like a case's
events (canonical JSON, SHA-256, the previous event's hash, a sequence number), with the
trail's head kept in a row of its own so that a trail cut short is caught. The Library Director,
HR and the trustees are told of each event by e-mail, in the event's own transaction. How the
events read is `administration_reading`'s.
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
from casework.services.administration_reading import ACTIONS
from casework.services.db import begin_write
from casework.services.log import TRAILS, leaves
from casework.signals import administration_recorded

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
