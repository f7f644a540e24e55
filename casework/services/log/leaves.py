"""Appending to the log: a trail's record becomes a leaf when its transaction commits.

`append_leaf` only notes the leaf; at commit the pending leaves take the next positions under
the one-row `log_head` lock (`write_leaves`), and a rolled-back savepoint takes its leaves with
it. This runs at every commit that wrote an event: it stays small and close to the driver.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from casework.logcheck import entry, leaf_hash
from casework.services.db import driver_cursor
from casework.services.log import LogError

#: Leaves waiting for their transaction's commit, in `Session.info`.
_PENDING = "casework_log_pending"


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


NO_HEAD = "the log has no head row: the database was not set up by its migrations"
#: PostgreSQL: one leaf takes the next position in one statement (the head's row locked by it).
_APPEND_ONE = (
    "WITH head AS (UPDATE log_head SET size = size + 1 WHERE id = 1 RETURNING size - 1 AS at) "
    "INSERT INTO log_leaves (position, kind, row_id, ref, hash) "
    "SELECT at, %s, %s, %s, %s FROM head RETURNING position"
)


def write_leaves(connection: sa.Connection, leaves: list[tuple[str, int, str, bytes]]) -> int:
    """Give `leaves` (kind, row id, ref, leaf hash) the next positions; return the first.

    Updating `log_head` locks its row until the transaction ends: on PostgreSQL concurrent
    writers queue here, on SQLite they already hold the database's write lock. On the driver's
    own cursor (`driver_cursor`: what the database refuses comes back as SQLAlchemy's error):
    one statement for one leaf on PostgreSQL, else one for the size and one for the leaves, in
    the transaction already begun: this runs at every commit that wrote an event, and needs
    none of SQLAlchemy's statement handling.
    """
    postgresql = connection.dialect.name == "postgresql"
    mark = "%s" if postgresql else "?"
    with driver_cursor(connection) as cursor:
        if postgresql and len(leaves) == 1:
            # One round trip while the row is locked, not two: writers queue on it.
            cursor.execute(_APPEND_ONE, leaves[0])
            found = cursor.fetchone()
            if found is None:
                raise LogError(NO_HEAD)
            return int(found[0])
        cursor.execute(
            f"UPDATE log_head SET size = size + {mark} WHERE id = 1 RETURNING size",  # nosec B608 # a placeholder
            (len(leaves),),
        )
        found = cursor.fetchone()
        if found is None:
            raise LogError(NO_HEAD)
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
    return first


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its leaves wait for the transaction's commit
    if not session.info.get(_PENDING):
        return
    # What is still unwritten goes first (the session flushes only after this hook), so that the
    # log's lock, held to the end of the commit, covers the leaves and the commit alone.
    session.flush()
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
