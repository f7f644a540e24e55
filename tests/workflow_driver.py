"""Drive cases of any workflow to any state through the API, with valid sample field values."""

from __future__ import annotations

import re
from typing import Any

from casework.paths import resource_dir
from casework.workflow import Workflow, load_registry
from casework.workflow.definition import FieldDef, TransitionDef

REGISTRY = load_registry(resource_dir("workflows"))

#: Who plays each role in the standard cast.
PLAYER = {
    "staff": "staff",
    "librarian_in_charge": "librarian",
    "director": "director",
    "hr": "hr",
    "social_media_team": "social",
    "trustee": "trustee",
    "records_officer": "records",
    "admin": "admin",
}
PEOPLE_ROLES = [r for r in PLAYER]


def sample(f: FieldDef, api: Any) -> Any:
    """A valid value for a field."""
    if f.type == "text":
        return f"Sample {f.label.lower()}"
    if f.type == "textarea":
        return f"Sample text for {f.label.lower()}."
    if f.type == "choice":
        return f.choices[0].value
    if f.type == "multichoice":
        return [f.choices[0].value]
    if f.type == "yesno":
        return "no"
    if f.type == "date":
        return "2026-03-01"
    if f.type == "datetime":
        return "2026-03-01T14:30"
    if f.type == "url":
        return "https://social.example/post/1"
    if f.type == "person":
        return api.cast.person_ids["olive"]
    if f.type == "usernames":
        return ["social"]
    if f.type == "branch":
        return "Main Library"
    if f.type == "case":
        return active_account(api)
    raise AssertionError(f.type)


def active_account(api: Any) -> str:
    """The number of an active account case (opened once per test)."""
    found = getattr(api, "_active_account", None)
    if found is None:
        case = api.open(
            "social",
            "account",
            platform="facebook",
            handle="@lib",
            branch="Main",
            purpose="News",
            administrators=["social"],
        )
        api.ok("director", case["number"], "approve")
        api.ok("social", case["number"], "approve")
        api.ok("social", case["number"], "activate")
        found = case["number"]
        api._active_account = found
    return str(found)


def required_fields(fields: tuple[FieldDef, ...], api: Any) -> dict[str, Any]:
    return {f.name: sample(f, api) for f in fields if f.required}


INTAKE_EXTRAS: dict[str, dict[str, Any]] = {
    # A post with an author on an active account, so that it can be removed and its author denied.
    "moderation": {"author": "troll42"},
    "account": {"administrators": ["social"]},
}


def intake(workflow: Workflow, api: Any) -> dict[str, Any]:
    fields = required_fields(workflow.fields, api)
    fields.update(INTAKE_EXTRAS.get(workflow.key, {}))
    if "author" in fields:
        # A new author each time: an author already denied access is not denied again.
        api._authors = getattr(api, "_authors", 0) + 1
        fields["author"] = f"{fields['author']}-{api._authors}"
    if workflow.key == "moderation":
        fields["account"] = active_account(api)
    return fields


def opener(workflow: Workflow) -> str:
    for role in ("librarian_in_charge", "social_media_team", "staff"):
        if role in workflow.access.intake:
            return PLAYER[role]
    return PLAYER[workflow.access.intake[0]]


def path_to(workflow: Workflow, state: str) -> list[tuple[TransitionDef, str]]:
    """The shortest list of (transition, source) from the initial state to `state`."""
    return workflow.path_to(state)


def players_for(t: TransitionDef, source: str) -> list[str]:
    """Users who may fire `t` from `source`, the director first when allowed."""
    roles = [r for r in t.roles_from(source) if r in PLAYER]
    users = [PLAYER[r] for r in roles]
    if t.trigger == "approve":
        users = ["director", "social"]
    return users


#: Guards that need something done first: the transition to fire before, as whom.
GUARD_SETUP: dict[str, tuple[str, str]] = {
    # Access can be restored only where the author was denied it.
    "author_denied": ("deny_access", "social"),
}


def prepare(api: Any, workflow: Workflow, number: str, transition: TransitionDef) -> None:
    """Fire what the transition's guards need first (e.g. deny access before restoring it)."""
    for guard in transition.guards:
        if guard in GUARD_SETUP:
            trigger, who = GUARD_SETUP[guard]
            api.ok(
                who, number, trigger, **required_fields(workflow.transitions[trigger].fields, api)
            )


def drive(api: Any, workflow: Workflow, state: str) -> str:
    """Open a case and move it to `state`; return its number."""
    case = api.open(opener(workflow), workflow.key, **intake(workflow, api))
    number = case["number"]
    for t, source in path_to(workflow, state):
        fields = required_fields(t.fields, api)
        for who in players_for(t, source):
            body = api.ok(who, number, t.trigger, **fields)
            if body["state"] == t.dest:
                break
        else:
            raise AssertionError(f"could not fire {t.trigger} on {number}")
    return str(number)


def transition_cases() -> list[tuple[str, str, str]]:
    """Every (workflow, trigger, source state) the workflow files define."""
    return [
        (w.key, t.trigger, source)
        for w in REGISTRY
        for t in w.transitions.values()
        for source in t.sources
    ]


def new_version(text: str) -> str:
    """A workflow file's text with its version number raised by one (the file changes)."""
    found = re.search(r"^version = (\d+)$", text, re.M)
    assert found, "the workflow file states its version"
    return text[: found.start()] + f"version = {int(found.group(1)) + 1}" + text[found.end() :]
