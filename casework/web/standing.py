"""Why a case is where it is: the banner of a case page, read from its last step and the workflow
definition (state and step labels, the step's fields), never from code about one workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casework.models import Case, Event, User
from casework.presenting.people import staff_members
from casework.presenting.words import local_date, role_label
from casework.services.history import steps_of, waiting_roles
from casework.services.people import employee_labels
from casework.services.unseen import UNSEEN, masker
from casework.web.display import Shown, show_value
from casework.workflow import Workflow
from casework.workflow.definition import FieldDef, TransitionDef

#: Field types short enough to name an outcome in a line ("Written warning, Handbook §4.12").
SHORT_TYPES = frozenset({"choice", "multichoice", "yesno", "text", "date"})


@dataclass
class Standing:
    #: "Escalated by Dana Whitfield, Library Director, on Dec 2, 2026"
    headline: str = ""
    #: What they gave as the reason (the step's first long field).
    reason: str = ""
    #: For a closed case: the decision's short fields, e.g. "Written warning, Handbook §4.12".
    outcome: str = ""
    #: "the Social media team's approval" (a step that waits for others) or the next step.
    waiting: str = ""
    next_step: str = ""


def the_role(role: str) -> str:
    """A role as a sentence names it: "the Library Director", "the social media team"."""
    label = role_label(role)
    words = label.split()
    if len(words) > 1 and not all(w[:1].isupper() for w in words):
        label = label[:1].lower() + label[1:]
    return f"the {label}"


def _actor(event: Event, transition: TransitionDef | None, data: dict[str, Any]) -> str:
    member = staff_members([event.actor]).get(event.actor)
    if member is None or event.actor == "system":
        return role_label("system")
    allowed = [str(data["approved_as"])] if data.get("approved_as") else []
    if transition is not None:
        allowed += transition.roles_from(event.from_state or "")
    # "Dana Whitfield, Library Director," reads on: "… by Dana Whitfield, Library Director, on …"
    return f"{member.titled(allowed)},"


def _text(f: FieldDef, value: Any) -> str:
    if value in (None, "", []) or value == UNSEEN:
        return ""
    return show_value(f, value, {}).text


def standing(
    case: Case,
    workflow: Workflow,
    data: dict[str, Any],
    event: Event | None,
    *,
    refused: frozenset[str] = frozenset(),
) -> Standing:
    """The banner of `case`; `data` is the last step's data as the viewer may see it. The next
    step named is never one of the `refused` triggers (a guard refuses them now)."""
    found = Standing()
    state = workflow.states[case.state]
    transition = workflow.transitions.get(str(data.get("trigger"))) if event else None
    if event is not None:
        values = data.get("fields") or {}
        fields = transition.fields if transition else ()
        when = local_date(event.at)
        who = _actor(event, transition, data)
        if event.from_state != event.to_state:
            found.headline = f"{workflow.states[case.state].label} by {who} on {when}"
        else:  # a step that keeps the case where it is (a first approval, a yearly review)
            label = transition.label if transition else str(data.get("trigger"))
            found.headline = f"Last step: {label}, by {who} on {when}"
        long = [t for f in fields if f.type == "textarea" for t in [_text(f, values.get(f.name))]]
        short = [t for f in fields if f.type in SHORT_TYPES for t in [_text(f, values.get(f.name))]]
        # The outcome is what closed the case, not a later step that keeps it closed (denying
        # the author of a removed post access).
        decided = state.terminal and event.from_state != event.to_state
        if decided and any(short):
            found.outcome = ", ".join(t for t in short if t)
        elif decided and any(long):
            found.outcome = next(t for t in long if t)
            long = []
        found.reason = next((t for t in long if t), "")
    waiting = waiting_roles(case, event)
    if waiting:
        found.waiting = " and ".join(f"{the_role(r)}'s approval" for r in waiting)
    elif not state.terminal:
        expected = state.deadline.expects if state.deadline else None
        steps = [t for t in workflow.transitions_from(case.state) if t.trigger not in refused]
        step = workflow.transitions.get(expected) if expected else None
        step = step or next((t for t in steps if t.dest != case.state), None)
        if step is not None:
            roles = [r for r in step.roles_from(case.state) if r != "system"]
            who = ", ".join(role_label(r) for r in roles[:-1])
            who = f"{who} or {role_label(roles[-1])}" if who else role_label(roles[-1])
            found.next_step = f"{step.label} ({who})" if roles else step.label
    return found


def case_summary(user: User, case: Case, workflow: Workflow) -> list[Shown]:
    """What an action form acts on, as the workflow's `summary_fields` name it: intake fields,
    with a choice's policy clause beside it, and the latest value of transitions' fields."""
    names = workflow.summary_fields
    steps = {n.rpartition(".")[0] for n in names if "." in n}
    given: dict[str, dict[str, Any]] = {}
    if steps:
        for event in steps_of(case):
            data = event.data
            if data.get("trigger") in steps:
                given[str(data["trigger"])] = data.get("fields") or {}
    mask = masker(user, [case.fields, *given.values()])
    intake = mask(case.fields)
    given = {k: mask(v) for k, v in given.items()}
    found: list[tuple[FieldDef, Any]] = []
    for name in names:
        trigger, _, field_name = name.rpartition(".")
        f = workflow.transitions[trigger].field(field_name) if trigger else workflow.field(name)
        value = given.get(trigger, {}).get(field_name) if trigger else intake.get(name)
        if f is not None and value not in (None, "", []):
            found.append((f, value))
    people = employee_labels(v for f, v in found if f.type == "person")
    shown = []
    for f, value in found:
        shown.append(show_value(f, value, people))
        choice = f.choice(str(value)) if f.type == "choice" else None
        if choice is not None and choice.clause:
            shown.append(Shown("Policy clause", choice.clause, multiline=True))
    return shown
