"""Inclusion proofs for printed records: a case's last event under the latest checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from casework.extensions import db
from casework.models import LogLeaf
from casework.services.log import CASE
from casework.services.log.checkpoints import latest_checkpoint
from casework.services.log.tree import StoredTree


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
