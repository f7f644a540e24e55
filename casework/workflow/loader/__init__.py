"""Reading a workflow file (TOML) and assembling its checked parts into a `Workflow`.

The parts are checked by the modules beside this one (fields, the state machine, access and
retention, what the workflow shows and sends); here stand the top-level keys and the checks
that tie parts together.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from casework.workflow.definition import Workflow
from casework.workflow.errors import WorkflowFileError
from casework.workflow.loader.access import read_access, read_retention
from casework.workflow.loader.attention import (
    read_figures,
    read_notifications,
    read_queues,
    read_watches,
)
from casework.workflow.loader.fields import read_fields
from casework.workflow.loader.machine import (
    check_deadlines,
    check_reachable,
    read_states,
    read_transitions,
)
from casework.workflow.loader.reader import NAME, Reader

PREFIX = re.compile(r"^[A-Z]{2,6}$")

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
    r = Reader(path, key if isinstance(key, str) else None)
    r.table(data, "", TOP_KEYS)
    if not isinstance(key, str) or not NAME.match(key):
        raise r.fail("key", "must be lower-case letters, digits and underscores")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise r.fail("version", "must be a whole number of at least 1")
    prefix = data.get("prefix")
    if not isinstance(prefix, str) or not PREFIX.match(prefix):
        raise r.fail("prefix", "must be 2 to 6 capital letters")

    fields = read_fields(r, data.get("fields"), "fields")
    if not fields:
        raise r.fail("fields", "a workflow needs at least one intake field")
    field_names = {f.name for f in fields}
    states = read_states(r, data.get("states"))
    initial = r.string(data, "initial", "initial")
    if initial not in states:
        raise r.fail("initial", f"unknown state {initial!r}")
    transitions = read_transitions(r, data.get("transitions"), states)
    access = read_access(r, data.get("access"), fields)
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

    release_states = r.states(data, "release_states", "release_states", states)
    summary_fields = r.names(data, "summary_fields", "summary_fields")
    for name in summary_fields:
        trigger, _, given = name.rpartition(".")
        if not trigger and name not in field_names:
            raise r.fail("summary_fields", f"unknown field {name!r}")
        if trigger and (trigger not in transitions or transitions[trigger].field(given) is None):
            raise r.fail("summary_fields", f"{name!r} names no field of a transition")

    watches = read_watches(r, data.get("watches"), states)
    check_deadlines(r, states, transitions)
    check_reachable(r, initial, states, transitions)
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
        queues=read_queues(r, data.get("queues"), states, watches),
        watches=watches,
        notifications=read_notifications(r, data.get("notifications"), states, transitions),
        figures=read_figures(r, data.get("figures"), states),
        mail_fields=mail_fields,
        retention=read_retention(r, data.get("retention"), states, access),
        release_states=release_states,
        summary_fields=summary_fields,
        confirm_intake=r.flag(data, "confirm_intake", "confirm_intake"),
        intake_evidence=r.flag(data, "intake_evidence", "intake_evidence"),
    )
