"""Verifying the log: every leaf against its record, the tree against every checkpoint (stored
or kept elsewhere), the kept upper levels against the leaves, and every evidence file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from casework.logcheck import (
    Checkpoint,
    Merkle,
    NoteError,
    Tree,
    VerifierKey,
    compare,
    entry,
    leaf_hash,
    read_checkpoint,
    verify_consistency,
)
from casework.models import LogCheckpoint
from casework.services import log
from casework.services.log import CASE, HEAD, LEAVES_WITH_EVENTS, NODES, TRAILS
from casework.services.log.checked import BlockTree, Checked
from casework.services.log.keys import public_key


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


#: Names at most this many records of one kind of problem, then counts the rest.
NAMED = 20


def verify_log(
    connection: sa.Connection,
    outside: Iterable[tuple[str, str]] = (),
    checked: Checked | None = None,
    *,
    events: int | None = None,
) -> LogReport:
    """Check the whole log in the connection's snapshot.

    Every leaf against the record it stands for (kind, ref and hash); every record of every
    trail in the log once; positions without gaps; the root recomputed and matched against each
    stored checkpoint (signature, size, root, consistency proof) and each checkpoint kept
    elsewhere (`outside`: (where, note text)); case numbers missing from the database that the
    log shows were used (a deleted case); every evidence file re-hashed against its key; the
    tree's kept upper levels (`log_nodes`) against the leaves.

    `checked` is what `verification.verify_chains` found reading the leaves alongside the events, in
    helper processes: when it holds for this snapshot (every position once, every case leaf
    its event's, as many as there are events), the leaves are not read again here. Otherwise
    they are, one by one in position order, and each problem is named. `events`: how many
    events the snapshot holds, when the caller has counted them in it.
    """
    report = LogReport()
    problems = report.problems
    others: dict[str, dict[int, tuple[str, bytes]]] = {}
    tree: Merkle
    if checked is not None and _holds(connection, checked, events):
        report.size = checked.size
        for at, kind, row_id, ref, digest in checked.others:
            _check_other(connection, at, kind, row_id, ref, bytes.fromhex(digest), others, problems)
        tree = BlockTree(checked.size, log.NODE_LEVEL, checked.blocks, checked.parts)
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


def _holds(connection: sa.Connection, checked: Checked, events: int | None) -> bool:
    """Whether what the helpers found is the whole log of this snapshot, and sound."""
    if not checked.sound:
        return False
    if events is None:
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
        if level < log.NODE_LEVEL or high > tree.size:
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
        cursor.execute(LEAVES_WITH_EVENTS)
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
