"""Checking what a workflow shows and sends about its cases: home-page queues, watches, e-mail
notifications and dashboard figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casework.workflow.definition import (
    FigureDef,
    NotificationDef,
    QueueDef,
    StateDef,
    TransitionDef,
    WatchDef,
)
from casework.workflow.hooks import known_names
from casework.workflow.loader.reader import NAME, Reader

QUEUE_KEYS = {"title", "roles", "state", "sort", "empty", "watch", "overdue_only"}
WATCH_KEYS = {"key", "label", "state", "check", "roles"}
NOTIFICATION_KEYS = {"key", "label", "subject", "template", "roles", "states", "triggers"}
FIGURE_KEYS = {"label", "from", "to", "empty"}
#: The orders a queue may list its cases in (the case list's sorts).
QUEUE_SORTS = frozenset({"created_at", "-created_at", "updated_at", "-updated_at", "due_at"})
#: E-mail templates in templates/mail/ a notification may use.
MAIL_TEMPLATES = frozenset(
    {"attention", "escalated", "post_flagged", "account_requested", "waiting", "flagged", "step"}
)


def read_watches(r: Reader, data: Any, states: Mapping[str, StateDef]) -> tuple[WatchDef, ...]:
    checks = known_names()["watches"]
    out: list[WatchDef] = []
    for i, spec in enumerate(r.entries(data, "watches")):
        at = f"watches[{i}]"
        spec = r.table(spec, at, WATCH_KEYS)
        key = r.string(spec, "key", at)
        if not NAME.match(key) or any(w.key == key for w in out):
            raise r.fail(at, "key must be lower-case letters, digits and underscores, and unique")
        check = r.string(spec, "check", at)
        if check not in checks:
            raise r.fail(at, f"unknown check {check!r}")
        roles = r.some_roles(spec, "roles", at)
        out.append(
            WatchDef(
                key=key,
                label=r.string(spec, "label", at),
                state=r.state(spec, "state", at, states),
                check=check,
                roles=roles,
            )
        )
    return tuple(out)


def read_queues(
    r: Reader, data: Any, states: Mapping[str, StateDef], watches: tuple[WatchDef, ...]
) -> tuple[QueueDef, ...]:
    out = []
    for i, spec in enumerate(r.entries(data, "queues")):
        at = f"queues[{i}]"
        spec = r.table(spec, at, QUEUE_KEYS)
        roles = r.some_roles(spec, "roles", at)
        sort = r.string(spec, "sort", at, "created_at")
        if sort not in QUEUE_SORTS:
            raise r.fail(at, f"sort must be one of {', '.join(sorted(QUEUE_SORTS))}")
        state = r.state(spec, "state", at, states)
        watch = spec.get("watch")
        if watch is not None and not any(w.key == watch and w.state == state for w in watches):
            raise r.fail(at, f"watch {watch!r} is no watch of state {state!r}")
        out.append(
            QueueDef(
                title=r.string(spec, "title", at),
                roles=roles,
                state=state,
                sort=sort,
                empty=r.string(spec, "empty", at, "Nothing waiting."),
                watch=watch,
                overdue_only=r.flag(spec, "overdue_only", at),
            )
        )
    return tuple(out)


def read_notifications(
    r: Reader,
    data: Any,
    states: Mapping[str, StateDef],
    transitions: Mapping[str, TransitionDef],
) -> tuple[NotificationDef, ...]:
    out = []
    reached: set[str] = set()
    taken: set[str] = set()
    for i, spec in enumerate(r.entries(data, "notifications")):
        at = f"notifications[{i}]"
        spec = r.table(spec, at, NOTIFICATION_KEYS)
        key = r.string(spec, "key", at)
        if not NAME.match(key) or key == "overdue":
            raise r.fail(at, "key must be lower-case letters, digits and underscores (not overdue)")
        on = r.states(spec, "states", at, states)
        after = r.names(spec, "triggers", at)
        if not on and not after:
            raise r.fail(at, "'states' or 'triggers' names at least one state or step")
        for trigger in after:
            if trigger not in transitions:
                raise r.fail(at, f"unknown transition {trigger!r}")
            if trigger in taken:
                raise r.fail(at, f"taking {trigger!r} already sends another notification")
            taken.add(trigger)
        for state in on:
            if state in reached:
                raise r.fail(at, f"reaching {state!r} already sends another notification")
            reached.add(state)
        roles = r.some_roles(spec, "roles", at)
        template = r.string(spec, "template", at, "waiting")
        if template not in MAIL_TEMPLATES:
            raise r.fail(at, f"template must be one of {', '.join(sorted(MAIL_TEMPLATES))}")
        out.append(
            NotificationDef(
                key=key,
                label=r.string(spec, "label", at),
                subject=r.string(spec, "subject", at),
                template=template,
                roles=roles,
                states=on,
                triggers=after,
            )
        )
    return tuple(out)


def read_figures(r: Reader, data: Any, states: Mapping[str, StateDef]) -> tuple[FigureDef, ...]:
    out = []
    for i, spec in enumerate(r.entries(data, "figures")):
        at = f"figures[{i}]"
        spec = r.table(spec, at, FIGURE_KEYS)
        start = spec.get("from")
        if start is not None:
            start = r.state(spec, "from", at, states)
        reached = r.states(spec, "to", at, states)
        if not reached:
            raise r.fail(at, "'to' names at least one state")
        out.append(
            FigureDef(
                label=r.string(spec, "label", at),
                from_state=start,
                to_states=reached,
                empty=r.string(spec, "empty", at, "None yet"),
            )
        )
    return tuple(out)
