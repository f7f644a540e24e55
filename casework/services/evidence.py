"""Evidence on a case: files told apart by their content, stored by SHA-256 in the same
transaction as the event that records them, and downloaded by those who may read the case."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa

from casework.errors import Forbidden, InvalidFields, NotFound, TooLarge
from casework.extensions import db
from casework.library import library
from casework.models import Attachment, Blob, Case, User, utcnow
from casework.services.activity import record_access
from casework.services.audit import append_event
from casework.services.loading import LoadedCase, require_full
from casework.services.opening import opened_now

#: The longest note, unless CASEWORK_NOTE_MAX_CHARS says otherwise.
NOTE_MAX = 4_000
#: What a stored note adds to its text: `{"text":""}`.
_NOTE_JSON_OVERHEAD = 11

#: Accepted evidence, told apart by content, never by name: media type and file extension.
ACCEPTED = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}
_UNSAFE_NAME = re.compile(r"[\\/:*?\"<>|]")


def sniff(data: bytes) -> str | None:
    """The media type of a file's content, if it is one Casework accepts."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    return "text/plain"


def clean_filename(name: Any, media_type: str) -> str:
    """A file name safe to show and to offer for download, ending in its content's extension."""
    text = name if isinstance(name, str) else ""
    text = text.split("\x00", 1)[0]
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    text = _UNSAFE_NAME.sub("_", text).strip(" .")[:200] or "evidence"
    extension = ACCEPTED[media_type]
    if not text.lower().endswith(extension) and not (
        extension == ".jpg" and text.lower().endswith(".jpeg")
    ):
        text += extension
    return text


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    name: str
    size: int
    media_type: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "name": self.name,
            "size": self.size,
            "type": self.media_type,
        }


def attach(
    actor: User,
    loaded: LoadedCase,
    filename: Any,
    stream: IO[bytes],
    *,
    now: datetime | None = None,
) -> StoredFile:
    """Store an evidence file in the database and attach it to the case, with its audit event.

    Raises `TooLarge` past the upload limit and `InvalidFields` for a type Casework does not accept.
    """
    require_full(loaded.access)
    return _store(actor, loaded.case, filename, stream, now)


def attach_sent_with(
    actor: User, case: Case, filename: Any, stream: IO[bytes], *, now: datetime | None = None
) -> StoredFile:
    """Evidence sent with a new case by whoever opened it, in the transaction that opened it:
    a reporter who will see only a receipt may still send evidence with the report.

    Raises as `attach`, and `Forbidden` for any other case.
    """
    if case.reporter_id != actor.id or not opened_now(case):
        raise Forbidden("Evidence can be sent with a report only as it is sent.")
    return _store(actor, case, filename, stream, now)


def _store(
    actor: User, case: Case, filename: Any, stream: IO[bytes], now: datetime | None
) -> StoredFile:
    limit = library().max_upload_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"The file is larger than {limit // (1024 * 1024)} MB.")
    if not data:
        raise InvalidFields({"file": ["The file is empty."]})
    media_type = sniff(data)
    if media_type is None:
        raise InvalidFields({"file": ["Only PNG, JPEG, PDF and plain-text files are accepted."]})
    digest = hashlib.sha256(data).hexdigest()
    name = clean_filename(filename, media_type)
    now = now or utcnow()
    existing = db.session.execute(
        sa.select(Attachment).where(Attachment.case_id == case.id, Attachment.sha256 == digest)
    ).scalar_one_or_none()
    if existing is not None:
        return StoredFile(existing.sha256, existing.name, existing.size, existing.media_type)
    blob = db.session.get(Blob, digest)
    if blob is None:
        blob = Blob(
            sha256=digest, content=data, size=len(data), media_type=media_type, created_at=now
        )
        db.session.add(blob)
    db.session.add(
        Attachment(
            case_id=case.id,
            blob=blob,
            name=name,
            size=len(data),
            media_type=media_type,
            uploaded_by_id=actor.id,
            uploaded_at=now,
        )
    )
    stored = StoredFile(digest, name, len(data), media_type)
    append_event(
        case, actor.username, "attachment", stored.as_dict(), at=now, changes={"updated_at": now}
    )
    return stored


#: A case's evidence in the order it came (built once: every case page and case asks).
_ATTACHMENTS = (
    sa.select(Attachment)
    .where(Attachment.case_id == sa.bindparam("case_id"))
    .order_by(Attachment.uploaded_at, Attachment.id)
)


def attachments(case: Case) -> list[Attachment]:
    return list(db.session.execute(_ATTACHMENTS, {"case_id": case.id}).scalars())


def download(actor: User, loaded: LoadedCase, sha256: Any) -> tuple[Attachment, bytes]:
    """An attached file's record and content; the download is recorded on the case."""
    case, workflow, access = loaded
    require_full(access)
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise NotFound("There is no such attachment on this case.")
    found = db.session.execute(
        sa.select(Attachment).where(Attachment.case_id == case.id, Attachment.sha256 == sha256)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("There is no such attachment on this case.")
    blob = db.session.get(Blob, sha256)
    assert blob is not None
    record_access(actor, case, workflow, "download", {"sha256": sha256, "name": found.name})
    return found, blob.content
