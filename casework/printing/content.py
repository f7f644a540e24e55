"""What a case's printed record shows, as plain data, redacted before any HTML exists: its fields,
timeline, decisions and evidence (the account registry's is in `accounts`).

Values and events are put into words, and withheld from a public-records copy, by the one
presenter (`casework.presenting.presenter`); this module arranges them into documents. The
templates receive only what may be printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casework.extensions import db
from casework.models import HOLD_KINDS, Case, Event, Person
from casework.presenting.people import staff_of
from casework.presenting.presenter import Item, Presenter
from casework.presenting.values import employee_label
from casework.presenting.words import (
    ACCESS_ACTIONS,
    file_size,
    humanize,
    local_date,
    local_time,
    stored_time,
)
from casework.services.holds import holds_in_force
from casework.services.unseen import UNSEEN, mask_with
from casework.workflow import Workflow


@dataclass(frozen=True)
class Entry:
    """One event of the audit trail, as the timeline prints it (or a run of reads, folded)."""

    seq: int
    #: The events the line stands for: "7", or "8–12" for reads folded into one line.
    span: str
    at: str
    actor: str
    what: str
    #: What follows on the same line: the states moved between, or a lone unlabelled detail.
    summary: Item | None
    #: Labelled details, one a line.
    details: tuple[Item, ...]


@dataclass(frozen=True)
class Evidence:
    seq: int
    name: str
    name_withheld: bool
    media_type: str
    size: str
    sha256: str
    at: str
    actor: str


@dataclass(frozen=True)
class Clause:
    """The policy text a violation's category comes from."""

    label: str
    text: str


@dataclass(frozen=True)
class Decision:
    """How a closed case was decided: the outcome, the deciding step's fields, who and when."""

    outcome: str
    details: tuple[Item, ...]
    decided_by: str
    decided_on: str

    @property
    def items(self) -> tuple[Item, ...]:
        """The decision as labelled rows, in the order a personnel file reads them."""
        return (
            Item("Outcome", self.outcome),
            *self.details,
            Item("Decided by", self.decided_by),
            Item("Date", self.decided_on),
        )


@dataclass(frozen=True)
class Record:
    """A case record: everything its pages show, already redacted when `redacted`."""

    number: str
    workflow_key: str
    workflow_title: str
    workflow_version: int
    marking: str
    confidential: bool
    redacted: bool
    state: str
    title: str
    facts: tuple[Item, ...]
    fields: tuple[Item, ...]
    policy: str
    clause: Clause | None
    timeline: tuple[Entry, ...]
    evidence: tuple[Evidence, ...]
    head_seq: int
    head_hash: str
    head_at: str
    #: The decision of a closed case, None while it is open.
    decision: Decision | None = None
    #: For an employee history: the summary line of this case on the cover.
    outcome: str = ""
    category: str = ""
    opened: str = ""
    closed: str = ""


@dataclass(frozen=True)
class PersonFacts:
    id: int
    name: str
    employee_id: str
    branch: str

    def display(self) -> str:
        return employee_label(self.name, self.employee_id, self.branch)

    @property
    def surname(self) -> str:
        """The last word of the name, as a file name sorts by it."""
        words = self.name.split()
        return words[-1] if words else ""


# --- formatting -------------------------------------------------------------------------------


class Clock:
    """Times as printed: in the library's zone, as every page and e-mail shows them
    (`presenting.words`)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def at(self, moment: datetime | None) -> str:
        return local_time(moment, self.tz)

    def day(self, moment: datetime | None) -> str:
        return local_date(moment, self.tz)

    def stored(self, text: str) -> str:
        """A stored UTC timestamp (`...Z`) in the library's zone; other text unchanged."""
        return stored_time(text, self.tz)


# --- loading ----------------------------------------------------------------------------------


def content_head(case: Case) -> tuple[int, str, datetime | None]:
    """The last event that changed the case (not a view, print, export or download).

    A record shows every event up to and including it, and is fully determined by it: prints
    and views after it change nothing printed, so the same document serves them all.
    """
    row = db.session.execute(
        sa.select(Event.seq, Event.hash, Event.at)
        .where(Event.case_id == case.id, Event.action.not_in(ACCESS_ACTIONS))
        .order_by(Event.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, case.head_hash, None
    return int(row.seq), str(row.hash), row.at


def person_fields(workflow: Workflow) -> list[str]:
    return [f.name for f in workflow.fields if f.type == "person"]


def people_of(cases: Iterable[tuple[Case, Workflow]]) -> dict[int, PersonFacts]:
    """The people the cases' person fields name (subjects), as printed."""
    ids: set[int] = set()
    for case, workflow in cases:
        fields = case.fields
        for name in person_fields(workflow):
            if isinstance(fields.get(name), int):
                ids.add(fields[name])
        if case.subject_person_id is not None:
            ids.add(case.subject_person_id)
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Person).where(Person.id.in_(ids))).scalars()
    return {p.id: PersonFacts(p.id, p.name, p.employee_id, p.branch) for p in rows}


def events_through(case: Case, seq: int) -> list[Event]:
    return list(
        db.session.execute(
            sa.select(Event).where(Event.case_id == case.id, Event.seq <= seq).order_by(Event.seq)
        ).scalars()
    )


# --- the case record --------------------------------------------------------------------------


class RecordBuilder:
    """Builds the `Record` of one case through its content head."""

    def __init__(
        self,
        case: Case,
        workflow: Workflow,
        events: Sequence[Event],
        people: Mapping[int, PersonFacts],
        clock: Clock,
        redacted: bool,
        hidden: frozenset[str] = frozenset(),
        reviewed: bool = False,
    ) -> None:
        self.case = case
        self.workflow = workflow
        self.events = events
        self.clock = clock
        #: The notes were reviewed for release (a release packet): printed, not withheld whole.
        self.reviewed = reviewed
        access = workflow.access
        reason = access.withheld_reason if access.confidential else None
        names = {pid: p.display() for pid, p in people.items()}
        self.show = Presenter(
            clock.tz, names, redacted, reason, staff_of(case, events), reviewed=reviewed
        )
        self.redacted = redacted
        #: Numbers of cases the reader may not see: never printed (`services.unseen`).
        self.hidden = hidden
        mask = mask_with(hidden)
        self.fields = mask(case.fields)
        self.data: dict[int, dict[str, Any]] = {e.seq: mask(e.data) for e in events}

    def state_label(self, state: str | None) -> str:
        if state is None:
            return ""
        found = self.workflow.states.get(state)
        return found.label if found else humanize(state)

    def build(self) -> Record:
        case, workflow = self.case, self.workflow
        timeline = tuple(self.timeline())
        head = self.events[-1] if self.events else None
        return Record(
            number=case.number,
            workflow_key=workflow.key,
            workflow_title=workflow.title,
            workflow_version=workflow.version,
            marking=workflow.marking,
            confidential=workflow.access.confidential,
            redacted=self.redacted,
            state=self.state_label(case.state),
            title=self.title(),
            facts=tuple(self.facts(head)),
            fields=tuple(self.show.fields(workflow.fields, self.fields)),
            policy=workflow.policy,
            clause=self.clause(),
            timeline=timeline,
            evidence=self.evidence(),
            head_seq=head.seq if head else 0,
            head_hash=head.hash if head else case.head_hash,
            head_at=self.clock.at(head.at) if head else "",
            decision=self.decision(),
            outcome=self.outcome(),
            category=self.category(),
            opened=self.clock.day(case.created_at),
            closed=self.clock.day(case.closed_at),
        )

    def title(self) -> str:
        f = self.workflow.field(self.workflow.title_field)
        value = self.fields.get(self.workflow.title_field)
        if value is None:
            return ""
        shown = self.show.item(f, self.workflow.title_field, value)
        return "" if shown.withheld else " ".join(shown.value.split())

    def linked(self) -> list[str]:
        numbers: list[str] = []
        for e in self.events:
            data = self.data[e.seq]
            for key in ("case", "referred_from", "opened"):
                value = data.get(key) if e.action in ("link", "created", "transition") else None
                if isinstance(value, str) and value not in numbers and value != UNSEEN:
                    numbers.append(value)
        return numbers

    def facts(self, head: Event | None) -> list[Item]:
        case, workflow = self.case, self.workflow
        out = [
            Item("Case number", case.number),
            Item("Case type", workflow.title),
            Item("State", self.state_label(case.state)),
            Item(
                "Opened",
                f"{self.clock.at(case.created_at)} by {self.show.staff(case.reporter.username)}",
            ),
            Item(
                "Assigned to",
                self.show.staff(case.assignee.username) if case.assignee else "nobody",
            ),
        ]
        if case.due_at is not None and case.closed_at is None:
            out.append(Item("Due", self.clock.at(case.due_at)))
        if case.closed_at is not None:
            out.append(Item("Closed", self.clock.at(case.closed_at)))
        linked = self.linked()
        if linked:
            out.append(Item("Linked cases", ", ".join(linked)))
        if workflow.retention is not None:
            rule = workflow.retention.for_state(case.state)
            out.append(
                Item("Record series", f"{rule.series} (schedule {rule.schedule}), {rule.period}")
            )
        for hold in holds_in_force(case.id):
            out.append(
                Item(
                    "Legal hold",
                    f"{HOLD_KINDS.get(hold.kind, hold.kind)}, since {self.clock.at(hold.placed_at)}"
                    ": not to be disposed of",
                )
            )
        return out

    def category(self) -> str:
        f = self.workflow.field("category")
        value = self.fields.get("category")
        return self.show.text(f, value) if f is not None and value else ""

    def clause(self) -> Clause | None:
        for f in self.workflow.fields:
            value = self.fields.get(f.name)
            choice = f.choice(str(value)) if f.choices and isinstance(value, str) else None
            if choice is not None and choice.clause:
                if self.redacted and f.confidential:
                    return None
                return Clause(choice.label, choice.clause)
        return None

    def deciding(self) -> Event | None:
        """The step that closed the case (None while it is open)."""
        if self.case.closed_at is None:
            return None
        for e in reversed(self.events):
            if e.action == "transition" and e.to_state == self.case.state:
                return e
        return None

    def outcome(self) -> str:
        """The decision, for a closed case: the state and the choice that closed it."""
        state = self.state_label(self.case.state)
        if self.case.closed_at is None:
            return f"Open ({state.lower()})"
        e = self.deciding()
        if e is not None:
            transition = self.workflow.transitions.get(str(self.data[e.seq].get("trigger")))
            given = self.data[e.seq].get("fields") or {}
            for f in transition.fields if transition else ():
                if f.choices and f.name in given and not f.confidential:
                    return f"{state}: {f.choice_label(str(given[f.name]))}"
        return state

    def decision(self) -> Decision | None:
        """Outcome, the deciding step's fields (the action and handbook reference of a
        discipline), who decided and when; None while the case is open."""
        e = self.deciding()
        if e is None:
            return None
        trigger = str(self.data[e.seq].get("trigger", ""))
        transition = self.workflow.transitions.get(trigger)
        details = self.show.fields(
            transition.fields if transition else (), self.data[e.seq].get("fields") or {}
        )
        return Decision(
            outcome=self.outcome(),
            details=tuple(details),
            decided_by=self.actor(e),
            decided_on=self.clock.day(e.at),
        )

    def actor(self, e: Event) -> str:
        """Who did `e`, by name and the role the step took."""
        return self.show.actor(self.workflow, e, self.data[e.seq])

    def evidence(self) -> tuple[Evidence, ...]:
        out = []
        for e in self.events:
            if e.action == "attachment":
                data = self.data[e.seq]
                name = self.show.free_text("Name", data.get("name", ""))
                out.append(
                    Evidence(
                        e.seq,
                        name.value,
                        name.withheld,
                        str(data.get("type", "")),
                        file_size(data.get("size")),
                        str(data.get("sha256", "")),
                        self.clock.at(e.at),
                        self.actor(e),
                    )
                )
        return tuple(out)

    # --- timeline entries ---------------------------------------------------------------------

    def timeline(self) -> list[Entry]:
        """Every event in order; the reads (views, prints, ...) between two changes are one line.

        Reads are recorded at every look at a confidential case, and nothing limits how often
        someone looks: folded, a thousand views cost the printed record one line ("Viewed 5
        times by …"), and the record still names each run's events, who and when (the trail
        keeps every one).
        """
        out: list[Entry] = []
        run: list[Event] = []
        for e in self.events:
            if e.action in ACCESS_ACTIONS:
                run.append(e)
                continue
            if run:
                out.append(self.folded(run))
                run = []
            out.append(self.entry(e))
        if run:
            out.append(self.folded(run))
        return out

    def folded(self, run: Sequence[Event]) -> Entry:
        """A run of reads as one line: "Viewed 5 times by …; printed once by …"."""
        first, last = run[0], run[-1]
        span = str(first.seq) if first is last else f"{first.seq}\u2013{last.seq}"
        when = self.clock.at(first.at)
        if first is not last and self.clock.at(last.at) != when:
            when = f"{when} to {self.clock.at(last.at)}"
        return Entry(first.seq, span, when, "", self.show.reads(run), None, ())

    def describe(self, e: Event) -> tuple[str, list[Item]]:
        """The presenter's words for `e`; the opening event points to the Intake section when
        it gave the fields shown there."""
        data = self.data[e.seq]
        what, details = self.show.event(self.workflow, e, data)
        if e.action == "created" and (data.get("fields") or {}) == self.fields:
            intake = {f.label for f in self.workflow.fields if f.name in self.fields}
            rest = [d for d in details if d.label not in intake]
            details = [Item("", "Intake fields as shown under Intake."), *rest]
        return what, details

    def entry(self, e: Event) -> Entry:
        what, details = self.describe(e)
        if e.from_state and e.to_state and e.from_state != e.to_state:
            states = f"{self.state_label(e.from_state)} → {self.state_label(e.to_state)}"
        elif e.to_state and not e.from_state:
            states = self.state_label(e.to_state)
        elif e.to_state:
            states = f"stays {self.state_label(e.to_state).lower()}"
        else:
            states = ""
        summary = Item("", states) if states else None
        if summary is None and details and not details[0].label:
            summary, details = details[0], details[1:]
        return Entry(
            e.seq, str(e.seq), self.clock.at(e.at), self.actor(e), what, summary, tuple(details)
        )


def build_record(
    case: Case,
    workflow: Workflow,
    *,
    through: int,
    people: Mapping[int, PersonFacts],
    clock: Clock,
    redacted: bool,
    hidden: frozenset[str] = frozenset(),
    reviewed: bool = False,
) -> Record:
    """The record of `case` through event `through`, redacted for a public-records copy, without
    the numbers of the cases in `hidden` (those the reader may not see); `reviewed` prints the
    notes of a case that is not confidential (a release packet, whose passages are cut after)."""
    events = events_through(case, through)
    return RecordBuilder(case, workflow, events, people, clock, redacted, hidden, reviewed).build()
