"""Checking a workflow file's state machine: states and their deadlines, transitions and the
names they call, and that every state is reached and every state but an end is left."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from casework.workflow.definition import Deadline, StateDef, TransitionDef
from casework.workflow.hooks import known_names
from casework.workflow.loader.fields import read_fields
from casework.workflow.loader.reader import NAME, Reader

#: Cases are never deleted; a workflow may not pretend otherwise.
FORBIDDEN_TRIGGERS = frozenset({"delete", "destroy", "purge", "erase", "expunge"})
STATE_KEYS = {"label", "terminal", "description", "deadline"}
DEADLINE_KEYS = {"business_days", "days", "expects", "on_overdue", "overdue_fields"}
TRANSITION_KEYS = {
    "label",
    "source",
    "dest",
    "roles",
    "roles_by_source",
    "fields",
    "guards",
    "conditions",
    "prepare",
    "effects",
    "description",
    "restarts_deadline",
    "confirm",
    "hide_when_refused",
    "notice",
    "reminder",
    "evidence",
    "evidence_help",
}


def read_states(r: Reader, data: Any) -> dict[str, StateDef]:
    if not isinstance(data, dict) or not data:
        raise r.fail("states", "a workflow needs a [states] table with at least one state")
    out: dict[str, StateDef] = {}
    for name, spec in data.items():
        at = f"states.{name}"
        if not NAME.match(name):
            raise r.fail(at, "state names are lower-case letters, digits and underscores")
        spec = r.table(spec, at, STATE_KEYS)
        deadline = None
        if "deadline" in spec:
            d = r.table(spec["deadline"], f"{at}.deadline", DEADLINE_KEYS)
            days = d.get("business_days", 0)
            calendar_days = d.get("days", 0)
            for value in (days, calendar_days):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise r.fail(f"{at}.deadline", "business_days and days are whole numbers")
            if (days > 0) == (calendar_days > 0):
                raise r.fail(
                    f"{at}.deadline",
                    "give either business_days or days (calendar days), of at least 1",
                )
            overdue_fields = d.get("overdue_fields", {})
            if not isinstance(overdue_fields, dict):
                raise r.fail(f"{at}.deadline", "overdue_fields must be a table")
            deadline = Deadline(
                business_days=days,
                expects=r.string(d, "expects", f"{at}.deadline"),
                on_overdue=d.get("on_overdue"),
                overdue_fields=overdue_fields,
                days=calendar_days,
            )
        out[name] = StateDef(
            name=name,
            label=r.string(spec, "label", at, name.replace("_", " ").capitalize()),
            terminal=r.flag(spec, "terminal", at),
            description=r.string(spec, "description", at, ""),
            deadline=deadline,
        )
    return out


def read_transitions(
    r: Reader, data: Any, states: Mapping[str, StateDef]
) -> dict[str, TransitionDef]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise r.fail("transitions", "must be a table of transitions keyed by trigger")
    hooks = known_names()
    out: dict[str, TransitionDef] = {}
    for trigger, spec in data.items():
        at = f"transitions.{trigger}"
        if not NAME.match(trigger):
            raise r.fail(at, "triggers are lower-case letters, digits and underscores")
        if trigger in FORBIDDEN_TRIGGERS:
            raise r.fail(at, "cases are never deleted; no workflow may have such a transition")
        spec = r.table(spec, at, TRANSITION_KEYS)
        sources = r.names(spec, "source", at)
        if not sources:
            raise r.fail(at, "'source' names at least one state")
        for s in sources:
            if s not in states:
                raise r.fail(at, f"unknown source state {s!r}")
        dest = r.string(spec, "dest", at)
        if dest not in states:
            raise r.fail(at, f"unknown destination state {dest!r}")
        roles = r.some_roles(spec, "roles", at)
        by_source_raw = spec.get("roles_by_source", {})
        if not isinstance(by_source_raw, dict):
            raise r.fail(at, "roles_by_source must be a table")
        roles_by_source = {}
        for s in by_source_raw:
            if s not in sources:
                raise r.fail(f"{at}.roles_by_source", f"{s!r} is not a source of this transition")
            roles_by_source[s] = r.roles(by_source_raw, s, f"{at}.roles_by_source")
        named: dict[str, tuple[str, ...]] = {}
        for kind in ("guards", "conditions", "prepare", "effects"):
            named[kind] = r.names(spec, kind, at)
            for name in named[kind]:
                if name not in hooks[kind]:
                    raise r.fail(
                        at, f"unknown {kind[:-1] if kind.endswith('s') else kind} {name!r}"
                    )
        out[trigger] = TransitionDef(
            trigger=trigger,
            label=r.string(spec, "label", at, trigger.replace("_", " ").capitalize()),
            sources=sources,
            dest=dest,
            roles=roles,
            roles_by_source=roles_by_source,
            fields=read_fields(r, spec.get("fields"), f"{at}.fields"),
            guards=named["guards"],
            conditions=named["conditions"],
            prepare=named["prepare"],
            effects=named["effects"],
            description=r.string(spec, "description", at, ""),
            restarts_deadline=r.flag(spec, "restarts_deadline", at),
            confirm=r.flag(spec, "confirm", at),
            hide_when_refused=r.flag(spec, "hide_when_refused", at),
            notice=r.string(spec, "notice", at, ""),
            reminder=r.string(spec, "reminder", at, ""),
            evidence=r.string(spec, "evidence", at, ""),
            evidence_help=r.string(spec, "evidence_help", at, ""),
        )
        if out[trigger].hide_when_refused and not out[trigger].guards:
            raise r.fail(at, "hide_when_refused needs a guard that can refuse it")
        if out[trigger].restarts_deadline and (
            dest not in sources or states[dest].deadline is None
        ):
            raise r.fail(
                at, "restarts_deadline needs a transition back into a state with a deadline"
            )
    return out


def check_deadlines(
    r: Reader, states: Mapping[str, StateDef], transitions: Mapping[str, TransitionDef]
) -> None:
    for state in states.values():
        d = state.deadline
        if d is None:
            continue
        at = f"states.{state.name}.deadline"
        for trigger in filter(None, (d.expects, d.on_overdue)):
            t = transitions.get(trigger)
            if t is None or state.name not in t.sources:
                raise r.fail(at, f"{trigger!r} is not a transition out of {state.name!r}")
        if d.on_overdue:
            t = transitions[d.on_overdue]
            if "system" not in t.roles_from(state.name):
                raise r.fail(
                    at,
                    f"the sweep fires {d.on_overdue!r} as role 'system', which it does not allow",
                )
            for f in t.fields:
                if f.required and f.name not in d.overdue_fields:
                    raise r.fail(
                        at, f"overdue_fields must give {d.on_overdue!r}'s field {f.name!r}"
                    )


def check_reachable(
    r: Reader,
    initial: str,
    states: Mapping[str, StateDef],
    transitions: Mapping[str, TransitionDef],
) -> None:
    seen = {initial}
    queue = deque([initial])
    while queue:
        here = queue.popleft()
        for t in transitions.values():
            if here in t.sources and t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    for name, state in states.items():
        if name not in seen:
            raise r.fail(f"states.{name}", f"unreachable from the initial state {initial!r}")
        if not state.terminal and not any(name in t.sources for t in transitions.values()):
            raise r.fail(f"states.{name}", "not terminal, yet no transition leaves it")
