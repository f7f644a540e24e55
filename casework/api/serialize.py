"""Cases, events and people as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g

from casework.models import Case, Event, LegalHold, Person, User, utcnow
from casework.services.access import Level, case_access
from casework.services.activity import linked_numbers
from casework.services.audit import format_at
from casework.services.definitions import workflow_of
from casework.services.evidence import attachments
from casework.services.firing import offers
from casework.services.holds import case_holds
from casework.services.loading import LoadedCase, load_people
from casework.services.retention import case_eligibility
from casework.services.unseen import Mask, masker
from casework.workflow import Workflow
from casework.workflow.definition import describe_field


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def receipt_state(case: Case, workflow: Workflow) -> str:
    """What a receipt says of where a case is: "open" or "closed", never the state itself (a
    reporter must not learn how a colleague's case was decided)."""
    state = workflow.states.get(case.state)
    return "closed" if state is not None and state.terminal else "open"


def receipt_json(case: Case, workflow: Workflow) -> dict[str, Any]:
    """What the reporter of a confidential case may know: number, date received, open or closed.

    No version and no time of change: either would tell how often the case moved.
    """
    state = receipt_state(case, workflow)
    return {
        "number": case.number,
        "workflow": case.workflow_key,
        "state": state,
        "state_label": state.capitalize(),
        "created_at": iso(case.created_at),
        "receipt": True,
    }


def summary_json(loaded: LoadedCase, now: datetime) -> dict[str, Any]:
    """A case as lists show it. Fields of confidential cases only come with the case itself,
    whose every view is recorded."""
    case, workflow, access = loaded
    if access.level is Level.RECEIPT:
        return receipt_json(case, workflow)
    body: dict[str, Any] = {
        "number": case.number,
        "workflow": case.workflow_key,
        "workflow_version": workflow.version,
        "title": case.title,
        "state": case.state,
        "state_label": workflow.states[case.state].label,
        "version": case.version,
        "confidential": case.confidential,
        "assignee": case.assignee.username if case.assignee else None,
        "branch": case.branch,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "due_at": iso(case.due_at),
        "overdue": case.is_overdue(now),
        "closed_at": iso(case.closed_at),
    }
    if not case.confidential:
        body["fields"] = case.fields
    return body


def case_json(loaded: LoadedCase, user: User, now: datetime | None = None) -> dict[str, Any]:
    """A case in full, with the transitions `user` may fire now."""
    case, workflow, access = loaded
    now = now or utcnow()
    if access.level is Level.RECEIPT:
        return receipt_json(case, workflow)
    load_people(case)
    body = summary_json(loaded, now)
    body["fields"] = masker(user, [case.fields])(case.fields)
    body["reporter"] = case.reporter.username
    if case.subject is not None:
        body["subject"] = {"id": case.subject.id, "name": case.subject.name}
    body["links"] = linked_numbers(user, case)
    body["attachments"] = [
        {"sha256": a.sha256, "name": a.name, "size": a.size, "type": a.media_type}
        for a in attachments(case)
    ]
    body["chain_head"] = {"seq": case.head_seq, "hash": case.head_hash}
    body["retention"] = case_eligibility(case, workflow).describe()
    holds = case_holds(case.id)
    body["holds"] = [hold_json(h) for h in holds]
    body["on_hold"] = any(h.lifted_at is None for h in holds)
    available, blocked = [], []
    for offer in offers(user, loaded):
        t = offer.transition
        if offer.blocked:
            blocked.append({"trigger": t.trigger, "label": t.label, "reason": offer.blocked})
        else:
            available.append(
                {
                    "trigger": t.trigger,
                    "label": t.label,
                    "dest": t.dest,
                    "fields": [describe_field(f) for f in t.fields],
                }
            )
    body["available_transitions"] = available
    body["blocked_transitions"] = blocked
    return body


def current_case_json(case: Case) -> dict[str, Any]:
    """The case as a 409 reports it: where it is now (state and version), nothing more."""
    workflow = workflow_of(case)
    return {
        "number": case.number,
        "state": case.state,
        "state_label": workflow.states[case.state].label,
        "version": case.version,
        "updated_at": iso(case.updated_at),
    }


def event_json(event: Event, mask: Mask | None = None) -> dict[str, Any]:
    """An event as the API shows it; `mask` takes out numbers of cases the reader may not see
    (`services.unseen`)."""
    return {
        "seq": event.seq,
        "at": format_at(event.at),
        "actor": event.actor,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "data": mask(event.data) if mask is not None else event.data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def hold_json(hold: LegalHold, number: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": hold.id,
        "kind": hold.kind,
        "reason": hold.reason,
        "placed_by": hold.placed_by.username,
        "placed_at": iso(hold.placed_at),
        "lifted_by": hold.lifted_by.username if hold.lifted_by else None,
        "lifted_at": iso(hold.lifted_at),
        "lift_reason": hold.lift_reason or None,
    }
    if number is not None:
        body["case"] = number
    return body


def person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "employee_id": person.employee_id,
        "branch": person.branch,
        "user": person.user.username if person.user else None,
    }


def current_case_body(case: Case) -> dict[str, Any]:
    """The case as it is now, for the user who sent the stale request."""
    actor = g.get("api_user")
    if actor is None:
        return current_case_json(case)
    workflow = workflow_of(case)
    return case_json(LoadedCase(case, workflow, case_access(actor, case, workflow)), actor)
