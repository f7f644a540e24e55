"""Witnesses: checkpoints kept outside the database, in a folder and by e-mail, and read back
from there to be checked against."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from casework.extensions import db
from casework.logcheck import NoteError, read_checkpoint
from casework.models import LogCheckpoint, OutboxMessage, User, UserRole
from casework.models.user import ADDRESS
from casework.services.log import LogError
from casework.services.log.keys import public_key


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


def extract_note(text: str) -> str:
    """A checkpoint as kept: the note alone, or an e-mail holding it between the markers."""
    begin, end = "-----BEGIN CHECKPOINT-----\n", "-----END CHECKPOINT-----"
    if begin in text and end in text:
        return text.split(begin, 1)[1].split(end, 1)[0]
    return text.replace("\r\n", "\n")
