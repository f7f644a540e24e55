"""Case numbers: PREFIX-YEAR-NNNN, given out atomically."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from casework.extensions import db
from casework.models import CaseCounter
from casework.services.db import is_sqlite


def next_number(prefix: str, year: int) -> str:
    """The next case number, PREFIX-YEAR-NNNN; one atomic upsert, safe under concurrency."""
    insert = postgresql.insert if not is_sqlite() else sqlite.insert
    upsert = (
        insert(CaseCounter)
        .values(prefix=prefix, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[CaseCounter.prefix, CaseCounter.year],
            set_={"last": CaseCounter.last + 1},
        )
        .returning(CaseCounter.last)
    )
    last = db.session.execute(upsert).scalar_one()
    return f"{prefix}-{year}-{last:04d}"
