"""An employee's case history: a cover summary, then the record of every case whose subject
they are, for HR and the Director; the print recorded on each case."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.errors import NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, CaseDisposal, Person, User, utcnow
from casework.presenting.words import file_date
from casework.printing import content
from casework.printing.cache import cached, document_key, keep
from casework.printing.documents import (
    Printed,
    document_date,
    file_name,
    generated_line,
    render_pdf,
    setting_parts,
)
from casework.printing.record import RecordPlan, plan_record
from casework.printing.stamp import stamp
from casework.services.access import Level, case_access
from casework.services.activity import record_access
from casework.services.db import begin_write
from casework.services.loading import load_case
from casework.workflow import Workflow


def _history_cases(actor: User, person: Person, *, write: bool) -> list[tuple[Case, Workflow]]:
    """Every case whose subject is `person`, each loaded as `actor` may see it.

    Raises `NotFound` unless the actor may see all of them in full, and would see any further
    one (so the answer never tells whether a person has cases the actor cannot see).
    """
    missing = NotFound("There is no such person whose case history you may print.")
    system = "system" in actor.roles
    lib = library()
    if not system:
        for workflow in lib.workflows:
            if workflow.access.subject_field is None:
                continue
            unseen = Case(
                workflow_key=workflow.key,
                subject_person_id=person.id,
                confidential=workflow.access.confidential,
                reporter_id=0,
            )
            if case_access(actor, unseen, workflow).level is not Level.FULL:
                raise missing
    # A disposed case is not part of the history any more (its tombstone answers for it).
    numbers = db.session.execute(
        sa.select(Case.number)
        .where(
            Case.subject_person_id == person.id,
            ~sa.exists().where(CaseDisposal.case_id == Case.id),
        )
        .order_by(Case.created_at, Case.id)
    ).scalars()
    out = []
    for number in list(numbers):
        try:
            case, workflow, access = load_case(actor, number, write=write)
        except NotFound:
            raise missing from None
        if not access.full:
            raise missing
        out.append((case, workflow))
    return out


@dataclass(frozen=True)
class HistoryPlan:
    person: content.PersonFacts
    records: tuple[RecordPlan, ...]
    key: str

    def chain_heads(self) -> list[tuple[Case, Workflow, dict[str, Any]]]:
        return [(p.case, p.workflow, p.chain_head()) for p in self.records]


def plan_history(
    person: Person, cases: Sequence[tuple[Case, Workflow]], reader: User
) -> HistoryPlan:
    facts = content.PersonFacts(person.id, person.name, person.employee_id, person.branch)
    records = tuple(plan_record(case, workflow, False, reader) for case, workflow in cases)
    key = document_key(
        kind="history",
        person=dataclasses.asdict(facts),
        records=[p.key for p in records],
        **setting_parts(),
    )
    return HistoryPlan(facts, records, key)


def render_history(plan: HistoryPlan) -> bytes:
    records = [p.build() for p in plan.records]
    person = plan.person
    return render_pdf(
        "history.html",
        plan.key,
        person=person,
        records=records,
        created=document_date(max((p.head_at for p in plan.records if p.head_at), default=None)),
        title=f"Employee case history: {person.name}",
        subject=f"Social media policy cases of {person.name}, employee {person.employee_id}",
    )


def find_person(person_id: Any) -> Person | None:
    if isinstance(person_id, str):
        person_id = int(person_id) if person_id.isdigit() else None
    if not isinstance(person_id, int) or not 0 < person_id < 2**31:
        return None
    return db.session.get(Person, person_id)


def employee_history_pdf(actor: User, person_id: Any, *, now: datetime | None = None) -> Printed:
    """Every case of one person, a cover summary then each record; for HR and the Director.

    Raises `NotFound` for an unknown person and for a reader who may not see every one of the
    person's cases (the subject of a case never gets their own history).
    """
    person = find_person(person_id)
    if person is None:
        raise NotFound("There is no such person whose case history you may print.")
    plan = plan_history(person, _history_cases(actor, person, write=False), actor)
    pdf = cached(plan.key) or render_history(plan)
    begin_write()
    locked = plan_history(person, _history_cases(actor, person, write=True), actor)
    if locked.key != plan.key:
        pdf = cached(locked.key) or render_history(locked)
    keep(locked.key, "history", pdf, person_id=person.id)
    now = now or utcnow()
    recorded = []
    for case, workflow, head in locked.chain_heads():
        data = {"document": "history", "person": person.id, "redacted": False, "chain_head": head}
        record_access(actor, case, workflow, "print", data, at=now)
        recorded.append((case.number, case.head_seq))
    return Printed(
        stamp(pdf, generated_line(actor, now)),
        file_name(locked.person.surname, person.employee_id, "history", file_date(now)),
        tuple(recorded),
    )
