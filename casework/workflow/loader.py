"""Reading and strictly validating workflow files (TOML) into `Workflow` definitions."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casework.workflow.definition import (
    FIELD_TYPES,
    RETENTION_STARTS,
    ROLES,
    Access,
    Choice,
    Deadline,
    FieldDef,
    FigureDef,
    NotificationDef,
    QueueDef,
    Retention,
    RetentionRule,
    StateDef,
    TransitionDef,
    WatchDef,
    Workflow,
)
from casework.workflow.errors import WorkflowFileError
from casework.workflow.hooks import known_names

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PREFIX = re.compile(r"^[A-Z]{2,6}$")
#: Cases are never deleted; a workflow may not pretend otherwise.
FORBIDDEN_TRIGGERS = frozenset({"delete", "destroy", "purge", "erase", "expunge"})

TOP_KEYS = {
    "key",
    "version",
    "prefix",
    "title",
    "description",
    "policy",
    "initial",
    "title_field",
    "marking",
    "access",
    "fields",
    "states",
    "transitions",
    "received_field",
    "queues",
    "notifications",
    "figures",
    "watches",
    "mail_fields",
    "retention",
    "release_states",
    "summary_fields",
    "confirm_intake",
    "intake_evidence",
}
RETENTION_KEYS = {"series", "schedule", "years", "after", "permanent", "by_state"}
ACCESS_KEYS = {
    "readers",
    "intake",
    "confidential",
    "reporter_receipt",
    "subject_field",
    "stand_in",
    "record_views",
    "reporter_reads",
    "withheld_reason",
}
FIELD_KEYS = {
    "label",
    "type",
    "required",
    "choices",
    "confidential",
    "withheld_reason",
    "help",
    "max_length",
    "workflow",
    "states",
    "only_when",
    "shown_when",
    "updates_case",
    "required_message",
    "required_in_form",
}
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
DEFAULT_MAX_LENGTH = {"text": 500, "textarea": 20_000, "url": 2_000, "branch": 200}


class _Reader:
    """Carries the file and key being read so every error names both."""

    def __init__(self, path: Path, key: str | None) -> None:
        self.path = path
        self.key = key

    def fail(self, where: str, reason: str) -> WorkflowFileError:
        return WorkflowFileError(
            str(self.path), self.key, f"{where}: {reason}" if where else reason
        )

    def table(self, data: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where, "must be a table")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(where, f"unknown key {unknown[0]!r}")
        return data

    def string(
        self, data: dict[str, Any], name: str, where: str, default: str | None = None
    ) -> str:
        value = data.get(name, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(where, f"{name!r} must be a non-empty string")
        return value

    def flag(self, data: dict[str, Any], name: str, where: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(where, f"{name!r} must be true or false")
        return value

    def names(self, data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, f"{name!r} must be a string or a list of strings")
        return tuple(value)

    def roles(self, data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
        roles = self.names(data, name, where)
        for role in roles:
            if role not in ROLES:
                raise self.fail(where, f"unknown role {role!r} in {name!r}")
        return roles


def load_file(path: Path) -> Workflow:
    """Read one workflow file; raise `WorkflowFileError` naming the file, key and reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowFileError(str(path), None, f"cannot read the file: {exc}") from exc
    return parse(text, path)


def parse(text: str, path: Path) -> Workflow:
    """Parse and validate the text of a workflow file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowFileError(str(path), None, f"not valid TOML: {exc}") from exc
    key = data.get("key")
    r = _Reader(path, key if isinstance(key, str) else None)
    r.table(data, "", TOP_KEYS)
    if not isinstance(key, str) or not NAME.match(key):
        raise r.fail("key", "must be lower-case letters, digits and underscores")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("version", "must be a whole number of at least 1")
    prefix = data.get("prefix")
    if not isinstance(prefix, str) or not PREFIX.match(prefix):
        raise r.fail("prefix", "must be 2 to 6 capital letters")

    fields = _fields(r, data.get("fields"), "fields")
    if not fields:
        raise r.fail("fields", "a workflow needs at least one intake field")
    field_names = {f.name for f in fields}
    states = _states(r, data.get("states"))
    initial = r.string(data, "initial", "initial")
    if initial not in states:
        raise r.fail("initial", f"unknown state {initial!r}")
    transitions = _transitions(r, data.get("transitions"), states)
    access = _access(r, data.get("access"), fields)
    title_field = r.string(data, "title_field", "title_field")
    if title_field not in field_names:
        raise r.fail("title_field", f"unknown field {title_field!r}")

    received_field = data.get("received_field")
    if received_field is not None:
        f = next((f for f in fields if f.name == received_field), None)
        if f is None or f.type != "datetime":
            raise r.fail("received_field", "must name an intake field of type datetime")
    mail_fields = r.names(data, "mail_fields", "mail_fields")
    for name in mail_fields:
        f = next((f for f in fields if f.name == name), None)
        if f is None:
            raise r.fail("mail_fields", f"unknown field {name!r}")
        if f.confidential:
            raise r.fail("mail_fields", f"{name!r} is confidential and may not be e-mailed")

    release_states = r.names(data, "release_states", "release_states")
    for state in release_states:
        if state not in states:
            raise r.fail("release_states", f"unknown state {state!r}")
    summary_fields = r.names(data, "summary_fields", "summary_fields")
    for name in summary_fields:
        trigger, _, given = name.rpartition(".")
        if not trigger and name not in field_names:
            raise r.fail("summary_fields", f"unknown field {name!r}")
        if trigger and (trigger not in transitions or transitions[trigger].field(given) is None):
            raise r.fail("summary_fields", f"{name!r} names no field of a transition")

    watches = _watches(r, data.get("watches"), states)
    _check_deadlines(r, states, transitions)
    _check_reachable(r, initial, states, transitions)
    for t in transitions.values():
        for f in t.fields:
            if f.updates_case and f.name not in field_names:
                raise r.fail(
                    f"transitions.{t.trigger}.fields.{f.name}", "updates_case names no intake field"
                )

    return Workflow(
        key=key,
        version=version,
        prefix=prefix,
        title=r.string(data, "title", "title"),
        description=r.string(data, "description", "description", ""),
        policy=r.string(data, "policy", "policy", ""),
        initial=initial,
        access=access,
        fields=fields,
        states=states,
        transitions=transitions,
        title_field=title_field,
        source_path=str(path),
        source_text=text,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        marking=r.string(data, "marking", "marking", ""),
        received_field=received_field,
        queues=_queues(r, data.get("queues"), states, watches),
        watches=watches,
        notifications=_notifications(r, data.get("notifications"), states, transitions),
        figures=_figures(r, data.get("figures"), states),
        mail_fields=mail_fields,
        retention=_retention(r, data.get("retention"), states, access),
        release_states=release_states,
        summary_fields=summary_fields,
        confirm_intake=r.flag(data, "confirm_intake", "confirm_intake"),
        intake_evidence=r.flag(data, "intake_evidence", "intake_evidence"),
    )


def _retention(
    r: _Reader, data: Any, states: Mapping[str, StateDef], access: Access
) -> Retention | None:
    if data is None:
        return None
    spec = r.table(data, "retention", RETENTION_KEYS)
    rule = _retention_rule(r, spec, {}, "retention", access)
    by_state_raw = spec.get("by_state", {})
    by_state_raw = r.table(by_state_raw, "retention.by_state", set(states))
    by_state: dict[str, RetentionRule] = {}
    for state, given in by_state_raw.items():
        at = f"retention.by_state.{state}"
        if not states[state].terminal:
            raise r.fail(at, f"{state!r} is not an end state (only end states have rules)")
        given = r.table(given, at, RETENTION_KEYS - {"by_state"})
        by_state[state] = _retention_rule(r, given, spec, at, access)
    return Retention(rule=rule, by_state=by_state)


def _retention_rule(
    r: _Reader, spec: dict[str, Any], base: dict[str, Any], at: str, access: Access
) -> RetentionRule:
    """One rule; an end state's rule takes what it does not give from the workflow's."""
    merged = {k: v for k, v in base.items() if k != "by_state"}
    if spec.get("permanent") is True:
        merged.pop("years", None)
        merged.pop("after", None)
    elif "years" in spec or "after" in spec:
        merged.pop("permanent", None)
    merged.update(spec)
    series = r.string(merged, "series", at)
    schedule = r.string(merged, "schedule", at)
    permanent = r.flag(merged, "permanent", at)
    if permanent:
        if "years" in merged or "after" in merged:
            raise r.fail(at, "a permanent series has no 'years' or 'after'")
        return RetentionRule(series=series, schedule=schedule, permanent=True)
    years = merged.get("years")
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 200:
        raise r.fail(at, "'years' must be a whole number from 1 to 200 (or permanent = true)")
    after = merged.get("after")
    if after not in RETENTION_STARTS:
        raise r.fail(at, f"'after' must be one of {', '.join(sorted(RETENTION_STARTS))}")
    if after == "separation" and access.subject_field is None:
        raise r.fail(at, "'after = \"separation\"' needs a workflow whose cases have a subject")
    return RetentionRule(series=series, schedule=schedule, years=years, after=after)


def _entries(r: _Reader, data: Any, where: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise r.fail(where, f"must be an array of tables ([[{where}]])")
    return data


def _state_name(r: _Reader, data: dict[str, Any], name: str, where: str, states: Any) -> str:
    state = r.string(data, name, where)
    if state not in states:
        raise r.fail(where, f"unknown state {state!r}")
    return state


def _watches(r: _Reader, data: Any, states: Mapping[str, StateDef]) -> tuple[WatchDef, ...]:
    checks = known_names()["watches"]
    out: list[WatchDef] = []
    for i, spec in enumerate(_entries(r, data, "watches")):
        at = f"watches[{i}]"
        spec = r.table(spec, at, WATCH_KEYS)
        key = r.string(spec, "key", at)
        if not NAME.match(key) or any(w.key == key for w in out):
            raise r.fail(at, "key must be lower-case letters, digits and underscores, and unique")
        check = r.string(spec, "check", at)
        if check not in checks:
            raise r.fail(at, f"unknown check {check!r}")
        roles = r.roles(spec, "roles", at)
        if not roles:
            raise r.fail(at, "'roles' names at least one role")
        out.append(
            WatchDef(
                key=key,
                label=r.string(spec, "label", at),
                state=_state_name(r, spec, "state", at, states),
                check=check,
                roles=roles,
            )
        )
    return tuple(out)


def _queues(
    r: _Reader, data: Any, states: Mapping[str, StateDef], watches: tuple[WatchDef, ...]
) -> tuple[QueueDef, ...]:
    out = []
    for i, spec in enumerate(_entries(r, data, "queues")):
        at = f"queues[{i}]"
        spec = r.table(spec, at, QUEUE_KEYS)
        roles = r.roles(spec, "roles", at)
        if not roles:
            raise r.fail(at, "'roles' names at least one role")
        sort = r.string(spec, "sort", at, "created_at")
        if sort not in QUEUE_SORTS:
            raise r.fail(at, f"sort must be one of {', '.join(sorted(QUEUE_SORTS))}")
        state = _state_name(r, spec, "state", at, states)
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


def _notifications(
    r: _Reader,
    data: Any,
    states: Mapping[str, StateDef],
    transitions: Mapping[str, TransitionDef],
) -> tuple[NotificationDef, ...]:
    out = []
    reached: set[str] = set()
    taken: set[str] = set()
    for i, spec in enumerate(_entries(r, data, "notifications")):
        at = f"notifications[{i}]"
        spec = r.table(spec, at, NOTIFICATION_KEYS)
        key = r.string(spec, "key", at)
        if not NAME.match(key) or key == "overdue":
            raise r.fail(at, "key must be lower-case letters, digits and underscores (not overdue)")
        on = r.names(spec, "states", at)
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
            if state not in states:
                raise r.fail(at, f"unknown state {state!r}")
            if state in reached:
                raise r.fail(at, f"reaching {state!r} already sends another notification")
            reached.add(state)
        roles = r.roles(spec, "roles", at)
        if not roles:
            raise r.fail(at, "'roles' names at least one role")
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


def _figures(r: _Reader, data: Any, states: Mapping[str, StateDef]) -> tuple[FigureDef, ...]:
    out = []
    for i, spec in enumerate(_entries(r, data, "figures")):
        at = f"figures[{i}]"
        spec = r.table(spec, at, FIGURE_KEYS)
        start = spec.get("from")
        if start is not None:
            start = _state_name(r, spec, "from", at, states)
        reached = r.names(spec, "to", at)
        if not reached:
            raise r.fail(at, "'to' names at least one state")
        for state in reached:
            if state not in states:
                raise r.fail(at, f"unknown state {state!r}")
        out.append(
            FigureDef(
                label=r.string(spec, "label", at),
                from_state=start,
                to_states=reached,
                empty=r.string(spec, "empty", at, "None yet"),
            )
        )
    return tuple(out)


def _fields(r: _Reader, data: Any, where: str) -> tuple[FieldDef, ...]:
    if data is None:
        return ()
    table = r.table(data, where, set(data) if isinstance(data, dict) else set())
    out: list[FieldDef] = []
    for name, spec in table.items():
        at = f"{where}.{name}"
        if not NAME.match(name):
            raise r.fail(at, "field names are lower-case letters, digits and underscores")
        spec = r.table(spec, at, FIELD_KEYS)
        ftype = spec.get("type", "text")
        if ftype not in FIELD_TYPES:
            raise r.fail(at, f"unknown field type {ftype!r}")
        choices = _choices(r, spec.get("choices"), at)
        if ftype in ("choice", "multichoice") and not choices:
            raise r.fail(at, f"a {ftype} field needs choices")
        if ftype not in ("choice", "multichoice") and choices:
            raise r.fail(at, "only choice fields have choices")
        max_length = spec.get("max_length", DEFAULT_MAX_LENGTH.get(ftype))
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise r.fail(at, "max_length must be a positive whole number")
        rules = {kind: _rule(r, spec, kind, at) for kind in ("only_when", "shown_when")}
        if ftype == "case" and not isinstance(spec.get("workflow"), str):
            raise r.fail(at, "a case field names the workflow of the case it refers to")
        out.append(
            FieldDef(
                name=name,
                label=r.string(spec, "label", at, name.replace("_", " ").capitalize()),
                type=ftype,
                required=r.flag(spec, "required", at),
                choices=choices,
                confidential=r.flag(spec, "confidential", at),
                withheld_reason=r.string(spec, "withheld_reason", at, "confidential"),
                help=r.string(spec, "help", at, ""),
                required_message=r.string(spec, "required_message", at, ""),
                max_length=max_length,
                workflow=spec.get("workflow"),
                states=r.names(spec, "states", at),
                only_when=rules["only_when"],
                shown_when=rules["shown_when"],
                updates_case=r.flag(spec, "updates_case", at),
                required_in_form=r.flag(spec, "required_in_form", at),
            )
        )
    by_name = {f.name: f for f in out}
    for f in out:
        for kind, rule in (("only_when", f.only_when), ("shown_when", f.shown_when)):
            for other, values in rule.items():
                at = f"{where}.{f.name}.{kind}"
                if other not in by_name or other == f.name:
                    raise r.fail(at, f"unknown field {other!r}")
                if kind == "shown_when" and by_name[other].shown_when:
                    raise r.fail(at, f"{other!r} is itself shown only sometimes")
                known = {c.value for c in by_name[other].choices}
                bad = [v for v in values if v not in known]
                if bad or not values:
                    raise r.fail(at, f"{other!r} has no choice {(bad or [''])[0]!r}")
    return tuple(out)


def _rule(r: _Reader, spec: dict[str, Any], kind: str, at: str) -> dict[str, tuple[str, ...]]:
    """An `only_when` or `shown_when` table: field name -> the values it applies for."""
    raw = spec.get(kind, {})
    if not isinstance(raw, dict):
        raise r.fail(at, f"{kind} must be a table")
    return {k: r.names(raw, k, f"{at}.{kind}") for k in raw}


def _choices(r: _Reader, data: Any, where: str) -> tuple[Choice, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise r.fail(where, "choices must be a list")
    out: list[Choice] = []
    for item in data:
        if isinstance(item, str):
            out.append(Choice(item, item.replace("_", " ").capitalize()))
        elif isinstance(item, dict):
            item = r.table(item, f"{where}.choices", {"value", "label", "clause"})
            value = r.string(item, "value", f"{where}.choices")
            out.append(
                Choice(
                    value,
                    r.string(item, "label", f"{where}.choices", value),
                    item.get("clause"),
                )
            )
        else:
            raise r.fail(where, "each choice is a string or a {value, label} table")
    values = [c.value for c in out]
    if len(set(values)) != len(values):
        raise r.fail(where, "choices repeat a value")
    return tuple(out)


def _states(r: _Reader, data: Any) -> dict[str, StateDef]:
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


def _transitions(r: _Reader, data: Any, states: Mapping[str, StateDef]) -> dict[str, TransitionDef]:
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
        roles = r.roles(spec, "roles", at)
        if not roles:
            raise r.fail(at, "'roles' names at least one role")
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
            fields=_fields(r, spec.get("fields"), f"{at}.fields"),
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


def _access(r: _Reader, data: Any, fields: tuple[FieldDef, ...]) -> Access:
    spec = r.table(data if data is not None else {}, "access", ACCESS_KEYS)
    readers = r.roles(spec, "readers", "access")
    if not readers:
        raise r.fail("access", "'readers' names at least one role")
    intake = r.roles(spec, "intake", "access")
    if not intake:
        raise r.fail("access", "'intake' names at least one role")
    subject_field = spec.get("subject_field")
    if subject_field is not None:
        f = next((f for f in fields if f.name == subject_field), None)
        if f is None or f.type != "person":
            raise r.fail("access", "subject_field must name a person field")
    stand_in_raw = spec.get("stand_in", {})
    if not isinstance(stand_in_raw, dict):
        raise r.fail("access", "stand_in must be a table")
    for role, deputy in stand_in_raw.items():
        if role not in ROLES or deputy not in ROLES:
            raise r.fail("access.stand_in", f"unknown role in {role!r} = {deputy!r}")
    if stand_in_raw and subject_field is None:
        raise r.fail("access", "stand_in needs a subject_field")
    if r.flag(spec, "reporter_reads", "access") and r.flag(spec, "reporter_receipt", "access"):
        raise r.fail("access", "reporter_reads and reporter_receipt cannot both be true")
    return Access(
        readers=readers,
        intake=intake,
        confidential=r.flag(spec, "confidential", "access"),
        reporter_receipt=r.flag(spec, "reporter_receipt", "access"),
        subject_field=subject_field,
        stand_in=dict(stand_in_raw),
        record_views=r.flag(spec, "record_views", "access"),
        reporter_reads=r.flag(spec, "reporter_reads", "access"),
        withheld_reason=r.string(spec, "withheld_reason", "access", "confidential"),
    )


def _check_deadlines(
    r: _Reader, states: Mapping[str, StateDef], transitions: Mapping[str, TransitionDef]
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


def _check_reachable(
    r: _Reader,
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
