"""Verifying the audit trail: every case's chain (sequence, links, hashes, the head kept on the
case row), the administration trail and, when asked, the whole log, all in one snapshot; and a
printed record's last hash against the database."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import GENESIS_HASH, Case, Event
from casework.services import chain_helpers, chains, log
from casework.services.administration import TrailCheck, check_trail
from casework.services.audit import event_hash
from casework.services.log.checked import checkpoint_sizes, positions_of, settle
from casework.services.log.tree import log_size
from casework.services.log.verify import LogReport, verify_log


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
    #: The administration trail, checked in the same snapshot (counted apart from the cases).
    administration: TrailCheck = field(default_factory=TrailCheck)
    #: The whole log, when it was asked for (`verify_chains(log_outside=…)`).
    log_report: LogReport | None = None
    #: Events whose data a disposal erased, as (case number, first seq, last seq): their links
    #: and log leaves were checked, their content cannot be.
    erased: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def erased_events(self) -> int:
        return sum(last - first + 1 for _, first, last in self.erased)

    @property
    def ok(self) -> bool:
        return (
            not self.broken
            and self.administration.ok
            and (self.log_report is None or self.log_report.ok)
        )


#: An event's columns as `_check_case` walks them; the time as the driver gives it, so that a
#: value no time could be (SQLite stores whatever it is given) is a broken link, not a crash.
_EVENT_COLUMNS = (
    Event.case_id,
    Event.seq,
    sa.type_coerce(Event.at, sa.String).label("at"),
    Event.actor,
    Event.action,
    Event.from_state,
    Event.to_state,
    Event.data_json,
    Event.prev_hash,
    Event.hash,
    Event.erased_at,
)


def _check_case(
    number: str, head_seq: int, head_hash: str, rows: Iterator[Any], result: VerifyResult
) -> None:
    """Walk one case's events in order; record the first broken link.

    An event erased by a disposal is checked by its sequence and links only (its content is
    gone, its hash is the one computed when it was written); every erased event must come
    before a whole `disposed` event that says it erased it.
    """
    prev = GENESIS_HASH
    expected_seq = 1
    problem: Broken | None = None
    erased: list[int] = []
    covered = 0
    for row in rows:
        result.events += 1
        if problem is not None:
            continue
        _, seq, at, actor, action, from_state, to_state, data_json, prev_hash, digest, gone = row
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
        if gone is not None:
            if data_json != "{}":
                problem = Broken(number, seq, "an erased event still holds data")
                continue
            erased.append(seq)
            prev = digest
            expected_seq += 1
            continue
        try:
            recomputed = event_hash(
                number,
                seq,
                _stored_time(at),
                actor,
                action,
                from_state,
                to_state,
                data_json,
                prev_hash,
            )
        except (TypeError, ValueError):  # a value of a kind the engine never writes
            recomputed = None
        if recomputed != digest:
            problem = Broken(number, seq, "content does not match its hash (the event was changed)")
            continue
        if action == "disposed":
            through = json.loads(data_json).get("erased_through")
            if isinstance(through, int) and through < seq:
                covered = max(covered, through)
        prev = digest
        expected_seq += 1
    if problem is None:
        uncovered = [seq for seq in erased if seq > covered]
        if uncovered:
            problem = Broken(
                number,
                uncovered[0],
                "the event's data was erased, yet no disposal recorded after it says so",
            )
    if problem is None:
        problem = _check_head(number, head_seq, head_hash, expected_seq - 1, prev)
    if problem is not None:
        result.broken.append(problem)
    elif erased:
        result.erased.append((number, erased[0], erased[-1]))


def _stored_time(value: Any) -> datetime:
    """An event's time as read back: PostgreSQL gives a datetime, SQLite the text it stores."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise TypeError(f"not a time: {type(value).__name__}")


def _check_head(
    number: str, head_seq: int, head_hash: str, last: int, last_hash: str
) -> Broken | None:
    """A sound chain must end where the case row says its head is."""
    if last != head_seq:
        if last < head_seq:
            return Broken(
                number,
                last + 1,
                f"events {last + 1}–{head_seq} are missing (the trail was cut short)",
            )
        return Broken(number, head_seq + 1, "events after the case's recorded chain head")
    if last_hash != head_hash:
        return Broken(number, last, "the last event does not match the chain head kept on the case")
    return None


#: From about this many events on, the check is shared among processes, one per core.
SHARED_FROM = chain_helpers.SHARED_FROM
#: About how many events this process checks while a helper starts (a fresh interpreter
#: importing SQLAlchemy, 0.2 s): it takes that many more than each helper, so all end together.
HELPER_START_EVENTS = 40_000


def _shares(low: int, high: int, processes: int) -> list[tuple[int, int]]:
    """The event ids from `low` to `high` in one range per process, this process's first."""
    span = high - low + 1
    return chain_helpers.shares(
        low, high, processes, min(HELPER_START_EVENTS, span // (4 * processes))
    )


def verify_chains(
    batch: int = 5000,
    *,
    processes: int | None = None,
    log_outside: Iterable[tuple[str, str]] | None = None,
    ahead: chain_helpers.Ahead | None = None,
) -> VerifyResult:
    """Check every case's chain: sequence, links, hashes, and the head kept on the case row;
    and the administration trail the same way (`result.administration`).

    All in one snapshot of the database. Events are read in the order they are stored and each
    case's chain is followed as its events come (`services.chains`); from `SHARED_FROM` events
    on, runs of event ids are shared among `processes` (by default one per core): this one and
    helpers. A case whose events do not check out there is walked again here in sequence order
    by `_check_case`, which names its first broken link.

    With `log_outside` (checkpoints kept elsewhere, as (where, note text)), the whole log is
    checked too (`result.log_report`, see `verify.verify_log`), in the same snapshot: each run of
    events reads the log's leaves at the positions its events took, computes each event's leaf
    hash as it follows its chain, matches the two and hashes the leaves into blocks of the tree
    (`chains.LeafReader`); what a run cannot settle is settled here, and anything that does
    not check out sends the log to the reference walk, which names what is wrong.

    `ahead`: helpers started before the application was ready (`chain_helpers.start_helpers`), each
    already on a share it chose; this process takes the rest (`_with_ahead`).
    """
    outside = None if log_outside is None else list(log_outside)
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return _verify(db.session.connection(), batch, 1, outside)  # no other connection
    with reading(db.engine) as connection:
        return _verify(connection, batch, processes, outside, ahead)


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection whose reads all see one snapshot of the database (heads and events agree)."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name != "sqlite" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


def _verify(
    connection: sa.Connection,
    batch: int,
    processes: int | None,
    outside: list[tuple[str, str]] | None = None,
    ahead: chain_helpers.Ahead | None = None,
) -> VerifyResult:
    low, high = chains.event_ids(connection)
    heads: dict[int, tuple[str, int, str]] = {}
    tasks: list[dict[str, Any]] | None = None
    runs: list[chains.Run] | None = None
    #: How many events this snapshot holds, when counted.
    total: int | None = None
    if ahead is not None:
        plans = ahead.plan()
        if plans is not None and low is not None and high is not None and outside is not None:
            total = connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
            runs = _with_ahead(connection, ahead, plans, (low, high, total), batch, heads, outside)
            if runs is None:
                total = None
        ahead.close()

    def here(ids: tuple[int, int]) -> chains.Run:
        # Read once any helpers are on their way, so that their start overlaps it.
        heads.update(chains.read_heads(connection))
        task = tasks[0] if tasks is not None else None
        return chains.follow_range(connection, ids, batch, heads, task)

    if runs is not None:
        pass  # shared with the helpers started ahead
    elif low is None:
        runs = []
        heads.update(chains.read_heads(connection))
    else:
        if processes is None:
            processes = min(os.cpu_count() or 1, 8) if high - low >= SHARED_FROM else 1
        shares = _shares(low, high, processes) if processes > 1 else [(low, high)]
        if outside is not None:
            sizes = checkpoint_sizes(connection, outside)
            starts = [start for start, _ in shares]
            tasks = [
                {"positions": positions, "sizes": sizes, "level": log.NODE_LEVEL}
                for positions in positions_of(connection, starts)
            ]
        if processes <= 1:
            runs = [here((low, high))]
        else:
            address = connection.engine.url.render_as_string(hide_password=False)
            runs = chain_helpers.in_helpers(address, shares, batch, here, tasks)
    result = VerifyResult(cases=len(heads))
    assert runs is not None  # nosec B101 # every branch above sets them
    #: case id -> (seq after the last event, the last hash), as the runs join up
    joined: dict[int, tuple[int, str]] = {}
    sound: set[int] = set()
    suspects: set[int] = set()
    for run in runs:
        result.events += run.events
        sound.update(run.sound)
        suspects.update(run.suspects)
        for case_id, (first, first_prev, after, last) in run.pieces.items():
            expected = joined.get(case_id, (1, GENESIS_HASH))
            if (first, first_prev) != expected:
                suspects.add(case_id)
            joined[case_id] = (after, last)
    for case_id, (after, last) in joined.items():
        if case_id not in suspects:
            number, head_seq, head_hash = heads[case_id]
            if _check_head(number, head_seq, head_hash, after - 1, last) is not None:
                suspects.add(case_id)
    for case_id, (_, head_seq, _) in heads.items():
        if head_seq and case_id not in sound and case_id not in joined:
            suspects.add(case_id)  # no events seen, yet its chain head says it has some
    # Helpers read in snapshots of their own, taken a moment later: only a walk in this
    # connection's snapshot may call a chain broken, so a write during the check is no alarm.
    found = (
        _recheck(connection, case_id, heads.get(case_id), result) for case_id in sorted(suspects)
    )
    result.broken = [problem for problem in found if problem is not None]
    result.administration = check_trail(connection)
    if outside is not None:
        checked = None
        if runs and all(run.leaves is not None for run in runs):  # read alongside the events
            checked = settle([run.leaves for run in runs if run.leaves is not None])
        result.log_report = verify_log(connection, outside, checked, events=total)
    return result


def _with_ahead(
    connection: sa.Connection,
    ahead: chain_helpers.Ahead,
    plans: list[dict[str, Any]],
    ids: tuple[int, int, int],
    batch: int,
    heads: dict[int, tuple[str, int, str]],
    outside: list[tuple[str, str]],
) -> list[chains.Run] | None:
    """The check shared with helpers started ahead: this process follows the events before
    theirs and any after them (written since their snapshots), each with the log's leaves at
    the positions around theirs. None when their shares do not fit this snapshot (then the
    check is shared anew). A helper's snapshot is a moment older than this one: a share that
    holds events here it did not see (written, on PostgreSQL, with ids taken before its moment
    but committed after) is followed again here.

    `ids`: the lowest and highest event id and the number of events in this snapshot."""
    low, high, total = ids
    size = log_size(connection)
    first = plans[0]
    if first["ids"][0] <= low:
        return None
    end_id = first["ids"][0] - 1
    end_position = first["positions"][0]
    for plan in plans:
        (start, last), (begin, after) = plan["ids"], plan["positions"]
        if start != end_id + 1 or begin != end_position or last > high or after > size:
            return None
        end_id, end_position = last, after
    sizes = checkpoint_sizes(connection, outside)
    heads.update(chains.read_heads(connection))

    def task(positions: tuple[int, int]) -> dict[str, Any]:
        return {"positions": positions, "sizes": sizes, "level": log.NODE_LEVEL}

    mine = chains.follow_range(
        connection, (low, first["ids"][0] - 1), batch, heads, task((0, first["positions"][0]))
    )
    after_them = chains.follow_range(
        connection, (end_id + 1, high), batch, heads, task((end_position, size))
    )
    theirs = ahead.collect(sizes)
    for n, plan in enumerate(plans):
        start, last = plan["ids"]
        if len(plans) == 1:  # the events here that are not this process's are in its share
            here = total - mine.events - after_them.events
        else:
            here = connection.execute(
                sa.select(sa.func.count()).where(Event.id >= start, Event.id <= last)
            ).scalar_one()
        if here != theirs[n].events:  # written while it started: its share again, in this snapshot
            theirs[n] = chains.follow_range(
                connection, (start, last), batch, heads, task(tuple(plan["positions"]))
            )
    return [mine, *theirs, after_them]


HASH = re.compile(r"^[0-9a-f]{64}$")


def check_printed_head(number: str, seq: int, digest: str) -> Broken | None:
    """Whether a printed record's chain head is still in the trail: event `seq` of case
    `number` carries the hash `digest` the record shows.

    With every chain sound (`verify_chains`), that proves the trail holds the events the paper
    shows, unchanged. It catches what the chains alone cannot: a trail cut back, or rewritten
    with fresh hashes, together with the head kept on the case row.
    """
    found = db.session.execute(
        sa.select(Case.id, Case.head_seq).where(Case.number == number)
    ).one_or_none()
    if found is None:
        return Broken(number, seq, "there is no such case, yet a record of it was printed")
    stored = db.session.execute(
        sa.select(Event.hash).where(Event.case_id == found.id, Event.seq == seq)
    ).scalar_one_or_none()
    if stored is None:
        return Broken(
            number,
            seq,
            f"the trail has no event {seq} (it ends at {found.head_seq}): it was cut back "
            "after the record was printed",
        )
    if stored != digest:
        return Broken(
            number,
            seq,
            "the event does not carry the hash printed on the record: the trail was changed "
            "after the record was printed",
        )
    return None


def _recheck(
    connection: sa.Connection, case_id: int, head: Any, result: VerifyResult | None = None
) -> Broken | None:
    """The first broken link of one case, its events walked in sequence order."""
    rows = connection.execute(
        sa.select(*_EVENT_COLUMNS).where(Event.case_id == case_id).order_by(Event.seq)
    ).all()
    if head is None:
        return Broken(f"(case id {case_id})", rows[0][1], "events of an unknown case")
    number, head_seq, head_hash = head
    if not rows:
        if head_seq:
            return Broken(number, 1, "the case has no events, yet its chain head says it has")
        return None
    probe = VerifyResult()
    _check_case(number, head_seq, head_hash, iter(rows), probe)
    if result is not None:
        result.erased.extend(probe.erased)
    return probe.broken[0] if probe.broken else None
