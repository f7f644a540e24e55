"""Firing a case's transitions: what a user may do now (offers), the checks, the guards, the
change and its audit event in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from casework.errors import Conflict, Forbidden, InvalidFields, Refused
from casework.extensions import db
from casework.library import library
from casework.models import (
    Case,
    CaseLink,
    DeniedAuthor,
    Event,
    User,
    utcnow,
)
from casework.presenting.words import local_date, role_label
from casework.services import denials
from casework.services.audit import append_event, canonical_json
from casework.services.case_fields import References, deadline_in, derived_columns
from casework.services.loading import LoadedCase, require_full
from casework.services.opening import open_case
from casework.signals import event_appended
from casework.workflow import Workflow
from casework.workflow.definition import TransitionDef
from casework.workflow.fields import validate_fields
from casework.workflow.hooks import GUARDS


def _role_names(roles: Iterable[str]) -> str:
    names = [role_label(r) for r in roles if r != "system"]
    return " or ".join(names) if names else "nobody"


@dataclass(frozen=True)
class Offer:
    """A transition a user may fire now, with the fields it needs."""

    transition: TransitionDef
    #: Why a guard would refuse it now; None when it may be fired.
    blocked: str | None = None


class Firing:
    """One transition of one case in progress: the model `transitions` fires on.

    It implements the `hooks.Firing` protocol that named guards and steps use.
    """

    def __init__(
        self,
        case: Case,
        workflow: Workflow,
        transition: TransitionDef,
        actor: User,
        roles: frozenset[str],
        fields: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self.state = case.state
        self.trigger = transition.trigger
        self.actor = actor.username
        self.roles = roles
        self.fields = fields
        merged = case.fields
        for f in transition.fields:
            if f.updates_case and f.name in fields:
                merged[f.name] = fields[f.name]
        self.case_fields: Mapping[str, Any] = merged
        self.event_data: dict[str, Any] = {}
        self.refusal: str | None = None
        self._case = case
        self._workflow = workflow
        self._actor_user = actor
        self.now = now

    def approvals(self) -> list[dict[str, str]]:
        rows = db.session.execute(
            sa.select(Event.actor, Event.data_json).where(
                Event.case_id == self._case.id, Event.action == "transition"
            )
        )
        out = []
        for actor, data_json in rows:
            data = json.loads(data_json)
            if data.get("trigger") == self.trigger and data.get("approved_as"):
                out.append({"user": actor, "role": data["approved_as"]})
        return out

    def roles_of(self, usernames: Iterable[str]) -> dict[str, frozenset[str]]:
        names = list(usernames)
        if not names:
            return {}
        users = db.session.execute(
            sa.select(User).where(User.username.in_(names), User.active.is_(True))
        ).scalars()
        return {u.username: u.roles for u in users}

    def same_person(self, first: str, second: str) -> bool:
        from casework.services.users import same_person

        return same_person(first, second)

    def open_linked_case(self, workflow: str, fields: Mapping[str, Any]) -> str:
        new = open_case(
            self._actor_user,
            workflow,
            dict(fields),
            now=self.now,
            check_intake=False,
            origin={"referred_from": self._case.number},
        )
        store_link(self._case, new, self._actor_user, self.now)
        return new.number

    def case_field_of(self, number: str, name: str) -> Any:
        fields_json = db.session.execute(
            sa.select(Case.fields_json).where(Case.number == number)
        ).scalar_one_or_none()
        return json.loads(fields_json).get(name) if fields_json else None

    def _account(self, number: str) -> Case:
        """The account case, locked: its denied list changes with this firing."""
        account_case = db.session.execute(
            sa.select(Case)
            .where(Case.number == number, Case.workflow_key == "account")
            .with_for_update(of=Case)
        ).scalar_one_or_none()
        if account_case is None:
            raise Refused(f"There is no account case {number}.")
        return account_case

    def denial_in_force(self, account: str, author: str) -> DeniedAuthor | None:
        return (
            db.session.execute(
                sa.select(DeniedAuthor)
                .join(Case, Case.id == DeniedAuthor.account_case_id)
                .where(
                    Case.number == account,
                    DeniedAuthor.author == author,
                    DeniedAuthor.in_force(self.now),
                )
                .order_by(DeniedAuthor.id.desc())
            )
            .scalars()
            .first()
        )

    def already_denied(self, account: str, author: str) -> str | None:
        denial = self.denial_in_force(account, author)
        if denial is None:
            return None
        decided_by = db.session.execute(
            sa.select(Case.number).where(Case.id == denial.moderation_case_id)
        ).scalar_one()
        return denials.already_denied(author, account, denial, decided_by)

    def deny_access(
        self,
        account: str,
        author: str,
        reason: str,
        until: datetime | None,
        review_on: date | None,
    ) -> None:
        """Add the author to the account's denied list; `Refused` while a denial is in force,
        `InvalidFields` when the review would come after a timed denial has ended."""
        account_case = self._account(account)
        refusal = self.already_denied(account, author)
        if refusal:
            raise Refused(refusal)
        if until is not None and review_on is not None:
            ends = until.astimezone(library().tz).date()
            if review_on > ends:
                raise InvalidFields(
                    {
                        "review_on": [
                            f"This denial ends on {local_date(ends)}: choose a review "
                            "date on or before it, or deny access permanently."
                        ]
                    }
                )
        db.session.add(
            DeniedAuthor(
                account_case_id=account_case.id,
                author=author,
                moderation_case_id=self._case.id,
                reason=reason,
                created_at=self.now,
                created_by_id=self._actor_user.id,
                until=until,
                review_on=review_on,
            )
        )
        facts: dict[str, Any] = {
            "author": author,
            "reason": reason,
            "moderation": self._case.number,
            "until": until.isoformat() if until else "permanent",
        }
        if review_on:
            facts["review_on"] = review_on.isoformat()
        append_event(
            account_case,
            self.actor,
            "denied_access",
            facts,
            at=self.now,
            changes={"updated_at": self.now},
        )

    def lift_denial(self, account: str, author: str, reason: str) -> bool:
        """End the denial in force, if any; False when there was none to end."""
        account_case = self._account(account)
        denial = self.denial_in_force(account, author)
        if denial is None:
            return False
        denial.lifted_at = self.now
        denial.lifted_by_id = self._actor_user.id
        denial.lifted_by_case_id = self._case.id
        append_event(
            account_case,
            self.actor,
            "access_restored",
            {"author": author, "reason": reason, "by_case": self._case.number},
            at=self.now,
            changes={"updated_at": self.now},
        )
        return True


def store_link(a: Case, b: Case, actor: User, now: datetime) -> None:
    low, high = sorted((a.id, b.id))
    db.session.add(CaseLink(case_a_id=low, case_b_id=high, created_at=now, created_by_id=actor.id))


def _check_version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidFields({"version": ["The case version you saw is required (a whole number)."]})
    return version


def checked(
    actor: User, loaded: LoadedCase, trigger: Any, version: Any, fields: Any
) -> tuple[TransitionDef, dict[str, Any]]:
    """The checks `fire` makes before the guards, changing nothing: the transition and its
    fields as they would be recorded (a "check your answers" page shows only valid answers)."""
    case, workflow, access = loaded
    require_full(access)
    version = _check_version(version)
    if version != case.version:
        raise Conflict(
            f"{case.number} changed since you opened it: it is now "
            f"{workflow.states[case.state].label.lower()} (version {case.version}).",
            current=case,
        )
    if not isinstance(trigger, str) or trigger not in workflow.transitions:
        raise InvalidFields({"trigger": [f"{workflow.title} cases have no such transition."]})
    transition = workflow.transitions[trigger]
    state_label = workflow.states[case.state].label.lower()
    if case.state not in transition.sources:
        raise Refused(
            f"{transition.label} is not possible while the case is {state_label}.",
            {"trigger": [f"Not possible while the case is {state_label}."]},
        )
    allowed = transition.roles_from(case.state)
    if not access.roles & set(allowed):
        raise Forbidden(
            f"Only the {_role_names(allowed)} may do this ({transition.label.lower()}) now."
        )
    return transition, validate_fields(
        transition.fields, fields, References(actor), library().tz, context=case.fields
    )


def fire(
    actor: User,
    loaded: LoadedCase,
    trigger: Any,
    version: Any,
    fields: Any,
    *,
    now: datetime | None = None,
) -> Case:
    """Fire a transition of a case loaded for writing; record it in the audit trail.

    Checks, in order: the version the user saw (`Conflict`), the transition (`InvalidFields`,
    `Refused` when not possible from this state), the role (`Forbidden`), the fields
    (`InvalidFields`) and the guards (`Refused`). A transition whose conditions are not yet met
    (the first of two approvals) is recorded and leaves the case where it is.
    """
    case, workflow, access = loaded
    transition, clean = checked(actor, loaded, trigger, version, fields)
    now = now or utcnow()
    firing = Firing(case, workflow, transition, actor, access.roles, clean, now)
    machine = library().workflows.machine(workflow)
    completed = machine.events[trigger].trigger(firing)
    if not completed and firing.refusal:
        raise Refused(firing.refusal)
    from_state, to_state = case.state, firing.state
    changes: dict[str, Any] = {"version": case.version + 1, "updated_at": now}
    if any(f.updates_case and f.name in clean for f in transition.fields):
        changes["fields_json"] = canonical_json(firing.case_fields)
        changes.update(derived_columns(case.number, workflow, firing.case_fields))
    if to_state == from_state and transition.restarts_deadline:
        changes["state_entered_at"] = now
        changes["due_at"] = deadline_in(workflow, to_state, now)
    if to_state != from_state:
        changes["state"] = to_state
        changes["state_entered_at"] = now
        changes["due_at"] = deadline_in(workflow, to_state, now)
        changes["closed_at"] = now if workflow.states[to_state].terminal else None
    data = {"trigger": trigger, "fields": clean, **firing.event_data}
    event = append_event(
        case,
        actor.username,
        "transition",
        data,
        from_state=from_state,
        to_state=to_state,
        at=now,
        changes=changes,
    )
    event_appended.send(case, workflow=workflow, event=event)
    return case


def offers(actor: User, loaded: LoadedCase, *, every: bool = False) -> list[Offer]:
    """The transitions `actor` may fire on the case now; those a guard would refuse say why.

    A transition that is hidden while refused (`hide_when_refused`: keeping a complaint) is left
    out, unless `every` (a form reached by its address says why it is not possible).
    """
    case, workflow, access = loaded
    if not access.full:
        return []
    out: list[Offer] = []
    for transition in workflow.transitions_from(case.state):
        if not access.roles & set(transition.roles_from(case.state)):
            continue
        blocked = None
        # Guards are judged now unless the transition's own fields can change the outcome.
        if transition.guards and not any(f.updates_case for f in transition.fields):
            firing = Firing(case, workflow, transition, actor, access.roles, {}, utcnow())
            for name in transition.guards:
                blocked = GUARDS[name](firing)
                if blocked:
                    break
        if blocked and transition.hide_when_refused and not every:
            continue
        out.append(Offer(transition, blocked))
    return out
