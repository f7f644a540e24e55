"""The one log over every trail: leaves appended at commit, signed checkpoints, witnesses, checks.

Every record of a trail (each event of each case; the administration trail's events) is a leaf
of one append-only Merkle log (RFC 9162 hashing; the formats are in `casework.logcheck`). A
trail calls `leaves.append_leaf` in the transaction that writes its record; the leaf's position
is given when that transaction commits, under the one-row `log_head` lock, so positions follow
commit order without gaps on SQLite and PostgreSQL alike, and the lock is held only for the
commit itself (a writer never waits for it while holding a case, so it cannot deadlock).

A checkpoint (`checkpoints.make_checkpoint`) signs the log's size and root with an Ed25519 key
kept outside the database (`keys`), proves it consistent with the checkpoint before, and goes to
the witnesses (`witnesses`): the database, a folder, e-mail, and every printed record
(`proofs`). `verify.verify_log` checks the database against its own checkpoints and against any
kept elsewhere; `export` writes the log for the standalone checker.

This package holds what its modules share: the log's tables, the kinds of leaf and the trails
registered, and its error. One module a job:

- `leaves`: appending a trail's record, written at commit;
- `keys`: the signing key and the public key checkpoints are checked with;
- `tree`: the tree read from the database, and its kept upper levels;
- `checkpoints`: signing the log as it is now;
- `witnesses`: checkpoints kept outside the database (a folder, e-mail);
- `proofs`: the inclusion proof a printed record carries;
- `checked`: what helper processes found reading the leaves alongside the events, joined;
- `verify`: the whole log checked against its records and checkpoints;
- `export`: the log written as `casework.logcheck` reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import cast

import sqlalchemy as sa

from casework.errors import CaseworkError
from casework.models import LogHead, LogLeaf, LogNode
from casework.services import chains

LEAVES = cast(sa.Table, LogLeaf.__table__)
HEAD = cast(sa.Table, LogHead.__table__)
NODES = cast(sa.Table, LogNode.__table__)
#: The lowest level whose whole nodes are kept (`log_nodes`): one node per 2^8 leaves and up.
NODE_LEVEL = chains.NODE_LEVEL
#: The kind of leaf an event of a case is.
CASE = "case"

#: How the leaves of trails other than cases are checked: kind -> a reader of every record of
#: the trail as (row id, ref, the trail's hash of it). The administration trail registers here.
TRAILS: dict[str, Callable[[sa.Connection], Iterable[tuple[int, str, bytes]]]] = {}

#: Every leaf in position order, with the event a case leaf stands for (checked and exported).
LEAVES_WITH_EVENTS = (
    "SELECT l.position, l.kind, l.row_id, l.ref, l.hash, c.number, e.seq, e.hash "
    "FROM log_leaves l LEFT JOIN events e ON l.kind = 'case' AND e.id = l.row_id "
    "LEFT JOIN cases c ON c.id = e.case_id ORDER BY l.position"
)


class LogError(CaseworkError):
    """The log cannot be signed as it is (no key, or it no longer extends its checkpoint)."""
