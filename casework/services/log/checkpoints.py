"""Checkpoints: the log as it is now signed, proved to extend the checkpoint before, and
handed to the witnesses."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.logcheck import Checkpoint, verify_consistency
from casework.models import LogCheckpoint, utcnow
from casework.services.log import NODES, LogError
from casework.services.log.keys import signing_key
from casework.services.log.tree import StoredTree, log_size, read_leaves, store_nodes
from casework.services.log.witnesses import mail_witnesses, write_witness_file


def latest_checkpoint() -> LogCheckpoint | None:
    return db.session.execute(
        sa.select(LogCheckpoint).order_by(LogCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def latest_checkpoint_id() -> int | None:
    found: int | None = db.session.execute(sa.select(sa.func.max(LogCheckpoint.id))).scalar()
    return found


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
