"""Following the audit trail's hash chains through the stored events, quickly.

`services.verification.verify_chains` reads events in the order they are stored, in one run or
in several runs of event ids shared among helper processes (`services.chain_helpers`), and
follows each case's chain as its events come. What a run cannot settle (a chain that starts or
ends outside it, or events that do not follow one another) it hands back, and `verify_chains`
settles it, walking the doubtful cases again in sequence order. This module imports only
SQLAlchemy, so a helper starts quickly.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import json
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

from casework.logcheck import mth

if TYPE_CHECKING:  # imported where it is used, so that `start_helpers` starts them at once
    import sqlalchemy as sa

#: The `prev_hash` of a case's first event.
GENESIS = "0" * 64
#: The lowest level of the log's tree whose whole nodes are kept (`log_nodes`) and hashed by
#: the runs: one node per 2^8 leaves and up.
NODE_LEVEL = 8


@dataclass
class Run:
    """What one run of stored events showed."""

    events: int = 0
    #: Cases whose whole chain was in the run, from the first event to the head: sound.
    sound: list[int] = field(default_factory=list)
    #: Cases whose chain only partly lies in the run, as it looked there:
    #: case id -> [first seq, its prev_hash, the seq after the last, the last hash].
    pieces: dict[int, list[Any]] = field(default_factory=dict)
    #: Cases whose events here do not follow one another or do not match their hashes.
    suspects: list[int] = field(default_factory=list)
    #: The log's leaves read with these events, when the log is checked too.
    leaves: LeafRun | None = None


@dataclass
class LeafRun:
    """What one run of the log's leaves (positions `low` up to `high`) showed, read alongside
    a run of events: each case leaf is matched with its event's leaf hash, computed here."""

    low: int = 0
    high: int = 0
    #: Whether every position was there, in order, and every case leaf matched here was right.
    sound: bool = True
    #: Case leaves matched with their events here.
    matched: int = 0
    #: MTH of each whole block of `2^level` leaves, in order, as hex.
    blocks: list[str] = field(default_factory=list)
    #: size -> MTH (hex) of the leaves from the start of its block up to it, for each size
    #: asked for that ends inside a block of this run.
    parts: dict[int, str] = field(default_factory=dict)
    #: Case leaves whose events were not among this run's: row id -> leaf hash (hex).
    leaves: dict[int, str] = field(default_factory=dict)
    #: Events whose leaves were not among this run's: event id -> its leaf hash (hex).
    events: dict[int, str] = field(default_factory=dict)
    #: Leaves of other trails: [position, kind, row id, ref, leaf hash (hex)].
    others: list[list[Any]] = field(default_factory=list)


def _start(
    case_id: int, seq: int, prev: str, heads: Mapping[int, tuple[str, int, str]]
) -> list[Any]:
    """A chain as `follow` keeps it, from the first of its events in a run."""
    head = heads.get(case_id)
    if head is None:
        return [seq, prev, seq, prev, "", None, False]
    return [seq, prev, seq, prev, json_string(head[0]), f"\0case\n{head[0]}/".encode(), True]


def json_string(value: Any) -> str:
    """`value` as JSON, exactly as `json.dumps(value, ensure_ascii=False)` writes it."""
    if type(value) is str and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def follow(
    batches: Iterator[list[tuple[Any, ...]]],
    heads: Mapping[int, tuple[str, int, str]],
    leaves: LeafReader | None = None,
) -> Run:
    """Follow each case's chain through events in storage order.

    `heads` gives each case's number, head sequence and head hash; each row ends with the
    event's id and whether it was erased. The hash text is built as
    `audit.event_hash` builds it; the time must come as stored by SQLite (`YYYY-MM-DD
    HH:MM:SS.ffffff`), its trailing zeros may be left out. Whatever does not check out here is
    reported as a suspect, never judged: a hash that matches the text built here also matches
    the engine's, so a chain accepted here is one the reference walk accepts.

    With `leaves`, each event's leaf hash is computed from its case number, sequence and hash in
    the same pass and matched with the log's leaves, read alongside (`LeafReader`).
    """
    run = Run()
    #: case id -> [first seq, its prev_hash, next seq, last hash, the number as JSON, the start
    #: of its leaves' entries (None for an event of no case), whether the chain still holds]
    chains: dict[int, list[Any]] = {}
    suspects: set[int] = set()
    literals = _Written(json_string, {None: "null"})  # TypeError for what JSON cannot hold
    lines = _Written(_line)
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    matching = leaves is not None
    pending: dict[int, bytes] = leaves.pending if leaves is not None else {}
    waiting: dict[int, bytes] = leaves.waiting if leaves is not None else {}
    for rows in batches:
        run.events += len(rows)
        for (
            case_id,
            seq,
            at,
            actor,
            action,
            from_state,
            to_state,
            data_json,
            prev,
            digest,
            event_id,
            erased,
        ) in rows:
            chain = chains.get(case_id)
            if chain is None:
                chain = chains[case_id] = _start(case_id, seq, prev, heads)
                if not chain[6]:
                    suspects.add(case_id)  # an event of no case: the reference walk names it
            if matching:
                if chain[5] is None:
                    leaves.sound = False  # type: ignore[union-attr] # an event of no case
                else:
                    try:
                        raw = fromhex(digest)
                    except (TypeError, ValueError):  # the reference walk names it
                        raw = b""
                    leaf = sha256(chain[5] + lines[seq] + raw).digest()
                    if waiting and (stored := waiting.pop(event_id, None)) is not None:
                        if stored != leaf:
                            leaves.sound = False  # type: ignore[union-attr]
                        else:
                            leaves.matched += 1  # type: ignore[union-attr]
                    else:
                        pending[event_id] = leaf
            if not chain[6]:
                continue
            # The fast path reads a time as SQLite stores it ("YYYY-MM-DD HH:MM:SS.ffffff");
            # PostgreSQL's text leaves out trailing zeros, put back here. Any other form is
            # left to the full check, which parses it. Erased by a disposal: only the
            # reference walk checks such a chain, by its links.
            if type(at) is not str or len(at) != 26:
                at = _full_time(at)
            if erased or seq != chain[2] or prev != chain[3] or at is None or at[10] != " ":
                suspects.add(case_id)
                chain[6] = False
                continue
            try:
                text = (
                    f'{{"action":{literals[action]},"actor":{literals[actor]},'
                    f'"at":"{at.replace(" ", "T")}Z","case":{chain[4]},"data":{data_json},'
                    f'"from":{literals[from_state]},"prev":"{prev}","seq":{seq},'
                    f'"to":{literals[to_state]}}}'
                )
            except TypeError:  # a value of a kind the engine never writes (SQLite keeps any)
                text = ""
            if not text or sha256(text.encode()).hexdigest() != digest:
                suspects.add(case_id)
                chain[6] = False
                continue
            chain[2] = seq + 1
            chain[3] = digest
        if matching and rows:
            leaves.read(rows[-1][10])  # type: ignore[union-attr]
    for case_id, (first, first_prev, after, last, _, _, holds) in chains.items():
        if not holds:
            continue
        _, head_seq, head_hash = heads[case_id]
        if first == 1 and first_prev == GENESIS and after - 1 == head_seq and last == head_hash:
            run.sound.append(case_id)
        else:
            run.pieces[case_id] = [first, first_prev, after, last]
    run.suspects = sorted(suspects)
    return run


#: The leaves at a run of positions, in order: each one's row id and hash. Which of them are
#: leaves of other trails than cases is asked apart (`_OTHERS`: a few, found by the index on
#: kind), and their kind and reference are read by position in `finish`.
_LEAVES = (
    "SELECT row_id, hash FROM log_leaves WHERE position >= {0} AND position < {0} ORDER BY position"
)
_OTHERS = (
    "SELECT position FROM log_leaves WHERE (kind < 'case' OR kind > 'case') "
    "AND +position >= {0} AND +position < {0}"  # by kind, not by reading every position
)
_OTHER_LEAF = "SELECT position, kind, row_id, ref, hash FROM log_leaves WHERE position = {0}"


class LeafReader:
    """The log's leaves at a run of positions, read in position order alongside a run of events
    (`follow`, which computes each event's leaf hash and matches it here or leaves it pending).

    Leaves come in position order while their events come in id order (both follow the order
    of writing), so only the few written out of step wait in memory. Each whole block of
    `2^level` leaves is hashed as it completes. What this run cannot match is handed back in
    `found` by `finish`. Positions are checked by count: they are the table's key, so the run
    holds every position from `low` up to `high` once exactly when it holds `high - low` rows.
    """

    def __init__(self, connection: sa.Connection, task: Mapping[str, Any], found: LeafRun) -> None:
        low, high = task["positions"]
        self.block = 1 << task["level"]
        self.sizes = sorted(s for s in task["sizes"] if low < s <= high and s % self.block)
        self.batch = task["batch"]
        found.low, found.high = low, high
        self.found = found
        self.sound = True
        self.matched = 0
        #: event id -> its leaf hash, its leaf not read yet
        self.pending: dict[int, bytes] = {}
        #: row id -> a case leaf's hash, its event not read yet
        self.waiting: dict[int, bytes] = {}
        self.buffer: list[bytes] = []  # leaf hashes from the start of the current block
        self.start = low  # the position of buffer[0]
        self.last_row = -1  # the largest row id of a case leaf read so far
        self.more = True
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        mark = "%s" if self.postgresql else "?"
        #: positions of the leaves of other trails, in order
        self.others: list[int] = sorted(
            position
            for (position,) in connection.exec_driver_sql(_OTHERS.format(mark), (low, high))
        )
        self.next_other = self.others[0] if self.others else found.high
        driver: Any = connection.connection.driver_connection
        # PostgreSQL: the hashes as bytes, not as hex text both ends would convert.
        self.cursor = (
            driver.cursor(name="casework_leaves", binary=True)
            if self.postgresql
            else driver.cursor()
        )
        self.cursor.execute(_LEAVES.format(mark), (low, high))

    def read(self, until: int | None) -> None:
        """Read leaves until one names a row id of at least `until` (None: to the end)."""
        pending, waiting, buffer, block = self.pending, self.waiting, self.buffer, self.block
        blocks = self.found.blocks
        last_row = self.last_row
        while self.more and (until is None or last_row < until):
            rows = self.cursor.fetchmany(self.batch)
            if not rows:
                self.more = False
                break
            row_ids, digests = zip(*rows, strict=True)
            if self.next_other < self.start + len(buffer) + len(rows):
                # A leaf of another trail among them.
                self.last_row = last_row
                self._read_each(rows)
                last_row = self.last_row
            else:
                # Leaves of events only, as nearly always: matched in bulk.
                buffer.extend(digests)
                wanted = list(map(pending.pop, row_ids, repeat(None)))
                if wanted == list(digests):
                    self.matched += len(wanted)
                else:
                    for row_id, digest, want in zip(row_ids, digests, wanted, strict=True):
                        if want is None:
                            waiting[row_id] = digest
                        elif want != digest:
                            self.sound = False
                        else:
                            self.matched += 1
                last_row = max(last_row, max(row_ids))
            whole = len(buffer) - len(buffer) % block
            for size in self.sizes:
                if self.start < size <= self.start + whole:
                    first = (size - 1) // block * block - self.start
                    self.found.parts[size] = mth(buffer[first : size - self.start]).hex()
            blocks.extend(mth(buffer[n : n + block]).hex() for n in range(0, whole, block))
            del buffer[:whole]
            self.start += whole
        self.last_row = last_row

    def _read_each(self, rows: list[tuple[Any, ...]]) -> None:
        """Leaves of case events and of other trails, one by one."""
        pending, waiting, buffer = self.pending, self.waiting, self.buffer
        others = self.others
        for row_id, digest in rows:
            position = self.start + len(buffer)
            buffer.append(digest)
            if position == self.next_other:
                later = bisect.bisect_right(others, position)
                self.next_other = others[later] if later < len(others) else self.found.high
                continue
            want = pending.pop(row_id, None)
            if want is None:
                waiting[row_id] = digest
            elif want != digest:
                self.sound = False
            else:
                self.matched += 1
            if row_id > self.last_row:
                self.last_row = row_id

    def finish(self) -> None:
        """Read what is left, and hand back what this run could not match."""
        self.read(None)
        self.cursor.close()
        found, buffer, start = self.found, self.buffer, self.start
        if start + len(buffer) != found.high:
            self.sound = False  # positions missing (or the rows are not what was asked for)
        for size in self.sizes:
            if start < size <= start + len(buffer):
                found.parts[size] = mth(buffer[: size - start]).hex()
        if buffer:
            found.parts[start + len(buffer)] = mth(buffer).hex()
        driver: Any = self.connection.connection.driver_connection
        cursor = driver.cursor()
        try:
            for position in self.others:
                cursor.execute(_OTHER_LEAF.format("%s" if self.postgresql else "?"), (position,))
                for at, kind, row_id, ref, digest in cursor.fetchall():
                    found.others.append([at, kind, row_id, ref, bytes(digest).hex()])
        finally:
            cursor.close()
        found.sound = self.sound
        found.matched = self.matched
        found.leaves = {row_id: bytes(digest).hex() for row_id, digest in self.waiting.items()}
        found.events = {event_id: leaf.hex() for event_id, leaf in self.pending.items()}

    def close(self) -> None:
        self.cursor.close()


class _Written(dict[Any, Any]):
    """Values as `write` writes them, each remembered once written (actors, actions, states and
    sequence numbers repeat; a few thousand at most): `written[value]` is one lookup in the loop
    that follows the chains."""

    def __init__(self, write: Callable[[Any], Any], known: dict[Any, Any] | None = None):
        super().__init__(known or {})
        self.write = write

    def __missing__(self, value: Any) -> Any:
        text = self.write(value)
        if len(self) < 10_000:
            self[value] = text
        return text


#: A time as text, its fraction of a second shortened or left out (PostgreSQL's `at::text`).
_SHORT_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,5})?")


def _full_time(value: Any) -> str | None:
    """A time in the stored form, all six digits of its microseconds written; None when it is
    not a time with at most six."""
    if type(value) is not str or not _SHORT_TIME.fullmatch(value):
        return None
    return value.ljust(26, "0") if len(value) > 19 else f"{value}.000000"


def _line(seq: Any) -> bytes:
    """An event's sequence as the line of its leaf's entry (`b"7\n"`); TypeError for a value
    that is no number, as the entry's own formatting raises."""
    return b"%d\n" % seq


#: The columns `follow` reads, in its order, for a range of event ids (the driver's own SQL).
_SQLITE_EVENTS = (
    "SELECT case_id, seq, at, actor, action, from_state, to_state, data_json, prev_hash, hash, "
    "id, erased_at IS NOT NULL FROM events WHERE id BETWEEN ? AND ?"
)
_POSTGRESQL_EVENTS = (
    "SELECT case_id, seq, at::text, actor, action, from_state, "
    "to_state, data_json, prev_hash, hash, id, erased_at IS NOT NULL FROM events "
    "WHERE id BETWEEN %s AND %s"
)


def stored_events(
    connection: sa.Connection, ids: tuple[int, int], batch: int
) -> Generator[list[tuple[Any, ...]]]:
    """The events with ids in `ids` (both included), in storage order, `batch` rows at a time.

    Read with the driver's own cursor, in the connection's transaction; the time comes as text:
    as SQLite stores it, or as PostgreSQL writes it in its ISO style (which `follow` completes).
    """
    postgresql = connection.dialect.name == "postgresql"
    driver: Any = connection.connection.driver_connection
    if postgresql:  # the style is the server's setting: the ISO one for this transaction
        driver.execute("SET LOCAL datestyle TO 'ISO'")
    # PostgreSQL: a server-side cursor, so the rows are never all held in memory at once.
    cursor = driver.cursor(name="casework_chains") if postgresql else driver.cursor()
    try:
        cursor.execute(_POSTGRESQL_EVENTS if postgresql else _SQLITE_EVENTS, ids)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def event_ids(connection: sa.Connection) -> tuple[Any, Any]:
    """The lowest and the highest event id (None, None without events). Two lookups: SQLite
    reads both ends of the key only when each is asked for alone, else the whole table."""
    low, high = connection.exec_driver_sql(
        "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)"
    ).one()
    return low, high


def read_heads(connection: sa.Connection) -> dict[int, tuple[str, int, str]]:
    """Every case's number, head sequence and head hash, by case id (the driver's own rows)."""
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute("SELECT id, number, head_seq, head_hash FROM cases")
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return {case_id: (number, seq, digest) for case_id, number, seq, digest in rows}


def first_position(connection: sa.Connection, start: int, size: int, block: int) -> int:
    """Where a run of events from id `start` begins in the log: the position of the first case
    leaf of such an event, down to a whole block (`size` if there is none)."""
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    found = connection.exec_driver_sql(
        "SELECT position FROM log_leaves WHERE kind = 'case' AND row_id >= "  # nosec B608 # a placeholder
        f"{mark} ORDER BY row_id LIMIT 1",
        (start,),
    ).scalar()
    position = size if found is None else min(int(found), size)
    return position - position % block


def add_parts(connection: sa.Connection, found: LeafRun, sizes: list[int], block: int) -> None:
    """The MTH of the leaves from the start of its block up to each size in `sizes` that ends
    inside a block of the run, read again (a few blocks at most)."""
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    for size in sizes:
        if found.low < size <= found.high and size % block and size not in found.parts:
            start = size - size % block
            hashes = connection.exec_driver_sql(
                f"SELECT hash FROM log_leaves WHERE position >= {mark} AND position < {mark} "  # nosec B608 # placeholders
                "ORDER BY position",
                (start, size),
            ).scalars()
            found.parts[size] = mth([bytes(h) for h in hashes]).hex()


def follow_range(
    connection: sa.Connection,
    ids: tuple[int, ...],
    batch: int,
    heads: Mapping[int, tuple[str, int, str]],
    log: Mapping[str, Any] | None = None,
) -> Run:
    """Follow the events with ids in `ids`; with `log` (positions, sizes, level), read and
    match the log's leaves at those positions in the same pass (`LeafReader`).

    Python's cycle collector is off meanwhile: nothing here makes a cycle, and each of its
    full passes would walk every chain followed so far, again and again as they grow."""
    collecting = gc.isenabled()
    gc.disable()
    events = stored_events(connection, (ids[0], ids[1]), batch)
    try:
        with closing(events):
            if log is None:
                return follow(events, heads)
            found = LeafRun()
            reader = LeafReader(connection, {**log, "batch": batch}, found)
            try:
                run = follow(events, heads, reader)
                reader.finish()
            finally:
                reader.close()
            run.leaves = found
            return run
    finally:
        if collecting:
            gc.enable()
