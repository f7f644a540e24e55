"""What every printed document shares: the copy handed to the reader, its settings, its
metadata date, the "generated" stamp, its file name, and rendering it within the time limit.

Each print goes: load what the reader may see (not found otherwise) → work out the document's
key → take it from the cache or render it, outside any write lock → lock the cases, check the
key still holds (render again under the lock in the rare case it does not) → record the print in
each case's audit trail → stamp "generated at / by" on the pages. Nothing here commits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from casework.library import library
from casework.models import User
from casework.presenting.people import titled
from casework.printing import content, render

#: How long one render may take before it is stopped (CASEWORK_PRINT_TIME_LIMIT, seconds).
#: `casework serve` gives gunicorn a worker timeout above the longest print this allows, so the
#: worker answers 503 itself rather than being killed.
DEFAULT_TIME_LIMIT = 25.0


@dataclass(frozen=True)
class Printed:
    """A document as handed to the reader."""

    content: bytes
    filename: str
    #: The events that recorded this print: (case number, sequence).
    recorded: tuple[tuple[str, int], ...]


def time_limit() -> float:
    return float(current_app.config.get("PRINT_TIME_LIMIT", DEFAULT_TIME_LIMIT))


def clock() -> content.Clock:
    return content.Clock(library().tz)


def setting_parts() -> dict[str, Any]:
    """What every document depends on besides its data."""
    lib = library()
    return {
        "layout": render.layout_version(),
        "library": lib.name,
        "tz": lib.tz.key,
        "source_date_epoch": source_date_epoch(),
    }


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH, when set: the date reproducible documents carry in their metadata."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else None


def document_date(latest: datetime | None) -> str | None:
    """The creation date written into a document's metadata: SOURCE_DATE_EPOCH when set, else
    when the newest case it shows last changed (so a rendering depends on its data only)."""
    epoch = source_date_epoch()
    moment = datetime.fromtimestamp(epoch, UTC) if epoch is not None else latest
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generated_line(actor: User, now: datetime, *, anonymous: bool = False) -> str:
    """The stamp on every page: when, and who (their full name and role);
    `anonymous` leaves out who (a public-records copy that names no member of staff)."""
    if anonymous:
        return f"Generated {clock().at(now)} as a public-records copy"
    who = "the casework command line" if "system" in actor.roles else titled(actor)
    return f"Generated {clock().at(now)} by {who}"


def file_name(*parts: str) -> str:
    """A download's file name from its parts, joined by hyphens: letters, digits, dots and
    hyphens only ("Brooks-E1006-history-2026-12-02.pdf")."""
    safe = (
        "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "-" for c in p) for p in parts
    )
    return "-".join(p.strip("-") for p in safe if p.strip("-")) + ".pdf"


def render_pdf(template: str, key: str, **context: Any) -> bytes:
    lib = library()
    html = render.html_of(template, library=lib.name, time_zone=lib.tz.key, **context)
    return render.pdf_of(html, identifier=key[:32].encode(), time_limit=time_limit())
