"""The certificate of records disposal of a batch (after Ohio's form RC-3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casework.library import library
from casework.models import User
from casework.printing.cache import document_key
from casework.printing.documents import clock, document_date, generated_line, render_pdf
from casework.printing.stamp import stamp


def certificate_pdf(batch: Any, period: str, actor: User, now: datetime) -> bytes:
    """The certificate of records disposal (after Ohio's form RC-3) of a batch: the series,
    its schedule number and period, the date range, the number of cases and their numbers."""
    lib = library()
    wait = f"{batch.wait_until.isoformat()}"
    pdf = render_pdf(
        "certificate.html",
        document_key(kind="certificate", batch=batch.id, numbers=batch.numbers),
        batch=batch,
        period=period,
        numbers=batch.numbers,
        wait_until=wait,
        prepared=clock().at(now),
        prepared_by=actor.display_name or actor.username,
        created=document_date(now),
        title=f"Certificate of records disposal: {batch.series}",
        subject=f"{lib.name}: records of series {batch.schedule} to be disposed of",
    )
    return stamp(pdf, generated_line(actor, now))
