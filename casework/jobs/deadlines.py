"""The deadline sweep: overdue cases get what their workflow file says (escalation, reminders).

`casework sweep` runs `sweep_deadlines` in one transaction, under a lock only one sweep holds at a
time (SQLite's write lock; a PostgreSQL advisory lock), then sends the outbox. Each overdue case
is acted on once per deadline: a fired `on_overdue` moves the case out of the state, and a
reminder leaves an `overdue` event in the trail, so running the sweep again changes nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from casework.errors import CaseworkError
from casework.extensions import db
from casework.library import library
from casework.models import Case, Event, User
from casework.models.event import REMINDED
from casework.notifications.outbox import may_be_told, people_to_tell, queue, told_about
from casework.notifications.rules import OVERDUE, OVERDUE_KIND
from casework.presenting.words import local_time
from casework.services.audit import append_event, format_at
from casework.services.db import begin_write, is_sqlite
from casework.services.definitions import definition_by_digest
from casework.services.firing import fire
from casework.services.loading import load_case
from casework.services.users import SYSTEM_USERNAME, system_user
from casework.services.watches import (
    Standings,
    changes_due,
    last_flags_in,
    record_flags,
    verdicts,
)
from casework.workflow import Workflow
from casework.workflow.definition import Deadline

#: The PostgreSQL advisory lock only one sweep holds at a time (a fixed 64-bit number).
SWEEP_LOCK = int.from_bytes(hashlib.sha256(b"casework sweep").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class Overdue:
    """A case past its deadline, with the rule of the workflow version it lives under."""

    case: Case
    workflow: Workflow
    rule: Deadline
    #: Whether the sweep already acted on this deadline (an `overdue` event since the state began).
    handled: bool

    @property
    def rule_name(self) -> str:
        return f"{self.workflow.key} v{self.workflow.version}, states.{self.case.state}.deadline"

    def describe(self) -> str:
        expects = self.workflow.transitions[self.rule.expects].label.lower()
        return (
            f"{self.workflow.states[self.case.state].label.lower()}, due "
            f"{local_time(self.case.due_at)} ({self.rule_name}: {expects} within "
            f"{self.rule.period})"
        )


@dataclass(frozen=True)
class SweepAction:
    """One thing the sweep did (or, in a dry run, would do) to one case."""

    number: str
    #: fire (the rule's on_overdue), remind, flag (a watch raised its flag), clear, or problem.
    what: str
    detail: str
    trigger: str | None = None
    told: tuple[str, ...] = ()
    dry_run: bool = False
    #: A confidential case: its line names nothing of it (the output ends up in logs).
    confidential: bool = False

    def line(self) -> str:
        would = "would " if self.dry_run else ""
        fire, remind, tell = (
            ("fire", "remind", "tell") if self.dry_run else ("fired", "reminded", "told")
        )
        if self.confidential:
            if self.what == "problem":
                return "PROBLEM: the deadline rule of a confidential case could not be applied"
            return f"a confidential case {'would be' if self.dry_run else 'was'} acted on"
        if self.what == "fire":
            head = f"{would}{fire} {self.trigger!r}"
        elif self.what == "remind":
            head = f"{would}{remind}"
        elif self.what in ("flag", "clear"):
            head = "flagged" if self.what == "flag" else "flag cleared"
        else:
            head = "PROBLEM"
        told = f"; {would}{tell}: {', '.join(self.told)}" if self.told else ""
        return f"{self.number}: {head}: {self.detail}{told}"


def take_sweep_lock() -> None:
    """Make this transaction the only sweep running; another waits until it commits."""
    begin_write()
    if not is_sqlite():
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK})


def overdue_cases(now: datetime) -> list[Overdue]:
    """Open cases past their deadline that the sweep has still to act on, the longest overdue
    first: those not yet reminded, and those whose rule fires a transition.

    Which ones is decided on a few columns of each overdue case; only those are then read
    whole, a batch at a time (a sweep every few minutes finds nearly all of them reminded).
    """
    handled = (
        sa.select(Event.id)
        .where(
            Event.case_id == Case.id,
            sa.text(f"events.{REMINDED}"),
            Event.at >= Case.state_entered_at,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(Case.id, Case.definition_digest, Case.state, handled)
        .where(Case.due_at < now, Case.closed_at.is_(None))
        .order_by(Case.due_at, Case.id)
    )
    wanted: list[tuple[int, Workflow, Deadline, bool]] = []
    definitions: dict[str, Workflow] = {}
    for case_id, digest, state, done in rows:
        workflow = definitions.get(digest)
        if workflow is None:
            workflow = definitions[digest] = definition_by_digest(digest)
        rule = workflow.states[state].deadline
        if rule is not None and (rule.on_overdue or not done):
            wanted.append((case_id, workflow, rule, bool(done)))
    found = []
    for start in range(0, len(wanted), OVERDUE_BATCH):
        batch = wanted[start : start + OVERDUE_BATCH]
        cases = {
            case.id: case
            for case in db.session.execute(
                sa.select(Case).where(Case.id.in_([case_id for case_id, *_ in batch]))
            ).scalars()
        }
        found += [Overdue(cases[i], workflow, rule, done) for i, workflow, rule, done in batch]
    return found


#: Overdue cases read whole at a time.
OVERDUE_BATCH = 500


def reminder_recipients(
    item: Overdue, exclude: Iterable[str] = (), *, assignee_only: bool = False
) -> list[User]:
    """Who hears that a case is overdue: its assignee; when nobody is assigned (and the rule
    fires no transition that tells someone anyway), whoever may fire the expected transition."""
    case, workflow = item.case, item.workflow
    skip = set(exclude) | {SYSTEM_USERNAME}
    if case.assignee is not None:
        assignee = case.assignee
        told = assignee.username not in skip and may_be_told(assignee, OVERDUE, case, workflow, ())
        return [assignee] if told else []
    if assignee_only:
        return []
    roles = workflow.transitions[item.rule.expects].roles_from(case.state)
    return [u for u in people_to_tell(OVERDUE, case, workflow, roles) if u.username not in skip]


def _record_overdue(item: Overdue, now: datetime) -> None:
    """The `overdue` event: the deadline passed, under which rule, and what the sweep does."""
    case, rule = item.case, item.rule
    append_event(
        case,
        SYSTEM_USERNAME,
        "overdue",
        {
            "rule": f"states.{case.state}.deadline",
            "workflow": item.workflow.key,
            "workflow_version": item.workflow.version,
            **({"days": rule.days} if rule.days else {"business_days": rule.business_days}),
            "expects": rule.expects,
            "due_at": format_at(case.due_at) if case.due_at else None,
            "then": rule.on_overdue or "remind",
        },
        at=now,
    )


def _remind(
    item: Overdue, now: datetime, due: str, *, moved: bool, exclude: Iterable[str] = ()
) -> list[str]:
    """Queue the overdue notice; `moved` when the rule's on_overdue has just moved the case on."""
    users = reminder_recipients(item, exclude, assignee_only=moved)
    facts = {
        "expects": item.workflow.transitions[item.rule.expects].label.lower(),
        "period": item.rule.period,
        "due_was": due,
        "moved": moved,
    }
    queue(OVERDUE_KIND, item.case, item.workflow, users, at=now, facts=facts)
    return [u.username for u in users]


def _act(found: Overdue, system: User, now: datetime) -> SweepAction | None:
    """Apply the rule to one overdue case, locked and checked again first."""
    loaded = load_case(system, found.case.number, write=True)
    case, workflow, _ = loaded
    if case.state != found.case.state or case.due_at is None or case.due_at >= now:
        return None  # someone acted on it since it was found
    item = Overdue(case, workflow, found.rule, found.handled)
    rule, number = item.rule, case.number
    detail, due = item.describe(), local_time(case.due_at)
    problem = None
    if rule.on_overdue:
        try:
            # A savepoint: a refusal undoes this case's events only, not the whole sweep.
            with db.session.begin_nested():
                _record_overdue(item, now)
                fields = dict(rule.overdue_fields)
                fire(system, loaded, rule.on_overdue, case.version, fields, now=now)
        except CaseworkError as exc:
            problem = f"could not fire {rule.on_overdue!r}: {exc.message}"
        else:
            escalated_to = told_about(case, now)
            reminded = _remind(item, now, due, moved=True, exclude=escalated_to)
            told_all = tuple(escalated_to + reminded)
            return SweepAction(number, "fire", detail, rule.on_overdue, told_all)
    if item.handled:
        return SweepAction(number, "problem", problem) if problem else None
    _record_overdue(item, now)
    told = tuple(_remind(item, now, due, moved=False))
    if problem:
        return SweepAction(number, "problem", f"{problem}; reminded instead", told=told)
    return SweepAction(number, "remind", detail, told=told)


def sweep_watches(system: User, now: datetime) -> list[SweepAction]:
    """Run every workflow's watches over the cases in their states; record each flag raised or
    cleared on its case, and tell the watch's roles of each one raised.

    The cases are read a batch at a time, the users they name once for the whole sweep and the
    verdicts last recorded in one read a workflow; only a case whose verdict changed is loaded
    for writing, and judged again under its lock, so an unchanged case costs no statement.
    """
    standings = Standings(now.astimezone(library().tz).date())
    actions = []
    for workflow in library().workflows:
        states = {w.state for w in workflow.watches}
        if not states:
            continue
        recorded = last_flags_in(workflow, states)
        ids = (
            db.session.execute(
                sa.select(Case.id)
                .where(Case.workflow_key == workflow.key, Case.state.in_(states))
                .order_by(Case.id)
            )
            .scalars()
            .all()
        )
        for start in range(0, len(ids), WATCH_BATCH):
            batch = db.session.execute(
                sa.select(Case).where(Case.id.in_(ids[start : start + WATCH_BATCH]))
            ).scalars()
            changed = [
                case.number
                for case in batch
                if changes_due(
                    case,
                    workflow,
                    verdicts(case, workflow, standings),
                    recorded.get(case.id, {}),
                )
            ]
            for number in changed:
                actions += _record_watches(system, number, now, standings)
    return actions


#: Cases read at a time by the watches' sweep.
WATCH_BATCH = 500


def _record_watches(
    system: User, number: str, now: datetime, standings: Standings
) -> list[SweepAction]:
    case, definition, _ = load_case(system, number, write=True)
    actions = []
    for watch, reason in record_flags(case, definition, system.username, now, standings):
        told: list[str] = []
        if reason is not None:
            kind = watch.notification
            users = people_to_tell(kind.key, case, definition, watch.roles)
            queue(kind, case, definition, users, at=now, facts={"flag": reason})
            told = [u.username for u in users]
        what = "flag" if reason is not None else "clear"
        detail = f"{watch.label.lower()}" + (f" ({reason})" if reason else "")
        actions.append(SweepAction(number, what, detail, told=tuple(told)))
    return actions


def _preview(item: Overdue) -> SweepAction:
    """What `_act` would do, without doing it."""
    case, workflow, rule = item.case, item.workflow, item.rule
    if rule.on_overdue:
        dest = workflow.transitions[rule.on_overdue].dest
        kind = workflow.notification_on(dest)
        told = (
            [u.username for u in people_to_tell(kind.key, case, workflow, kind.roles)]
            if kind
            else []
        )
        told += [u.username for u in reminder_recipients(item, told, assignee_only=True)]
        return SweepAction(
            case.number, "fire", item.describe(), rule.on_overdue, tuple(told), dry_run=True
        )
    told = [u.username for u in reminder_recipients(item)]
    return SweepAction(case.number, "remind", item.describe(), told=tuple(told), dry_run=True)


def sweep_deadlines(now: datetime, *, dry_run: bool = False) -> list[SweepAction]:
    """Act on every overdue case as its workflow says; with `dry_run`, only say what would be done.

    Runs in the caller's transaction and does not commit; it takes the sweep lock first, so a
    second sweep waits and then finds nothing left to do.
    """
    if not dry_run:
        take_sweep_lock()
        system = system_user()
    actions = []
    if not dry_run:
        actions.extend(sweep_watches(system, now))
    for found in overdue_cases(now):
        action = _preview(found) if dry_run else _act(found, system, now)
        if action is not None:
            actions.append(replace(action, confidential=found.workflow.access.confidential))
    return actions
