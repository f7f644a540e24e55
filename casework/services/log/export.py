"""The log exported as `casework.logcheck` reads it, for an auditor to check on their own."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from casework.logcheck import EXPORT_FORMAT
from casework.models import LogCheckpoint
from casework.services.log import CASE, LEAVES_WITH_EVENTS, TRAILS
from casework.services.log.keys import public_key


def export_log(connection: sa.Connection, out: Any) -> int:
    """Write the log as `casework.logcheck` reads it: a header, one line per leaf (position,
    kind, ref, the record's hash, the leaf hash), then every checkpoint. Returns the leaves."""
    key = public_key()
    out.write(json.dumps({"format": EXPORT_FORMAT, "key": str(key) if key else None}) + "\n")
    others: dict[str, dict[int, tuple[str, bytes]]] = {}
    written = 0
    rows = connection.execution_options(yield_per=10_000).exec_driver_sql(LEAVES_WITH_EVENTS)
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
