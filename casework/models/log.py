"""The one log over every trail: its leaves, its size, and the checkpoints signed over it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base


class LogLeaf(Base):
    """One record of a trail (an event of a case …) at its place in the log."""

    __tablename__ = "log_leaves"
    #: A record is a leaf once; found from its row when a record is printed with its proof.
    __table_args__ = (sa.UniqueConstraint("kind", "row_id"),)

    #: 0, 1, 2 … in commit order, across every trail, without gaps. On SQLite the table's row
    #: id (INTEGER PRIMARY KEY): no separate index to write at every commit.
    position: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    #: Which trail: `case` for case events.
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: The record's row id in its trail's table (events.id for `case`).
    row_id: Mapped[int] = mapped_column(sa.BigInteger)
    #: What the entry names: `NUMBER/SEQ` for a case event.
    ref: Mapped[str] = mapped_column(sa.String(100))
    #: RFC 9162 leaf hash, SHA-256(0x00 || entry), 32 bytes.
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class LogHead(Base):
    """One row: the log's size. Writers take it in turn (the lock that orders positions)."""

    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class LogCheckpoint(Base):
    """A signed checkpoint, as it was handed to the witnesses."""

    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: Hex of the root hash at `size`.
    root_hash: Mapped[str] = mapped_column(sa.String(64))
    made_at: Mapped[datetime]
    #: The C2SP signed note, exactly as sent.
    note: Mapped[str] = mapped_column(sa.Text)
    #: The consistency proof from the checkpoint before (hex hashes, space separated).
    proof: Mapped[str] = mapped_column(sa.Text, default="")
    #: Whether it was e-mailed to the witnesses (at most one a day is).
    mailed: Mapped[bool] = mapped_column(default=False)


class LogNode(Base):
    """A whole node of the log's tree at an upper level, kept when a checkpoint is made.

    Node `index` of `level` is MTH of leaves `index·2^level` up to `(index+1)·2^level`; it never
    changes once the log has grown past it. With these, a checkpoint hashes only the leaves added
    since the last one, and a proof reads a few nodes and one block of leaves, not the whole log.
    They are a cache checked against the signed roots: a checkpoint is made only when they agree
    with the one before it, and `casework audit verify` recomputes them from the leaves.
    """

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
