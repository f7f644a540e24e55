"""Disposal under the retention schedule: listing what is due, preparing a batch of one record
series with its certificate (form RC-3), and, after the waiting period, destroying the content.

Disposal destroys a case's content everywhere Casework keeps it: intake fields, the data of
every event (notes, transition text), evidence files no live case shares, kept PDFs, the bodies
of its e-mails and its search text. It keeps a tombstone (`CaseDisposal`) and every event's
sequence, links and hash, so the chains and the log still verify; the disposal is itself an
event, appended after the erased ones and never erased. All of one batch happens in one
transaction, and a case already disposed of is skipped: a confirmation cut short (even by
SIGKILL) changed nothing, and one run again finishes the work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from casework.errors import Forbidden, NotFound, Refused
from casework.extensions import db
from casework.library import library
from casework.models import (
    Attachment,
    Blob,
    Case,
    CaseDisposal,
    DeniedAuthor,
    DisposalBatch,
    Event,
    OutboxMessage,
    Person,
    RenderedDocument,
    User,
    utcnow,
)
from casework.services.access import person_id_of, visible_clause
from casework.services.audit import append_event
from casework.services.definitions import workflow_of
from casework.services.holds import holds_in_force, on_hold
from casework.services.retention import Eligibility, eligibility, local_day
from casework.workflow import Workflow

#: The roles that prepare and confirm disposals.
DISPOSAL_ROLES = frozenset({"records_officer", "director"})
#: How far ahead the lists of cases due for disposal look.
AHEAD_DAYS = 90


@dataclass(frozen=True)
class Due:
    case: Case
    workflow: Workflow
    eligibility: Eligibility
    held: bool

    @property
    def closed_day(self) -> date | None:
        return local_day(self.case.closed_at, library().tz) if self.case.closed_at else None


def require_officer(user: User) -> None:
    if not user.roles & DISPOSAL_ROLES:
        raise Forbidden("Only the records officer or the Library Director handle disposals.")


def scope(user: User) -> sa.ColumnElement[bool]:
    """The cases whose retention `user` may see: a records officer sees every case's number,
    series and dates (never its content) but for cases about themselves; others, the cases
    they may read."""
    if "records_officer" in user.roles:
        person_id = person_id_of(user)
        if person_id is None:
            return sa.true()
        return sa.or_(Case.subject_person_id.is_(None), Case.subject_person_id != person_id)
    return visible_clause(user, receipts=False)


def not_disposed() -> sa.ColumnElement[bool]:
    return ~sa.exists().where(CaseDisposal.case_id == Case.id)


def in_open_batch() -> sa.ColumnElement[bool]:
    """SQL condition on `Case`: listed in a batch not yet confirmed."""
    return sa.exists().where(
        DisposalBatch.confirmed_at.is_(None),
        DisposalBatch.numbers_json.contains(sa.literal('"').concat(Case.number).concat('"')),
    )


def due_cases(user: User, today: date, ahead: int = AHEAD_DAYS) -> list[Due]:
    """Closed cases that may be disposed of by `today + ahead` days, the soonest first."""
    return _due(scope(user), today, ahead)


def _due(where: sa.ColumnElement[bool], today: date, ahead: int) -> list[Due]:
    rows = db.session.execute(
        sa.select(Case, on_hold().label("held"))
        .where(where, Case.closed_at.is_not(None), not_disposed())
        .options(selectinload(Case.subject))
        .order_by(Case.closed_at, Case.id)
    ).all()
    tz = library().tz
    out = []
    for case, held in rows:
        workflow = workflow_of(case)
        separated = case.subject.separated_on if case.subject is not None else None
        found = eligibility(case, workflow, separated, tz)
        if found.within(today, ahead):
            out.append(Due(case, workflow, found, bool(held)))
    out.sort(key=lambda d: (d.eligibility.on or today, d.case.number))
    return out


def all_due(today: date, ahead: int = AHEAD_DAYS) -> list[Due]:
    """`due_cases` over every case (the command line, run by whoever runs the server)."""
    return _due(sa.true(), today, ahead)


def _subject_separated(case: Case) -> date | None:
    if case.subject_person_id is None:
        return None
    person = db.session.get(Person, case.subject_person_id)
    return person.separated_on if person else None


def why_kept(case: Case, workflow: Workflow, today: date) -> str | None:
    """Why the case may not be disposed of today, or None when it may."""
    if holds_in_force(case.id):
        kinds = ", ".join(h.kind_label.lower() for h in holds_in_force(case.id))
        return f"{case.number} is under a legal hold ({kinds}): it may not be disposed of."
    found = eligibility(case, workflow, _subject_separated(case), library().tz)
    if not found.eligible(today):
        return f"{case.number} is not yet eligible for disposal: {found.status}."
    return None


def wait_days() -> int:
    return int(current_app.config.get("DISPOSAL_WAIT_BUSINESS_DAYS", 15))


#: What prints a batch's certificate: the batch, the retention period, who prepared it, when.
Certifier = Callable[[DisposalBatch, str, User, datetime], bytes]


def prepare_batch(
    user: User, schedule: Any, certify: Certifier, *, now: datetime | None = None
) -> DisposalBatch:
    """A batch of every case of the series with schedule number `schedule` that may be
    disposed of today, with its certificate as `certify` prints it; `Refused` (with the
    reasons) when there is none."""
    require_officer(user)
    now = now or utcnow()
    today = local_day(now.replace(tzinfo=None), library().tz)
    due = [
        d
        for d in due_cases(user, today, 0)
        if d.eligibility.rule is not None and d.eligibility.rule.schedule == schedule
    ]
    taken = set(
        db.session.execute(
            sa.select(Case.number).where(in_open_batch(), Case.id.in_([d.case.id for d in due]))
        ).scalars()
    )
    chosen = [d for d in due if not d.held and d.case.number not in taken]
    if not chosen:
        reasons = [why_kept(d.case, d.workflow, today) or "" for d in due if d.held]
        reasons += [f"{n} is already in a batch waiting for confirmation." for n in sorted(taken)]
        detail = " ".join(r for r in reasons if r)
        raise Refused(
            f"No case of the series with schedule number {schedule!s} may be disposed of "
            f"today.{(' ' + detail) if detail else ''}"
        )
    rule = chosen[0].eligibility.rule
    assert rule is not None  # nosec B101 # chosen only among cases with a rule
    closed = [d.closed_day for d in chosen if d.closed_day is not None]
    numbers = sorted(d.case.number for d in chosen)
    wait_until = library().calendar.due(now, wait_days()).astimezone(library().tz).date()
    batch = DisposalBatch(
        series=rule.series,
        schedule=rule.schedule,
        numbers_json=json.dumps(numbers),
        first_day=min(closed),
        last_day=max(closed),
        prepared_by_id=user.id,
        prepared_at=now,
        wait_until=wait_until,
        certificate=b"",
        certificate_sha256="",
    )
    db.session.add(batch)
    db.session.flush()
    content = certify(batch, rule.period, user, now)
    batch.certificate = content
    batch.certificate_sha256 = hashlib.sha256(content).hexdigest()
    db.session.flush()
    return batch


def load_batch(user: User, batch_id: Any, *, write: bool = False) -> DisposalBatch:
    require_officer(user)
    try:
        key = int(batch_id)
    except (TypeError, ValueError):
        key = 0
    if not 0 < key < 2**31:  # beyond any id, and beyond what the database's integer holds
        key = 0
    stmt = sa.select(DisposalBatch).where(DisposalBatch.id == key)
    if write:
        stmt = stmt.with_for_update()
    batch = db.session.execute(stmt).scalar_one_or_none()
    if batch is None:
        raise NotFound("There is no such disposal batch.")
    return batch


def batches(user: User) -> list[DisposalBatch]:
    require_officer(user)
    return list(
        db.session.execute(
            sa.select(DisposalBatch)
            .options(
                selectinload(DisposalBatch.prepared_by), selectinload(DisposalBatch.confirmed_by)
            )
            .order_by(DisposalBatch.id.desc())
        ).scalars()
    )


@dataclass
class Confirmed:
    disposed: list[str]
    #: Cases kept, each with the reason.
    kept: list[str]


def confirm_batch(user: User, batch: DisposalBatch, *, now: datetime | None = None) -> Confirmed:
    """Dispose of every case in the batch that may be disposed of now; the others are kept,
    each with its reason. `Refused` before the waiting period ends. Run again, it disposes of
    what is left and changes nothing else."""
    require_officer(user)
    now = now or utcnow()
    today = local_day(now.replace(tzinfo=None), library().tz)
    if today < batch.wait_until:
        raise Refused(
            f"The waiting period after the certificate ends on {batch.wait_until.isoformat()}: "
            "the batch may be confirmed from that day."
        )
    if batch.confirmed_at is None:
        batch.confirmed_at = now
        batch.confirmed_by_id = user.id
    result = Confirmed([], [])
    cases = db.session.execute(
        sa.select(Case)
        .where(Case.number.in_(batch.numbers))
        .order_by(Case.number)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    ).scalars()
    for case in cases:
        if db.session.get(CaseDisposal, case.id) is not None:
            result.disposed.append(case.number)
            continue
        workflow = workflow_of(case)
        reason = why_kept(case, workflow, today)
        if reason is not None:
            result.kept.append(reason)
            continue
        dispose_case(case, batch, user, now)
        result.disposed.append(case.number)
    db.session.flush()
    return result


def dispose_case(case: Case, batch: DisposalBatch, user: User, now: datetime) -> None:
    """Destroy the case's content and leave its tombstone (the caller has checked it may be)."""
    erased_through = case.head_seq
    connection = db.session.connection()
    db.session.flush()
    connection.execute(
        sa.update(Event)
        .where(Event.case_id == case.id, Event.erased_at.is_(None))
        .values(data_json="{}", erased_at=now)
    )
    _erase_evidence(case)
    subject = case.subject_person_id
    documents = sa.or_(RenderedDocument.case_id == case.id, RenderedDocument.kind == "registry")
    if subject is not None:
        documents = sa.or_(documents, RenderedDocument.person_id == subject)
    connection.execute(sa.delete(RenderedDocument).where(documents))
    connection.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.case_id == case.id)
        .values(subject=f"{case.number} (disposed of)", body_text="", body_html="")
    )
    connection.execute(
        sa.update(DeniedAuthor).where(DeniedAuthor.moderation_case_id == case.id).values(reason="")
    )
    append_event(
        case,
        user.username,
        "disposed",
        {
            "batch": batch.id,
            "series": batch.series,
            "schedule": batch.schedule,
            "certificate_sha256": batch.certificate_sha256,
            "erased_through": erased_through,
        },
        at=now,
        changes={"fields_json": "{}", "title": "", "branch": None, "search_text": case.number},
    )
    db.session.add(
        CaseDisposal(
            case_id=case.id, batch_id=batch.id, disposed_at=now, erased_through=erased_through
        )
    )


def _erase_evidence(case: Case) -> None:
    """Remove the case's evidence files, and the bytes of those no other case holds."""
    connection = db.session.connection()
    keys = list(
        connection.execute(
            sa.select(Attachment.sha256).where(Attachment.case_id == case.id)
        ).scalars()
    )
    if not keys:
        return
    connection.execute(sa.delete(Attachment).where(Attachment.case_id == case.id))
    shared = set(
        connection.execute(
            sa.select(Attachment.sha256).where(Attachment.sha256.in_(keys))
        ).scalars()
    )
    gone = [k for k in keys if k not in shared]
    if gone:
        connection.execute(sa.delete(Blob).where(Blob.sha256.in_(gone)))


def tombstones(user: User, numbers: Iterable[str]) -> dict[str, CaseDisposal]:
    """The disposals of the given cases, by number."""
    rows = db.session.execute(
        sa.select(Case.number, CaseDisposal)
        .join(CaseDisposal, CaseDisposal.case_id == Case.id)
        .where(Case.number.in_(list(numbers)), scope(user))
    ).all()
    return {number: disposal for number, disposal in rows}


def today_for(now: datetime | None = None) -> date:
    moment = now or datetime.now(UTC)
    return moment.astimezone(library().tz).date()
