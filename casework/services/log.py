"""The one log over every trail: leaves appended at commit, signed checkpoints, witnesses, checks.

Every record of a trail (each event of each case; the administration trail's events) is a leaf
of one append-only Merkle log (RFC 9162 hashing; the formats are in `casework.logcheck`). A
trail calls `append_leaf` in the transaction that writes its record; the leaf's position is
given when that transaction commits, under the one-row `log_head` lock, so positions follow
commit order without gaps on SQLite and PostgreSQL alike, and the lock is held only for the
commit itself (a writer never waits for it while holding a case, so it cannot deadlock).

A checkpoint (`make_checkpoint`) signs the log's size and root with an Ed25519 key kept outside
the database, proves it consistent with the checkpoint before, and goes to the witnesses: the
database, a folder, e-mail, and every printed record. `verify_log` checks the database against
its own checkpoints and against any kept elsewhere.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from casework.errors import CaseworkError
from casework.extensions import db
from casework.logcheck import (
    EMPTY_ROOT,
    EXPORT_FORMAT,
    Checkpoint,
    Merkle,
    NoteError,
    SignerKey,
    Tree,
    VerifierKey,
    compare,
    entry,
    leaf_hash,
    mth,
    node_hash,
    read_checkpoint,
    verify_consistency,
)
from casework.models import (
    LogCheckpoint,
    LogHead,
    LogLeaf,
    LogNode,
    OutboxMessage,
    User,
    UserRole,
    utcnow,
)
from casework.services import chains

LEAVES = cast(sa.Table, LogLeaf.__table__)
HEAD = cast(sa.Table, LogHead.__table__)
NODES = cast(sa.Table, LogNode.__table__)
#: The lowest level whose whole nodes are kept (`log_nodes`): one node per 2^8 leaves and up.
NODE_LEVEL = chains.NODE_LEVEL
#: The kind of leaf an event of a case is.
CASE = "case"
#: Leaves waiting for their transaction's commit, in `Session.info`.
_PENDING = "casework_log_pending"
#: The signing key's file in the instance folder, unless SIGNING_KEY_FILE names one.
KEY_FILE = "log_signing_key"


class LogError(CaseworkError):
    """The log cannot be signed as it is (no key, or it no longer extends its checkpoint)."""


# --- appending --------------------------------------------------------------------------------


@dataclass
class _Leaf:
    kind: str
    row_id: int
    ref: str
    hash: bytes
    #: The savepoint (or transaction) it was appended in, so a rollback to it drops it.
    transaction: SessionTransaction | None


def append_leaf(session: Session, kind: str, row_id: int, ref: str, data: bytes) -> None:
    """Make a trail's record a leaf of the log, when the caller's transaction commits.

    `kind` names the trail (`case`, `admin` …), `row_id` the record's row in its table, `ref`
    what the record is to a reader (`CMP-2026-0042/7`), `data` the trail's own hash of it. The
    leaf's entry binds all three (see `casework.logcheck.entry`). Nothing is written now: at
    commit the pending leaves take the next positions, in one statement each for the size and
    the leaves. A rolled-back savepoint takes its leaves with it.
    """
    transaction = session.get_nested_transaction() or session.get_transaction()
    leaf = _Leaf(kind, row_id, ref, leaf_hash(entry(kind, ref, data)), transaction)
    session.info.setdefault(_PENDING, []).append(leaf)


def write_leaves(connection: sa.Connection, leaves: list[tuple[str, int, str, bytes]]) -> int:
    """Give `leaves` (kind, row id, ref, leaf hash) the next positions; return the first.

    Updating `log_head` locks its row until the transaction ends: on PostgreSQL concurrent
    writers queue here, on SQLite they already hold the database's write lock. Two statements
    on the driver's own cursor, in the transaction already begun: this runs at every commit
    that wrote an event, and needs none of SQLAlchemy's statement handling.
    """
    mark = "%s" if connection.dialect.name == "postgresql" else "?"
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute(
            f"UPDATE log_head SET size = size + {mark} WHERE id = 1 RETURNING size",  # nosec B608 # a placeholder
            (len(leaves),),
        )
        found = cursor.fetchone()
        if found is None:
            raise LogError("the log has no head row: the database was not set up by its migrations")
        first = int(found[0]) - len(leaves)
        insert = (
            "INSERT INTO log_leaves (position, kind, row_id, ref, hash) "  # nosec B608 # placeholders
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )
        if len(leaves) == 1:  # most commits write one event: no executemany machinery
            cursor.execute(insert, (first, *leaves[0]))
        else:
            cursor.executemany(
                insert,
                [
                    (first + n, kind, row_id, ref, digest)
                    for n, (kind, row_id, ref, digest) in enumerate(leaves)
                ],
            )
    finally:
        cursor.close()
    return first


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its leaves wait for the transaction's commit
    pending: list[_Leaf] | None = session.info.pop(_PENDING, None)
    if pending:
        write_leaves(session.connection(), [(p.kind, p.row_id, p.ref, p.hash) for p in pending])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Leaf] | None = session.info.get(_PENDING)
    if not pending:
        return
    if previous.parent is None:
        session.info.pop(_PENDING, None)
    elif previous.nested:
        session.info[_PENDING] = [p for p in pending if not _within(p.transaction, previous)]


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def case_leaf(number: str, seq: int, digest: str) -> tuple[str, bytes]:
    """The ref and leaf hash of event `seq` of case `number` whose hash is `digest`."""
    ref = f"{number}/{seq}"
    return ref, hashlib.sha256(
        b"\x00case\n" + ref.encode() + b"\n" + bytes.fromhex(digest)
    ).digest()


# --- the key ----------------------------------------------------------------------------------


def key_path() -> Path:
    configured = current_app.config.get("SIGNING_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / KEY_FILE


def ensure_signing_key() -> tuple[Path, VerifierKey, bool]:
    """The signing key's file, its public key, and whether it was made now (`casework init`)."""
    path = key_path()
    if path.is_file():
        return path, signing_key().verifier, False
    origin = current_app.config.get("LOG_ORIGIN") or f"casework.log/{os.urandom(4).hex()}"
    key = SignerKey.generate(str(origin))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(f"{key}\n")
    return path, key.verifier, True


def signing_key() -> SignerKey:
    """The log's signing key, read from its file; LogError when there is none."""
    path = key_path()
    try:
        return SignerKey.parse(path.read_text())
    except OSError as exc:
        raise LogError(
            f"no signing key at {path} ({exc.strerror}): run `casework init`, or set "
            "CASEWORK_SIGNING_KEY_FILE"
        ) from exc
    except NoteError as exc:
        raise LogError(f"{path}: {exc}") from exc


def public_key() -> VerifierKey | None:
    """The key checkpoints are checked with: CASEWORK_LOG_PUBLIC_KEY, else the signing key's."""
    configured = current_app.config.get("LOG_PUBLIC_KEY")
    if configured:
        return VerifierKey.parse(str(configured))
    try:
        return signing_key().verifier
    except LogError:
        return None


# --- reading the tree -------------------------------------------------------------------------


def read_tree(connection: sa.Connection, size: int | None = None) -> Tree:
    """The tree over the first `size` leaves (all by default); LogError if positions skip."""
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        if size is None:
            cursor.execute("SELECT position, hash FROM log_leaves ORDER BY position")
        else:
            marker = "%s" if connection.dialect.name == "postgresql" else "?"
            cursor.execute(
                f"SELECT position, hash FROM log_leaves WHERE position < {marker} "  # nosec B608 # a placeholder
                "ORDER BY position",
                (size,),
            )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    hashes = [bytes(digest) for _, digest in rows]
    if rows and (rows[0][0] != 0 or rows[-1][0] != len(rows) - 1):
        missing = next(n for n, (position, _) in enumerate(rows) if position != n)
        raise LogError(f"the log skips position {missing}: leaves were removed")
    return Tree(hashes)


def read_leaves(connection: sa.Connection, low: int, high: int) -> list[bytes]:
    """The leaf hashes at positions `low` up to `high` (excluded); LogError if one is missing."""
    driver: Any = connection.connection.driver_connection
    postgresql = connection.dialect.name == "postgresql"
    marker = "%s" if postgresql else "?"
    # PostgreSQL: rows in binary, so the hashes come as their bytes, not hex text to decode.
    cursor = driver.cursor(binary=True) if postgresql else driver.cursor()
    try:
        cursor.execute(
            f"SELECT position, hash FROM log_leaves WHERE position >= {marker} "  # nosec B608 # placeholders
            f"AND position < {marker} ORDER BY position",
            (low, high),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if len(rows) != high - low or (rows and (rows[0][0] != low or rows[-1][0] != high - 1)):
        at = next((low + n for n, (p, _) in enumerate(rows) if p != low + n), low + len(rows))
        raise LogError(f"the log skips position {at}: leaves were removed")
    return [bytes(digest) for _, digest in rows]


class StoredTree(Merkle):
    """The log's tree of `size` leaves, read as needed: whole nodes from `NODE_LEVEL` up from
    `log_nodes` (computed from the leaves when not kept), anything smaller from its block of
    leaves. A root or a proof reads O(log n) nodes and at most two blocks of leaves."""

    def __init__(self, connection: sa.Connection, size: int) -> None:
        self.connection = connection
        self.size = size
        self.block = 1 << NODE_LEVEL
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._blocks: dict[int, list[bytes]] = {}

    def subtree(self, low: int, high: int) -> bytes:
        span = high - low
        level = (span - 1).bit_length()
        if span == 1 << level and low % span == 0 and level >= NODE_LEVEL:
            return self.node(level, low >> level)
        if low >> NODE_LEVEL == (high - 1) >> NODE_LEVEL:  # within one block of leaves
            start = low - low % self.block
            leaves = self._blocks.get(start)
            if leaves is None:
                leaves = read_leaves(self.connection, start, min(start + self.block, self.size))
                self._blocks = {start: leaves}  # one at a time: a proof needs one or two
            return mth(leaves[low - start : high - start])
        half = 1 << (level - 1)
        return node_hash(self.subtree(low, low + half), self.subtree(low + half, high))

    def node(self, level: int, index: int) -> bytes:
        """Whole node `index` of `level` (≥ NODE_LEVEL), kept or computed from the leaves."""
        found = self._nodes.get((level, index))
        if found is None:
            found = self.connection.execute(
                sa.select(NODES.c.hash).where(NODES.c.level == level, NODES.c.index == index)
            ).scalar_one_or_none()
            if found is None:
                low = index << level
                found = mth(read_leaves(self.connection, low, low + (1 << level)))
            found = self._nodes[(level, index)] = bytes(found)
        return found


def store_nodes(connection: sa.Connection, size: int) -> None:
    """Keep every whole node from `NODE_LEVEL` up that the first `size` leaves complete and
    `log_nodes` does not hold yet; only the leaves after the last kept block are read."""
    kept = connection.execute(
        sa.select(sa.func.count()).select_from(NODES).where(NODES.c.level == NODE_LEVEL)
    ).scalar_one()
    blocks = size >> NODE_LEVEL
    if blocks <= kept:
        return
    block = 1 << NODE_LEVEL
    leaves = read_leaves(connection, kept * block, blocks * block)
    level = [mth(leaves[n : n + block]) for n in range(0, len(leaves), block)]
    rows: list[dict[str, Any]] = []
    height, first = NODE_LEVEL, kept
    sha256 = hashlib.sha256
    while level:
        rows.extend({"level": height, "index": first + n, "hash": h} for n, h in enumerate(level))
        if first % 2:  # its left sibling was kept before
            left = connection.execute(
                sa.select(NODES.c.hash).where(NODES.c.level == height, NODES.c.index == first - 1)
            ).scalar_one()
            level = [bytes(left), *level]
            first -= 1
        level = [
            sha256(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
        ]
        height, first = height + 1, first // 2
    connection.execute(NODES.insert(), rows)


def latest_checkpoint() -> LogCheckpoint | None:
    return db.session.execute(
        sa.select(LogCheckpoint).order_by(LogCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def latest_checkpoint_id() -> int | None:
    found: int | None = db.session.execute(sa.select(sa.func.max(LogCheckpoint.id))).scalar()
    return found


# --- checkpoints and witnesses ----------------------------------------------------------------


def make_checkpoint(
    now: datetime | None = None, *, only_if_grown: bool = False
) -> LogCheckpoint | None:
    """Sign the log as it is now, prove it extends the last checkpoint, and hand it to witnesses.

    Runs in the caller's transaction (it does not commit). With `only_if_grown` (the sweep),
    nothing is made when the log has not grown since the last checkpoint. Raises LogError when
    the log no longer extends the last checkpoint: the database was changed, and signing it
    would bless the change.
    """
    now = now or utcnow()
    key = signing_key()
    connection = db.session.connection()
    size = log_size(connection)
    previous = latest_checkpoint()
    if previous is not None and only_if_grown and previous.size == size:
        return None
    if previous is None:
        # Kept nodes are trusted only as far as a signed root vouches for them.
        connection.execute(NODES.delete())
    store_nodes(connection, size)
    tree = StoredTree(connection, size)
    if size:
        read_leaves(connection, size - 1, size)  # the head's count is the leaves' count
    proof: list[bytes] = []
    if previous is not None:
        if previous.size > size or tree.root(previous.size).hex() != previous.root_hash:
            raise LogError(
                f"the log no longer extends checkpoint {previous.id} (size {previous.size}): "
                "run `casework audit verify`"
            )
        if 0 < previous.size < size:
            proof = tree.consistency(previous.size)
            # Checked as a witness will check it: proves the proof, not only the tree.
            if not verify_consistency(
                previous.size, size, bytes.fromhex(previous.root_hash), tree.root(), proof
            ):
                raise LogError(
                    f"the log no longer extends checkpoint {previous.id} (size "
                    f"{previous.size}): run `casework audit verify`"
                )
    checkpoint = Checkpoint(
        key.name,
        tree.size,
        tree.root(),
        now.replace(tzinfo=None).isoformat(timespec="seconds") + "Z",
    )
    note = key.sign(checkpoint.text())
    mail_every = timedelta(hours=float(current_app.config.get("WITNESS_MAIL_HOURS") or 0))
    last_mailed = db.session.execute(
        sa.select(sa.func.max(LogCheckpoint.made_at)).where(LogCheckpoint.mailed.is_(True))
    ).scalar_one_or_none()
    mail = last_mailed is None or now.replace(tzinfo=None) - _naive(last_mailed) >= mail_every
    row = LogCheckpoint(
        size=tree.size,
        root_hash=tree.root().hex(),
        made_at=now,
        note=note,
        proof=" ".join(p.hex() for p in proof),
        mailed=mail,
    )
    db.session.add(row)
    db.session.flush()
    write_witness_file(row)
    if mail:
        mail_witnesses(row, now)
    return row


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def write_witness_file(row: LogCheckpoint) -> Path | None:
    """Write the checkpoint to the witness folder (CASEWORK_WITNESS_DIR), if one is set."""
    folder = current_app.config.get("WITNESS_DIR")
    if not folder:
        return None
    path = Path(folder) / f"checkpoint-{row.size:012d}-{row.id}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(row.note, encoding="utf-8")
    except OSError as exc:
        raise LogError(f"cannot write the checkpoint to {folder}: {exc.strerror or exc}") from exc
    return path


def witness_addresses() -> list[str]:
    """CASEWORK_WITNESS_EMAILS (comma separated), else every active trustee with an address."""
    configured = current_app.config.get("WITNESS_EMAILS")
    if configured:
        return [a.strip() for a in str(configured).split(",") if a.strip()]
    from casework.notifications.outbox import ADDRESS

    rows = db.session.execute(
        sa.select(User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "trustee", User.active.is_(True), User.email.is_not(None))
        .order_by(User.email)
    ).scalars()
    return sorted({a for a in rows if a and ADDRESS.match(a)})


def mail_witnesses(row: LogCheckpoint, now: datetime) -> int:
    """Write the checkpoint's e-mail to each witness into the outbox; return how many."""
    library = current_app.config.get("LIBRARY_NAME", "the library")
    text = (
        f"This is a checkpoint of {library}'s Casework audit log: {row.size} records, signed "
        "with the log's key. Keep this message. Whoever checks the records later compares the "
        "database with it (`casework audit verify --checkpoint FILE`, the lines between the "
        "two markers saved as FILE): a database changed, cut back or replaced after today "
        "will not match it.\n\n"
        f"-----BEGIN CHECKPOINT-----\n{row.note}-----END CHECKPOINT-----\n"
    )
    addresses = witness_addresses()
    for address in addresses:
        db.session.add(
            OutboxMessage(
                kind="checkpoint",
                recipient=address,
                subject=f"Casework audit log checkpoint: {row.size} records",
                body_text=text,
                body_html="",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
    return len(addresses)


# --- inclusion proofs for printed records -----------------------------------------------------


@dataclass
class PrintedProof:
    """What a printed record carries: a checkpoint, and its case's last event in it."""

    note: str
    size: int
    seq: int
    position: int
    ref: str
    #: The event's own hash (what its leaf's entry holds).
    digest: str
    hashes: list[str]

    def lines(self) -> list[str]:
        """The proof as printed, and as `python -m casework.logcheck --proof` reads it."""
        return [f"leaf {self.position} {self.size} {self.ref} {self.digest}", *self.hashes]


def proof_for_case(case_id: int) -> PrintedProof | None:
    """The inclusion proof of a case's latest event under the latest checkpoint, if any is."""
    checkpoint = latest_checkpoint()
    if checkpoint is None or checkpoint.size == 0:
        return None
    from casework.models import Event

    found = db.session.execute(
        sa.select(LogLeaf.position, LogLeaf.ref, Event.seq, Event.hash)
        .join(Event, sa.and_(LogLeaf.kind == CASE, LogLeaf.row_id == Event.id))
        .where(Event.case_id == case_id, LogLeaf.position < checkpoint.size)
        .order_by(Event.seq.desc())
        .limit(1)
    ).one_or_none()
    if found is None:
        return None
    tree = StoredTree(db.session.connection(), checkpoint.size)
    hashes = [h.hex() for h in tree.inclusion(found.position)]
    return PrintedProof(
        checkpoint.note, checkpoint.size, found.seq, found.position, found.ref, found.hash, hashes
    )


# --- verifying --------------------------------------------------------------------------------


#: How the leaves of trails other than cases are checked: kind -> a reader of every record of
#: the trail as (row id, ref, the trail's hash of it). The administration trail registers here.
TRAILS: dict[str, Callable[[sa.Connection], Iterable[tuple[int, str, bytes]]]] = {}


@dataclass
class LogReport:
    """What `verify_log` found."""

    size: int = 0
    checkpoints: int = 0
    outside: int = 0
    blobs: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_LEAVES_WITH_EVENTS = (
    "SELECT l.position, l.kind, l.row_id, l.ref, l.hash, c.number, e.seq, e.hash "
    "FROM log_leaves l LEFT JOIN events e ON l.kind = 'case' AND e.id = l.row_id "
    "LEFT JOIN cases c ON c.id = e.case_id ORDER BY l.position"
)


def checkpoint_sizes(connection: sa.Connection, outside: Iterable[tuple[str, str]]) -> list[int]:
    """The sizes of every stored checkpoint and every one kept elsewhere (unchecked here)."""
    sizes = set(connection.execute(sa.select(LogCheckpoint.size)).scalars())
    for _, note in outside:
        lines = note.split("\n")
        if len(lines) > 1 and lines[1].isascii() and lines[1].isdigit():
            sizes.add(int(lines[1]))
    return sorted(sizes)


def positions_of(connection: sa.Connection, starts: list[int]) -> list[tuple[int, int]]:
    """Runs of log positions, one per run of event ids starting at `starts`: each from the
    position of its first event's leaf (down to a whole block), the last up to the log's size.

    Any split is correct (`settle` matches what a run could not); these keep it to a few."""
    size = log_size(connection)
    bounds = [0]
    for start in starts[1:]:
        position = chains.first_position(connection, start, size, 1 << NODE_LEVEL)
        bounds.append(max(bounds[-1], position))
    bounds.append(size)
    return list(itertools.pairwise(bounds))


@dataclass
class Checked:
    """The log as the runs of `chains.LeafReader` found it, settled (see `settle`)."""

    #: Whether every position was there once and every case leaf matched its event.
    sound: bool
    size: int
    matched: int
    blocks: list[bytes]
    parts: dict[int, bytes]
    others: list[list[Any]]


def settle(runs: list[chains.LeafRun]) -> Checked:
    """Join the runs: positions end to end, and what one run could not match matched across."""
    sound = all(run.sound for run in runs)
    expected = 0
    for run in runs:
        sound = sound and run.low == expected
        expected = run.high
    leaves: dict[int, str] = {}
    events: dict[int, str] = {}
    matched = 0
    for run in runs:
        matched += run.matched
        for row_id, digest in run.leaves.items():
            sound = sound and row_id not in leaves
            leaves[row_id] = digest
        events.update(run.events)
    for event_id, digest in events.items():
        if leaves.pop(event_id, None) == digest:
            matched += 1
        else:
            sound = False
    sound = sound and not leaves
    parts: dict[int, bytes] = {}
    for run in runs:
        parts.update((size, bytes.fromhex(h)) for size, h in run.parts.items())
    blocks = [bytes.fromhex(h) for run in runs for h in run.blocks]
    others = [row for run in runs for row in run.others]
    return Checked(sound, expected, matched, blocks, parts, others)


class BlockTree(Merkle):
    """The tree over the roots of whole blocks of `2^level` leaves, and the part-block roots
    of the sizes asked for: enough for the root at each of those sizes, and every whole node
    from `level` up."""

    def __init__(self, size: int, level: int, blocks: list[bytes], parts: dict[int, bytes]):
        self.size = size
        self.level = level
        self.upper = Tree(blocks)
        self.parts = parts

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return self.subtree(0, size) if size else EMPTY_ROOT

    def subtree(self, low: int, high: int) -> bytes:
        span = high - low
        level = (span - 1).bit_length()
        if span == 1 << level and low % span == 0 and level >= self.level:
            return self.upper.levels[level - self.level][low >> level]
        if low >> self.level == (high - 1) >> self.level:
            if low % (1 << self.level) or high not in self.parts:
                raise ValueError(f"leaves {low} to {high} were not kept")
            return self.parts[high]
        half = 1 << (level - 1)
        return node_hash(self.subtree(low, low + half), self.subtree(low + half, high))


#: Names at most this many records of one kind of problem, then counts the rest.
NAMED = 20


def verify_log(
    connection: sa.Connection,
    outside: Iterable[tuple[str, str]] = (),
    checked: Checked | None = None,
) -> LogReport:
    """Check the whole log in the connection's snapshot.

    Every leaf against the record it stands for (kind, ref and hash); every record of every
    trail in the log once; positions without gaps; the root recomputed and matched against each
    stored checkpoint (signature, size, root, consistency proof) and each checkpoint kept
    elsewhere (`outside`: (where, note text)); case numbers missing from the database that the
    log shows were used (a deleted case); every evidence file re-hashed against its key; the
    tree's kept upper levels (`log_nodes`) against the leaves.

    `checked` is what `audit.verify_chains` found reading the leaves alongside the events, in
    helper processes: when it holds for this snapshot (every position once, every case leaf
    its event's, as many as there are events), the leaves are not read again here. Otherwise
    they are, one by one in position order, and each problem is named.
    """
    report = LogReport()
    problems = report.problems
    others: dict[str, dict[int, tuple[str, bytes]]] = {}
    tree: Merkle
    if checked is not None and _holds(connection, checked):
        report.size = checked.size
        for at, kind, row_id, ref, digest in checked.others:
            _check_other(connection, at, kind, row_id, ref, bytes.fromhex(digest), others, problems)
        tree = BlockTree(checked.size, NODE_LEVEL, checked.blocks, checked.parts)
    else:
        tree = _walk_leaves(connection, report, others)
    for kind, reader in TRAILS.items():
        left = others.get(kind)
        if left is None:
            left = {r: (n, d) for r, n, d in reader(connection)}
        for _, (ref, _) in sorted(left.items())[:NAMED]:
            _name(problems, f"{kind} {ref} is not in the log (written behind its back)")
    head = connection.execute(sa.select(HEAD.c.size).where(HEAD.c.id == 1)).scalar_one_or_none()
    if head != report.size:
        problems.append(f"the log holds {report.size} leaves, its head says {head}")
    key = public_key()
    _check_stored(connection, tree, key, report)
    for where, note in outside:
        report.outside += 1
        problems.extend(_against_outside(tree, key, where, note))
    _check_kept(connection, tree, problems)
    _check_blobs(connection, report)
    return report


def _holds(connection: sa.Connection, checked: Checked) -> bool:
    """Whether what the helpers found is the whole log of this snapshot, and sound."""
    if not checked.sound:
        return False
    events = connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    last = connection.exec_driver_sql("SELECT max(position) FROM log_leaves").scalar_one()
    return bool(
        events == checked.matched
        and (last is None and not checked.size or last == checked.size - 1)
    )


def _check_other(
    connection: sa.Connection,
    at: int,
    kind: str,
    row_id: int,
    ref: str,
    digest: bytes,
    others: dict[str, dict[int, tuple[str, bytes]]],
    problems: list[str],
) -> None:
    """A leaf of a trail other than the cases', against its record."""
    if kind not in TRAILS:
        _name(problems, f"log position {at}: a leaf of unknown kind {kind!r}")
        return
    if kind not in others:
        others[kind] = {r: (n, d) for r, n, d in TRAILS[kind](connection)}
    record = others[kind].pop(row_id, None)
    if record is None:
        _name(problems, f"log position {at}: {kind} {ref} is in the log but gone")
    elif record[0] != ref or leaf_hash(entry(kind, ref, record[1])) != digest:
        _name(problems, f"log position {at}: {kind} {ref} was changed")


def _check_kept(connection: sa.Connection, tree: Merkle, problems: list[str]) -> None:
    """The tree's kept upper levels, against the nodes the leaves make."""
    rows = connection.execute(sa.select(NODES.c.level, NODES.c.index, NODES.c.hash))
    for level, index, digest in rows:
        low, high = index << level, (index + 1) << level
        if level < NODE_LEVEL or high > tree.size:
            problems.append(f"the log's kept tree node {level}/{index} lies outside its tree")
        elif tree.subtree(low, high) != bytes(digest):
            problems.append(
                f"the log's kept tree node {level}/{index} (records {low}–{high - 1}) does not "
                "match the records: it was changed"
            )


def _walk_leaves(
    connection: sa.Connection, report: LogReport, others: dict[str, dict[int, tuple[str, bytes]]]
) -> Tree:
    """Every leaf in position order, each against its record, each problem named."""
    problems = report.problems
    hashes: list[bytes] = []
    seen: set[int] = set()
    numbers: set[str] = set()
    sha256 = hashlib.sha256
    prefix = b"\x00case\n"
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor()
    try:
        cursor.execute(_LEAVES_WITH_EVENTS)
        position = 0
        while rows := cursor.fetchmany(10_000):
            for at, kind, row_id, ref, digest, number, seq, event_digest in rows:
                digest = bytes(digest)
                if at != position:
                    problems.append(
                        f"log position {position}: missing (the log jumps to {at}): leaves were "
                        "removed"
                    )
                    position = at
                position += 1
                hashes.append(digest)
                if kind == CASE:
                    numbers.add(ref.partition("/")[0])
                    if row_id in seen:
                        _name(problems, f"log position {at} ({ref}): a second leaf for one event")
                    seen.add(row_id)
                    if event_digest is None:
                        _name(
                            problems,
                            f"log position {at}: event {ref} is in the log but not in the "
                            "database (deleted)",
                        )
                        continue
                    actual = f"{number}/{seq}"
                    if actual != ref:
                        _name(
                            problems,
                            f"log position {at}: the log holds {ref} there, the database "
                            f"{actual} (events moved or reordered)",
                        )
                        continue
                    try:
                        data = bytes.fromhex(event_digest)
                    except ValueError:
                        data = b""
                    if sha256(prefix + ref.encode() + b"\n" + data).digest() != digest:
                        _name(
                            problems,
                            f"log position {at}: event {ref} no longer has the hash the log "
                            "holds for it (rewritten)",
                        )
                    continue
                _check_other(connection, at, kind, row_id, ref, digest, others, problems)
    finally:
        cursor.close()
    report.size = len(hashes)
    _unlogged_events(connection, seen, problems)
    _check_numbers(connection, numbers, problems)
    return Tree(hashes)


def _name(problems: list[str], problem: str) -> None:
    problems.append(problem)


def _unlogged_events(connection: sa.Connection, seen: set[int], problems: list[str]) -> None:
    """Events the log does not hold: written (or renumbered) behind its back."""
    total = connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    if total == len(seen):
        return
    rows = connection.exec_driver_sql(
        "SELECT e.id, c.number, e.seq FROM events e LEFT JOIN cases c ON c.id = e.case_id "
        "ORDER BY e.id"
    )
    named = 0
    for event_id, number, seq in rows:
        if event_id not in seen:
            named += 1
            if named <= NAMED:
                problems.append(
                    f"event {number or '(no case)'}/{seq} is not in the log (written behind "
                    "its back)"
                )
    if named > NAMED:
        problems.append(f"… and {named - NAMED} more events not in the log")


def _check_stored(
    connection: sa.Connection, tree: Merkle, key: VerifierKey | None, report: LogReport
) -> None:
    """Each stored checkpoint: signed, over these leaves, consistent with the one before."""
    rows = connection.execute(
        sa.select(
            LogCheckpoint.id,
            LogCheckpoint.size,
            LogCheckpoint.root_hash,
            LogCheckpoint.note,
            LogCheckpoint.proof,
        ).order_by(LogCheckpoint.id)
    ).all()
    previous: Checkpoint | None = None
    for row_id, size, root_hash, note, proof in rows:
        report.checkpoints += 1
        where = f"checkpoint {row_id} (size {size})"
        if key is None:
            report.problems.append(
                f"{where}: no public key to check it with (CASEWORK_LOG_PUBLIC_KEY)"
            )
            continue
        try:
            found = read_checkpoint(note, key)
        except NoteError as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if found.size != size or found.root.hex() != root_hash:
            report.problems.append(f"{where}: the signed note does not say what the row says")
        report.problems.extend(compare(tree, found, where))
        if previous is not None:
            hashes = [bytes.fromhex(h) for h in proof.split()]
            if found.size < previous.size:
                report.problems.append(f"{where}: smaller than the checkpoint before it")
            elif (
                found.size > previous.size
                and previous.size
                and not verify_consistency(
                    previous.size, found.size, previous.root, found.root, hashes
                )
            ):
                report.problems.append(
                    f"{where}: its consistency proof does not show it extends the one before"
                )
            elif found.size == previous.size and found.root != previous.root:
                report.problems.append(f"{where}: a different root at the same size (a fork)")
        previous = found


def _against_outside(tree: Merkle, key: VerifierKey | None, where: str, note: str) -> list[str]:
    if key is None:
        return [f"{where}: no public key to check it with (CASEWORK_LOG_PUBLIC_KEY)"]
    try:
        found = read_checkpoint(note, key)
    except NoteError as exc:
        return [f"{where}: {exc}"]
    return compare(tree, found, where)


def _check_numbers(connection: sa.Connection, logged: set[str], problems: list[str]) -> None:
    """A case number the log shows was used, missing from the database: a deleted case.

    Other gaps in the numbering are explained: a number is taken before its case is written, and
    a transaction that fails leaves it unused (the log then holds no event of it).
    """
    present = set(connection.exec_driver_sql("SELECT number FROM cases").scalars())
    for number in sorted(logged - present):
        problems.append(f"case {number}: the log holds its events, the database no case (deleted)")


_BLOB = sa.text("SELECT content FROM blobs WHERE sha256 = :key")
_BLOB_CASES = sa.text(
    "SELECT c.number FROM attachments a JOIN cases c ON c.id = a.case_id "
    "WHERE a.sha256 = :key ORDER BY c.number"
)


def _check_blobs(connection: sa.Connection, report: LogReport) -> None:
    """Every evidence file re-hashed against the SHA-256 it is stored under."""
    keys = list(connection.execute(sa.text("SELECT sha256 FROM blobs ORDER BY sha256")).scalars())
    for key in keys:
        content = connection.execute(_BLOB, {"key": key}).scalar_one()
        report.blobs += 1
        if hashlib.sha256(bytes(content)).hexdigest() != key:
            cases = connection.execute(_BLOB_CASES, {"key": key}).scalars()
            on = ", ".join(cases) or "no case"
            report.problems.append(
                f"evidence {key} (on {on}): its bytes no longer hash to its key (replaced)"
            )


def witness_notes(files: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Checkpoints kept elsewhere: the files given, and every one in the witness folder."""
    for name in files:
        yield name, extract_note(Path(name).read_text(encoding="utf-8"))
    folder = current_app.config.get("WITNESS_DIR")
    if folder and Path(folder).is_dir():
        for path in sorted(Path(folder).glob("checkpoint-*.txt")):
            yield str(path), path.read_text(encoding="utf-8")


def witnessed_size() -> int | None:
    """The largest log size a checkpoint in the witness folder vouches for (signatures checked
    with the log's public key); None when there is no such checkpoint."""
    key = public_key()
    if key is None:
        return None
    sizes = []
    for _, note in witness_notes(()):
        try:
            sizes.append(read_checkpoint(note, key).size)
        except NoteError:
            continue
    return max(sizes, default=None)


def log_size(connection: sa.Connection) -> int:
    size: int | None = connection.execute(sa.select(LogHead.size).where(LogHead.id == 1)).scalar()
    return size or 0


def extract_note(text: str) -> str:
    """A checkpoint as kept: the note alone, or an e-mail holding it between the markers."""
    begin, end = "-----BEGIN CHECKPOINT-----\n", "-----END CHECKPOINT-----"
    if begin in text and end in text:
        return text.split(begin, 1)[1].split(end, 1)[0]
    return text.replace("\r\n", "\n")


# --- export -----------------------------------------------------------------------------------


def export_log(connection: sa.Connection, out: Any) -> int:
    """Write the log as `casework.logcheck` reads it: a header, one line per leaf (position,
    kind, ref, the record's hash, the leaf hash), then every checkpoint. Returns the leaves."""
    import json

    key = public_key()
    out.write(json.dumps({"format": EXPORT_FORMAT, "key": str(key) if key else None}) + "\n")
    others: dict[str, dict[int, tuple[str, bytes]]] = {}
    written = 0
    rows = connection.execution_options(yield_per=10_000).exec_driver_sql(_LEAVES_WITH_EVENTS)
    for position, kind, row_id, ref, digest, _, _, event_digest in rows:
        if kind == CASE:
            data = event_digest or ""
        else:
            if kind not in others and kind in TRAILS:
                others[kind] = {r: (n, d) for r, n, d in TRAILS[kind](connection)}
            found = others.get(kind, {}).get(row_id)
            data = found[1].hex() if found else ""
        out.write(json.dumps([position, kind, ref, data, bytes(digest).hex()]) + "\n")
        written += 1
    for (note,) in connection.execute(sa.select(LogCheckpoint.note).order_by(LogCheckpoint.id)):
        out.write(json.dumps({"checkpoint": note}) + "\n")
    return written
