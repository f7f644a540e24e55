"""The audit trail: appending hash-chained events, and verifying every chain."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from casework.errors import Conflict
from casework.extensions import db
from casework.models import GENESIS_HASH, Case, Event, utcnow


class ChainMoved(Conflict):
    """Another writer appended to the case's chain first (the caller did not hold the lock)."""


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no whitespace, UTF-8 text (RFC 8785 style for our data)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_at(at: datetime) -> str:
    """An event's time as it is hashed: UTC, microseconds, `Z`."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    dump = json.dumps
    text = (
        f'{{"action":{dump(action, ensure_ascii=False)},"actor":{dump(actor, ensure_ascii=False)},'
        f'"at":"{format_at(at)}","case":{dump(number, ensure_ascii=False)},"data":{data_json},'
        f'"from":{dump(from_state, ensure_ascii=False)},"prev":"{prev_hash}","seq":{seq},'
        f'"to":{dump(to_state, ensure_ascii=False)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
) -> Event:
    """Append an event to a case's chain and move the case's chain head, with `changes` to the case.

    Two statements in the caller's transaction: the event's INSERT, and one UPDATE of the case row
    that moves its head (and applies `changes`) only if the head is still the one this event
    follows. The caller holds the case for writing (begin_write, then a locked load). The case
    object is updated to match; the returned event is not attached to the session.
    """
    at = at or utcnow()
    data_json = canonical_json(data or {})
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
    # Plain SQL on the session's connection: the statements are built once and reused, and the
    # case object is brought up to date below instead of by the ORM's unit of work.
    connection = db.session.connection()
    connection.execute(INSERT_EVENT, row)
    moved = connection.execute(
        _move_head(tuple(sorted(values))), {**values, "_id": case.id, "_seq": seq - 1}
    )
    if moved.rowcount != 1:
        raise ChainMoved(f"{case.number} gained an event while this one was being written.")
    for name, value in values.items():
        set_committed_value(case, name, value)
    db.session().info.setdefault(_WRITTEN_AROUND_ORM, set()).add(case)
    return Event(**row)


#: Cases whose rows were changed by plain SQL in the current transaction (see append_event).
_WRITTEN_AROUND_ORM = "casework_written_around_orm"


@event.listens_for(Session, "after_soft_rollback")
def _expire_written(session: Session, previous_transaction: SessionTransaction) -> None:
    """After a rollback, even of a savepoint, reload the cases append_event changed behind the ORM.

    The ORM expires what it changed itself; these rows it did not see change.
    """
    for case in session.info.pop(_WRITTEN_AROUND_ORM, ()):
        if case in session:
            session.expire(case)


@event.listens_for(Session, "after_commit")
def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN_AROUND_ORM, None)


EVENTS = cast(sa.Table, Event.__table__)
CASES = cast(sa.Table, Case.__table__)
INSERT_EVENT = EVENTS.insert()


@functools.lru_cache(maxsize=64)
def _move_head(columns: tuple[str, ...]) -> sa.Update:
    """UPDATE of the given case columns, only while the head is the one the new event follows."""
    return (
        CASES.update()
        .where(CASES.c.id == sa.bindparam("_id"), CASES.c.head_seq == sa.bindparam("_seq"))
        .values({name: sa.bindparam(name) for name in columns})
    )


@dataclass
class Broken:
    """The first broken link of one case's chain."""

    case: str
    seq: int
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "seq": self.seq, "problem": self.problem}


@dataclass
class VerifyResult:
    cases: int = 0
    events: int = 0
    broken: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


_EVENT_COLUMNS = (
    Event.case_id,
    Event.seq,
    Event.at,
    Event.actor,
    Event.action,
    Event.from_state,
    Event.to_state,
    Event.data_json,
    Event.prev_hash,
    Event.hash,
)


def _check_case(
    number: str, head_seq: int, head_hash: str, rows: Iterator[Any], result: VerifyResult
) -> None:
    """Walk one case's events in order; record the first broken link."""
    prev = GENESIS_HASH
    expected_seq = 1
    problem: Broken | None = None
    for row in rows:
        result.events += 1
        if problem is not None:
            continue
        _, seq, at, actor, action, from_state, to_state, data_json, prev_hash, digest = row
        if seq != expected_seq:
            problem = Broken(
                number, expected_seq, f"event {expected_seq} is missing (found {seq} next)"
            )
            continue
        if prev_hash != prev:
            problem = Broken(
                number, seq, "prev_hash does not match the hash of the event before it"
            )
            continue
        recomputed = event_hash(
            number, seq, at, actor, action, from_state, to_state, data_json, prev_hash
        )
        if recomputed != digest:
            problem = Broken(number, seq, "content does not match its hash (the event was changed)")
            continue
        prev = digest
        expected_seq += 1
    if problem is None:
        last = expected_seq - 1
        if last != head_seq:
            if last < head_seq:
                problem = Broken(
                    number,
                    last + 1,
                    f"events {last + 1}–{head_seq} are missing (the trail was cut short)",
                )
            else:
                problem = Broken(
                    number, head_seq + 1, "events after the case's recorded chain head"
                )
        elif prev != head_hash:
            problem = Broken(
                number, last, "the last event does not match the chain head kept on the case"
            )
    if problem is not None:
        result.broken.append(problem)


def verify_chains(batch: int = 5000) -> VerifyResult:
    """Check every case's chain: sequence, links, hashes, and the head kept on the case row."""
    result = VerifyResult()
    session = db.session
    cases = session.execute(
        sa.select(Case.id, Case.number, Case.head_seq, Case.head_hash).order_by(Case.id)
    ).all()
    result.cases = len(cases)
    heads = {c.id: c for c in cases}
    stream = session.execute(
        sa.select(*_EVENT_COLUMNS)
        .order_by(Event.case_id, Event.seq)
        .execution_options(yield_per=batch)
    )
    current: list[Any] = []
    current_id: int | None = None
    seen: set[int] = set()

    def flush_case() -> None:
        if current_id is None:
            return
        head = heads.get(current_id)
        if head is None:
            result.events += len(current)
            result.broken.append(
                Broken(f"(case id {current_id})", current[0][1], "events of an unknown case")
            )
            return
        seen.add(current_id)
        _check_case(head.number, head.head_seq, head.head_hash, iter(current), result)

    for row in stream:
        if row[0] != current_id:
            flush_case()
            current = []
            current_id = row[0]
        current.append(row)
    flush_case()
    for case_id, head in heads.items():
        if case_id not in seen and head.head_seq != 0:
            result.broken.append(
                Broken(head.number, 1, "the case has no events, yet its chain head says it has")
            )
    return result
