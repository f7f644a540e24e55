"""The printed documents: a case record, an employee's case history, the account registry.

Each print goes: load what the reader may see (not found otherwise) → work out the document's
key → take it from the cache or render it, outside any write lock → lock the cases, check the
key still holds (render again under the lock in the rare case it does not) → record the print in
each case's audit trail → stamp "generated at / by" on the pages. Nothing here commits.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from casework.errors import Forbidden, NotFound
from casework.extensions import db
from casework.library import library
from casework.models import Case, CaseDisposal, DeniedAuthor, Event, Person, User, utcnow
from casework.presenting.people import staff_of, titled
from casework.presenting.words import file_date
from casework.printing import content, render
from casework.printing.cache import cached, document_key, keep
from casework.printing.stamp import stamp
from casework.services.access import Level, case_access, readable_by, visible_clause
from casework.services.activity import record_access
from casework.services.db import begin_write
from casework.services.definitions import workflow_of
from casework.services.loading import load_case, require_full
from casework.services.log.checkpoints import latest_checkpoint_id
from casework.services.log.proofs import proof_for_case
from casework.services.registry import account_histories
from casework.services.unseen import numbers_in, unseen_numbers
from casework.services.watches import flags
from casework.workflow import Workflow

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


# --- case record ------------------------------------------------------------------------------


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


# --- employee case history --------------------------------------------------------------------


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


# --- account registry -------------------------------------------------------------------------

REGISTRY_WORKFLOW = "account"
#: Account states the registry lists: active accounts, and requests not yet decided or activated.
LISTED_STATES = ("active", "requested", "approved")


def _registry_cases(actor: User, *, write: bool) -> list[tuple[Case, Workflow]]:
    lib = library()
    if REGISTRY_WORKFLOW not in lib.workflows:
        raise NotFound("There is no account registry.")
    workflow = lib.workflow(REGISTRY_WORKFLOW)
    system = "system" in actor.roles
    if not system and not actor.roles & set(workflow.access.readers):
        raise Forbidden("Only library staff may print the account registry.")
    if write:
        begin_write()
    stmt = (
        sa.select(Case)
        .where(
            Case.workflow_key == REGISTRY_WORKFLOW,
            Case.state.in_(LISTED_STATES),
            sa.true() if system else visible_clause(actor, receipts=False),
        )
        .order_by(Case.id)
    )
    if write:
        stmt = stmt.with_for_update(of=Case).execution_options(populate_existing=True)
    return [(case, workflow_of(case)) for case in db.session.execute(stmt).scalars()]


def _registry_facts(actor: User, cases: Sequence[tuple[Case, Workflow]]) -> content.Registry:
    ids = [case.id for case, _ in cases]
    moderation = sa.orm.aliased(Case)
    denied: dict[int, list[tuple[DeniedAuthor, str]]] = {}
    rows = db.session.execute(
        sa.select(DeniedAuthor, moderation.number)
        .join(moderation, moderation.id == DeniedAuthor.moderation_case_id)
        .where(
            DeniedAuthor.account_case_id.in_(ids),
            DeniedAuthor.in_force(utcnow()),
            # A denied author is a member of the public: named only to those who may read the
            # post that decided it.
            sa.true() if "system" in actor.roles else moderation.id.in_(readable_by(actor)),
        )
        .order_by(DeniedAuthor.created_at, DeniedAuthor.id)
    )
    for row, number in rows:
        denied.setdefault(row.account_case_id, []).append((row, number))
    approvals: dict[int, list[tuple[str, str]]] = {}
    pending = [case.id for case, _ in cases if case.state != "active"]
    for case_id, approver, data_json in db.session.execute(
        sa.select(Event.case_id, Event.actor, Event.data_json)
        .where(Event.case_id.in_(pending), Event.action == "transition")
        .order_by(Event.case_id, Event.seq)
    ):
        role = json.loads(data_json).get("approved_as")
        if role:
            approvals.setdefault(case_id, []).append((approver, role))
    names = {str(n) for case, _ in cases for n in case.fields.get("administrators") or ()}
    users: dict[str, tuple[str, frozenset[str]]] = {}
    if names:
        found = db.session.execute(sa.select(User).where(User.username.in_(names))).scalars()
        users = {u.username: (u.display_name, u.roles) for u in found}
    now = utcnow()
    today = now.astimezone(library().tz).date()
    active = [case for case, _ in cases if case.state == "active"]
    histories = account_histories(case.id for case in active)
    flagged = {
        case.id: [f"{f.watch.label}: {f.reason}" for f in flags(case, workflow_of(case), today)]
        for case in active
    }
    return content.build_registry(
        cases, denied, approvals, users, clock(), histories=histories, flagged=flagged
    )


@dataclass(frozen=True)
class RegistryPlan:
    cases: tuple[tuple[Case, Workflow], ...]
    registry: content.Registry
    #: (case, workflow, chain head printed) for each account case listed.
    heads: tuple[tuple[Case, Workflow, dict[str, Any]], ...]
    latest: datetime | None
    key: str


def plan_registry(actor: User, cases: Sequence[tuple[Case, Workflow]]) -> RegistryPlan:
    registry = _registry_facts(actor, cases)
    heads = []
    latest: datetime | None = None
    for case, workflow in cases:
        seq, digest, at = content.content_head(case)
        heads.append((case, workflow, {"seq": seq, "hash": digest}))
        if at is not None and (latest is None or at > latest):
            latest = at
    key = document_key(
        kind="registry",
        registry=dataclasses.asdict(registry),
        heads=[[case.number, head["seq"], head["hash"]] for case, _, head in heads],
        **setting_parts(),
    )
    return RegistryPlan(tuple(cases), registry, tuple(heads), latest, key)


def render_registry(plan: RegistryPlan) -> bytes:
    return render_pdf(
        "registry.html",
        plan.key,
        registry=plan.registry,
        created=document_date(plan.latest),
        title="Social media account registry",
        subject="The library's official social media accounts, administrators and denied lists",
    )


def account_registry_pdf(actor: User, *, now: datetime | None = None) -> Printed:
    """The registry of accounts; the print is recorded on every account case it lists.

    Raises `Forbidden` for a user who may not read account cases (IT administrators).
    """
    plan = plan_registry(actor, _registry_cases(actor, write=False))
    pdf = cached(plan.key) or render_registry(plan)
    locked = plan_registry(actor, _registry_cases(actor, write=True))
    if locked.key != plan.key:
        pdf = cached(locked.key) or render_registry(locked)
    keep(locked.key, "registry", pdf)
    now = now or utcnow()
    recorded = []
    for case, workflow, head in locked.heads:
        data = {"document": "registry", "redacted": False, "chain_head": head}
        record_access(actor, case, workflow, "print", data, at=now)
        recorded.append((case.number, case.head_seq))
    return Printed(
        stamp(pdf, generated_line(actor, now)),
        file_name("account-registry", file_date(now)),
        tuple(recorded),
    )


# --- disposal certificate ---------------------------------------------------------------------


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
