"""The log's tree read from the database: its leaves, its kept upper levels (`log_nodes`),
and a tree that reads only the nodes and leaves a root or a proof needs."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from casework.logcheck import Merkle, Tree, mth, node_hash
from casework.models import LogHead
from casework.services import log
from casework.services.log import NODES, LogError


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
        self.level = log.NODE_LEVEL
        self.block = 1 << self.level
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._blocks: dict[int, list[bytes]] = {}

    def subtree(self, low: int, high: int) -> bytes:
        span = high - low
        level = (span - 1).bit_length()
        if span == 1 << level and low % span == 0 and level >= self.level:
            return self.node(level, low >> level)
        if low >> self.level == (high - 1) >> self.level:  # within one block of leaves
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
        sa.select(sa.func.count()).select_from(NODES).where(NODES.c.level == log.NODE_LEVEL)
    ).scalar_one()
    blocks = size >> log.NODE_LEVEL
    if blocks <= kept:
        return
    block = 1 << log.NODE_LEVEL
    leaves = read_leaves(connection, kept * block, blocks * block)
    level = [mth(leaves[n : n + block]) for n in range(0, len(leaves), block)]
    rows: list[dict[str, Any]] = []
    height, first = log.NODE_LEVEL, kept
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


def log_size(connection: sa.Connection) -> int:
    size: int | None = connection.execute(sa.select(LogHead.size).where(LogHead.id == 1)).scalar()
    return size or 0
