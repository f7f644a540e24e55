"""The audit trail: appending hash-chained events (each a leaf of the log), and what a
transaction appended. Checking the chains is `services.verification`."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from casework.errors import Conflict
from casework.extensions import db
from casework.models import Case, Event, utcnow
from casework.services import chains
from casework.services.db import WROTE, execute_on_driver
from casework.services.log import CASE, leaves


class ChainMoved(Conflict):
    """Another writer appended to the case's chain first (the caller did not hold the lock)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no whitespace, UTF-8 text (RFC 8785 style for our data)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_at(at: datetime) -> str:
    """An event's time as it is hashed: UTC, microseconds, `Z`."""
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def event_hash(
    number: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    data_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an event's canonical content, chained to the previous event's hash.

    The content is the canonical JSON object {action, actor, at, case, data, from, prev, seq, to};
    `data_json` is already canonical, so it is spliced in as it is stored.
    """
    dump = chains.json_string
    text = (
        f'{{"action":{dump(action)},"actor":{dump(actor)},"at":"{format_at(at)}",'
        f'"case":{dump(number)},"data":{data_json},"from":{dump(from_state)},'
        f'"prev":"{prev_hash}","seq":{seq},"to":{dump(to_state)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AppendedEvent(NamedTuple):
    """An event as `append_event` wrote it (the row's columns, and its data as given): what the
    caller and the notifications read of it, without an ORM object to build."""

    id: int
    case_id: int
    seq: int
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    data_json: str
    prev_hash: str
    hash: str
    data: dict[str, Any]


def append_event(
    case: Case,
    actor: str,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    at: datetime | None = None,
    changes: dict[str, Any] | None = None,
) -> AppendedEvent:
    """Append an event to a case's chain and move the case's chain head, with `changes` to the case.

    Two statements in the caller's transaction: the event's INSERT, and one UPDATE of the case row
    that moves its head (and applies `changes`) only if the head is still the one this event
    follows. The caller holds the case for writing (begin_write, then a locked load). The case
    object is updated to match; the event comes back as written, not as an ORM object.
    """
    at = at or utcnow()
    data = data or {}
    data_json = canonical_json(data)
    prev_hash = case.head_hash
    seq = case.head_seq + 1
    digest = event_hash(
        case.number, seq, at, actor, action, from_state, to_state, data_json, prev_hash
    )
    row = {
        "case_id": case.id,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "data_json": data_json,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    values = {**(changes or {}), "head_seq": seq, "head_hash": digest}
    # Plain SQL on the session's connection's driver: the statements are compiled once, and
    # the case object is brought up to date below instead of by the ORM's unit of work.
    session = db.session()
    connection = session.connection()
    _, inserted = execute_on_driver(connection, INSERT_EVENT, row, keys=EVENT_COLUMNS)
    assert inserted is not None  # nosec B101 # one row inserted: its key comes back
    event_id = inserted[0]
    moved, _ = execute_on_driver(
        connection, _move_head(tuple(sorted(values))), {**values, "_id": case.id, "_seq": seq - 1}
    )
    if moved != 1:
        raise ChainMoved(f"{case.number} gained an event while this one was being written.")
    for name, value in values.items():
        set_committed_value(case, name, value)
    session.info.setdefault(_WRITTEN_AROUND_ORM, set()).add(case)
    session.info.setdefault(APPENDED, set()).add((case.id, actor))
    # The event is a leaf of the one log too, placed when this transaction commits.
    ref = f"{case.number}/{seq}"
    leaves.append_leaf(session, CASE, event_id, ref, bytes.fromhex(digest))
    return AppendedEvent(
        event_id,
        case.id,
        seq,
        at,
        actor,
        action,
        from_state,
        to_state,
        data_json,
        prev_hash,
        digest,
        data,
    )


#: Cases whose rows were changed by plain SQL in the current transaction (see append_event).
_WRITTEN_AROUND_ORM = "casework_written_around_orm"
#: (case id, actor) of each event appended in the current transaction, and of those committed
#: since `forget_appended`: what a request's own events already record of who read which case.
APPENDED = "casework_appended"
COMMITTED = "casework_appended_committed"


def appended(*, committed_only: bool = False) -> set[tuple[int, str]]:
    """(case id, actor) of the events this session committed, and (unless `committed_only`) of
    those its open transaction appended."""
    info = db.session().info
    found = set(info.get(COMMITTED, ()))
    if not committed_only:
        found |= info.get(APPENDED, set())
    return found


def forget_appended() -> None:
    info = db.session().info
    info.pop(APPENDED, None)
    info.pop(COMMITTED, None)


def wrote() -> bool:
    """Whether the open transaction has written, or is about to (pending ORM changes)."""
    session = db.session()
    info = session.info
    return bool(
        info.get(APPENDED)
        or info.get(_WRITTEN_AROUND_ORM)
        or info.get(WROTE)
        or session.new
        or session.dirty
        or session.deleted
    )


@event.listens_for(Session, "after_soft_rollback")
def _expire_written(session: Session, previous_transaction: SessionTransaction) -> None:
    """After a rollback, even of a savepoint, reload the cases append_event changed behind the ORM.

    The ORM expires what it changed itself; these rows it did not see change.
    """
    for case in session.info.pop(_WRITTEN_AROUND_ORM, ()):
        if case in session:
            session.expire(case)
    # Their events are gone too (a savepoint's rollback forgets them all: at worst a view more).
    session.info.pop(APPENDED, None)


@event.listens_for(Session, "after_commit")
def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN_AROUND_ORM, None)
    kept = session.info.pop(APPENDED, None)
    if kept:
        session.info.setdefault(COMMITTED, set()).update(kept)


EVENTS = cast(sa.Table, Event.__table__)
CASES = cast(sa.Table, Case.__table__)
#: The columns an event is written with, and the statement writing them (its id returned).
EVENT_COLUMNS = (
    "case_id",
    "seq",
    "at",
    "actor",
    "action",
    "from_state",
    "to_state",
    "data_json",
    "prev_hash",
    "hash",
)
INSERT_EVENT = EVENTS.insert().returning(EVENTS.c.id)


@functools.lru_cache(maxsize=64)
def _move_head(columns: tuple[str, ...]) -> sa.Update:
    """UPDATE of the given case columns, only while the head is the one the new event follows."""
    return (
        CASES.update()
        .where(CASES.c.id == sa.bindparam("_id"), CASES.c.head_seq == sa.bindparam("_seq"))
        .values({name: sa.bindparam(name) for name in columns})
    )
