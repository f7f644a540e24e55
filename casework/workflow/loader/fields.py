"""Checking the fields of a workflow file (intake and transition fields): types, choices,
lengths, and the rules that show or allow one field by the value of another."""

from __future__ import annotations

from typing import Any

from casework.workflow.definition import FIELD_TYPES, Choice, FieldDef
from casework.workflow.loader.reader import NAME, Reader

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
DEFAULT_MAX_LENGTH = {"text": 500, "textarea": 20_000, "url": 2_000, "branch": 200}


def read_fields(r: Reader, data: Any, where: str) -> tuple[FieldDef, ...]:
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


def _rule(r: Reader, spec: dict[str, Any], kind: str, at: str) -> dict[str, tuple[str, ...]]:
    """An `only_when` or `shown_when` table: field name -> the values it applies for."""
    raw = spec.get(kind, {})
    if not isinstance(raw, dict):
        raise r.fail(at, f"{kind} must be a table")
    return {k: r.names(raw, k, f"{at}.{kind}") for k in raw}


def _choices(r: Reader, data: Any, where: str) -> tuple[Choice, ...]:
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
