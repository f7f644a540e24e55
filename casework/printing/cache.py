"""Rendered documents kept for reuse, keyed on everything they depend on.

A key is the SHA-256 of what a document is made from: its kind, the audit chain head of every
case it shows (the last event that changed each case), the facts it prints from outside those
chains (people's names, the library's name and time zone), the redaction flag and the layout
version. Nothing else invalidates an entry, and nothing can make one stale: whatever changes a
case moves its chain head, and so asks for a different key. Entries that can no longer be asked
for (an older chain head) are removed when their successor is stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from casework.extensions import db
from casework.models import RenderedDocument, utcnow
from casework.services.audit import canonical_json
from casework.services.db import is_sqlite


def document_key(**parts: Any) -> str:
    """The cache key of a document made from `parts` (plain JSON values)."""
    return hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()


def cached(key: str) -> bytes | None:
    """The rendered document stored under `key`, if any."""
    content: bytes | None = db.session.execute(
        sa.select(RenderedDocument.content).where(RenderedDocument.key == key)
    ).scalar_one_or_none()
    return content


def keep(
    key: str,
    kind: str,
    content: bytes,
    *,
    case_id: int | None = None,
    person_id: int | None = None,
) -> None:
    """Store a rendered document, and drop the same document's older renderings.

    The caller holds the write locks of the cases the document shows, so two printers of the
    same document take turns; the insert still tolerates a row that is already there.
    """
    insert = sqlite.insert if is_sqlite() else postgresql.insert
    db.session.execute(
        insert(RenderedDocument)
        .values(
            key=key,
            kind=kind,
            case_id=case_id,
            person_id=person_id,
            content=content,
            size=len(content),
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[RenderedDocument.key])
    )
    older = sa.delete(RenderedDocument).where(
        RenderedDocument.kind == kind,
        RenderedDocument.key != key,
        RenderedDocument.case_id.is_(None)
        if case_id is None
        else RenderedDocument.case_id == case_id,
        RenderedDocument.person_id.is_(None)
        if person_id is None
        else RenderedDocument.person_id == person_id,
    )
    db.session.execute(older)
