"""What is left of a disposed case: its tombstone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from casework.errors import Gone
from casework.extensions import db
from casework.models import Case, CaseDisposal, DisposalBatch


def disposal_of(case_id: int) -> CaseDisposal | None:
    found: CaseDisposal | None = db.session.execute(
        sa.select(CaseDisposal)
        .where(CaseDisposal.case_id == case_id)
        .options(
            selectinload(CaseDisposal.batch).selectinload(DisposalBatch.confirmed_by),
        )
    ).scalar_one_or_none()
    return found


def tombstone_json(case: Case, disposal: CaseDisposal) -> dict[str, Any]:
    """Number, workflow, dates, series, batch, certificate hash and who confirmed."""
    batch = disposal.batch

    def iso(moment: Any) -> str | None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None

    return {
        "number": case.number,
        "workflow": case.workflow_key,
        "opened_at": iso(case.created_at),
        "closed_at": iso(case.closed_at),
        "disposed_at": iso(disposal.disposed_at),
        "series": batch.series,
        "schedule": batch.schedule,
        "batch": batch.id,
        "certificate_sha256": batch.certificate_sha256,
        "confirmed_by": batch.confirmed_by.username if batch.confirmed_by else None,
        "events_kept": disposal.erased_through + 1,
    }


def gone(case: Case, disposal: CaseDisposal) -> Gone:
    t = tombstone_json(case, disposal)
    return Gone(
        f"{case.number} was disposed of on {t['disposed_at'][:10]} under the retention schedule "
        f"(series {t['series']}, schedule {t['schedule']}; disposal batch {t['batch']}, "
        f"certificate SHA-256 {t['certificate_sha256']}, confirmed by {t['confirmed_by']}). "
        "Only its number, dates and audit trail hashes are kept.",
        t,
    )


#: Whether the case was disposed of: a column of the statement that loads it (`loading`), so
#: that opening a case asks no second question; only a disposed case has its tombstone read.
DISPOSED = sa.exists().where(CaseDisposal.case_id == Case.id).correlate(Case).label("disposed")


def refuse_disposed(case: Case) -> None:
    """`Gone` with the tombstone of a case that `DISPOSED` found disposed of."""
    disposal = disposal_of(case.id)
    if disposal is not None:
        raise gone(case, disposal)
