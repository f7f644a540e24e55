"""A case's printed record, or its public-records copy: planned, rendered or taken from the
cache, and its print recorded on the case."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, User, utcnow
from casework.presenting.people import staff_of
from casework.presenting.words import file_date
from casework.printing import content
from casework.printing.cache import cached, document_key, keep
from casework.printing.documents import (
    Printed,
    clock,
    document_date,
    file_name,
    generated_line,
    render_pdf,
    setting_parts,
)
from casework.printing.stamp import stamp
from casework.services.activity import record_access
from casework.services.loading import load_case, require_full
from casework.services.log.checkpoints import latest_checkpoint_id
from casework.services.log.proofs import proof_for_case
from casework.services.unseen import numbers_in, unseen_numbers
from casework.workflow import Workflow


@dataclass(frozen=True)
class RecordPlan:
    """What a case's record will show, and the key it is kept under."""

    case: Case
    workflow: Workflow
    redacted: bool
    head_seq: int
    head_hash: str
    head_at: datetime | None
    people: dict[int, content.PersonFacts]
    #: Numbers of cases the reader may not see, which the record leaves out.
    hidden: frozenset[str]
    key: str

    @property
    def kind(self) -> str:
        return "public-record" if self.redacted else "record"

    def build(self) -> content.Record:
        return content.build_record(
            self.case,
            self.workflow,
            through=self.head_seq,
            people=self.people,
            clock=clock(),
            redacted=self.redacted,
            hidden=self.hidden,
        )

    def chain_head(self) -> dict[str, Any]:
        return {"seq": self.head_seq, "hash": self.head_hash}


def plan_record(case: Case, workflow: Workflow, redacted: bool, reader: User) -> RecordPlan:
    """What `reader` gets when printing `case`: the numbers of linked cases they may not see are
    left out, so the record (and the key it is kept under) depends on them."""
    seq, digest, at = content.content_head(case)
    people = content.people_of([(case, workflow)])
    stored = db.session.execute(
        sa.select(Event.data_json).where(Event.case_id == case.id, Event.seq <= seq)
    ).scalars()
    hidden = unseen_numbers(reader, numbers_in([case.fields, *stored]) - {case.number})
    key = document_key(
        kind="public-record" if redacted else "record",
        case=case.number,
        head=[seq, digest],
        definition=workflow.digest,
        people=[dataclasses.asdict(p) for _, p in sorted(people.items())],
        # Staff are named by full name and role: a change of either is a new document.
        staff=[
            [m.username, m.name, sorted(m.roles)]
            for _, m in sorted(staff_of(case, content.events_through(case, seq)).items())
        ],
        # A record prints the latest checkpoint of the log: a new one is a new document.
        checkpoint=latest_checkpoint_id(),
        hidden=sorted(hidden),
        **setting_parts(),
    )
    return RecordPlan(case, workflow, redacted, seq, digest, at, people, hidden, key)


def render_record(plan: RecordPlan) -> bytes:
    record = plan.build()
    kind = "Public-records copy" if plan.redacted else "Case record"
    return render_pdf(
        "record.html",
        plan.key,
        r=record,
        proof=proof_for_case(plan.case.id),
        created=document_date(plan.head_at),
        title=f"{kind} {record.number}",
        subject=f"{kind} of {record.workflow_title.lower()} case {record.number}",
    )


def case_record_pdf(
    actor: User, number: Any, *, redacted: bool = False, now: datetime | None = None
) -> Printed:
    """A case's record (a public-records copy when `redacted`), its print recorded on the case.

    Raises `NotFound` for a case the actor cannot see and `Forbidden` for a receipt-only reader.
    """
    case, workflow, access = load_case(actor, number)
    require_full(access)
    plan = plan_record(case, workflow, redacted, actor)
    pdf = cached(plan.key) or render_record(plan)
    case, workflow, access = load_case(actor, number, write=True)
    require_full(access)
    locked = plan_record(case, workflow, redacted, actor)
    if locked.key != plan.key:
        pdf = cached(locked.key) or render_record(locked)
    keep(locked.key, locked.kind, pdf, case_id=case.id)
    now = now or utcnow()
    data = {"document": "record", "redacted": redacted, "chain_head": locked.chain_head()}
    record_access(actor, case, workflow, "print", data, at=now)
    suffix = "public-record" if redacted else "record"
    # A public-records copy of a confidential case names no member of staff, not even the one
    # who printed it (the print is recorded in the case's trail).
    anonymous = redacted and workflow.access.confidential
    return Printed(
        stamp(pdf, generated_line(actor, now, anonymous=anonymous)),
        file_name(case.number, suffix, file_date(now)),
        ((case.number, case.head_seq),),
    )
