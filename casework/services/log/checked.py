"""What helper processes found reading the log's leaves alongside the events (see
`chains.LeafReader`), joined into one finding `verify.verify_log` can rely on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from casework.logcheck import EMPTY_ROOT, Merkle, Tree, node_hash
from casework.models import LogCheckpoint
from casework.services import chains, log
from casework.services.log.tree import log_size


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
        position = chains.first_position(connection, start, size, 1 << log.NODE_LEVEL)
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
