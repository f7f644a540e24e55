"""The audit trail: appending hash-chained events, and verifying every chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import GENESIS_HASH, Case, Event, utcnow


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
) -> Event:
    """Append an event to a case's chain and move the case's chain head.

    The caller holds the case for writing (begin_write, then a locked load), so the head read
    here is the latest. The event is flushed with the case in the caller's transaction.
    """
    at = at or utcnow()
    data_json = canonical_json(data or {})
    seq = case.head_seq + 1
    digest = event_hash(
        case.number, seq, at, actor, action, from_state, to_state, data_json, case.head_hash
    )
    event = Event(
        case_id=case.id,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data_json=data_json,
        prev_hash=case.head_hash,
        hash=digest,
    )
    db.session.add(event)
    case.head_seq = seq
    case.head_hash = digest
    return event


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
