"""Checking and cleaning field values against their definitions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from casework.errors import InvalidFields
from casework.workflow.definition import FieldDef

CASE_NUMBER = re.compile(r"^[A-Z]{2,6}-\d{4}-\d{4,}$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
ALLOWED_CONTROLS = {"\t", "\n", "\r"}
#: Unicode's control characters (category Cc: U+0000–U+001F and U+007F–U+009F).
_CC = "".join(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)))
#: Any control character but those allowed.
_CONTROL = re.compile("[" + re.escape("".join(c for c in _CC if c not in ALLOWED_CONTROLS)) + "]")


class References(Protocol):
    """Lookups a field check needs from the database."""

    def person_exists(self, person_id: int) -> bool: ...

    def case_state(self, number: str, workflow: str) -> str | None: ...

    def unknown_users(self, names: Iterable[str]) -> list[str]: ...

    def branches(self) -> tuple[str, ...]: ...


def _empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def clean_text(value: Any, *, multiline: bool, max_length: int | None) -> str:
    """A string a person wrote: no control characters, encodable, within its length."""
    if not isinstance(value, str):
        raise ValueError("Must be text.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Contains characters that are not valid text.") from None
    if _CONTROL.search(value):
        raise ValueError("Contains control characters (such as NUL) that are not allowed.")
    value = value.strip()
    if not multiline and ("\n" in value or "\r" in value):
        raise ValueError("Must be a single line.")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"At most {max_length} characters (this has {len(value)}).")
    return value


def clean_branch(value: Any, branches: tuple[str, ...], max_length: int | None = 200) -> str:
    """A branch or department: one of the configured `branches` (any text when none are)."""
    text = clean_text(value, multiline=False, max_length=max_length)
    if branches and text not in branches:
        raise ValueError(
            f"Not a branch or department of the library; choose one of: {', '.join(branches)}."
        )
    return text


def _choice(f: FieldDef, value: Any) -> str:
    values = [c.value for c in f.choices]
    if not isinstance(value, str) or value not in values:
        raise ValueError(f"Not one of the choices: {', '.join(values)}.")
    return value


def _datetime(value: Any, tz: ZoneInfo) -> str:
    if not isinstance(value, str):
        raise ValueError("Must be a date and time such as 2026-03-01T14:30.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("Must be a date and time such as 2026-03-01T14:30.") from None
    if not 1900 <= parsed.year <= 2200:
        raise ValueError("The year is out of range.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: Any) -> str:
    if not isinstance(value, str) or len(value.strip()) != 10:
        raise ValueError("Must be a date such as 2026-03-01.")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("Must be a date such as 2026-03-01.") from None
    if not 1900 <= parsed.year <= 2200:
        raise ValueError("The year is out of range.")
    return parsed.isoformat()


def _url(f: FieldDef, value: Any) -> str:
    text = clean_text(value, multiline=False, max_length=f.max_length)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise ValueError("Must be a web address starting with http:// or https://.")
    return text


def _usernames(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Must be a list of user names.")
    names = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    bad = [n for n in names if not USERNAME.match(n)]
    if bad:
        raise ValueError(f"Not a user name: {bad[0][:40]!r}.")
    return names


def clean_value(f: FieldDef, value: Any, refs: References, tz: ZoneInfo) -> Any:
    """One field's value, checked and normalised; ValueError with a message when it is not valid."""
    if f.type in ("text", "textarea"):
        return clean_text(value, multiline=f.type == "textarea", max_length=f.max_length)
    if f.type == "choice":
        return _choice(f, value)
    if f.type == "branch":
        return clean_branch(value, refs.branches(), f.max_length)
    if f.type == "multichoice":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValueError("Must be a list of choices.")
        return list(dict.fromkeys(_choice(f, v) for v in value))
    if f.type == "yesno":
        if isinstance(value, bool):
            return "yes" if value else "no"
        if value not in ("yes", "no"):
            raise ValueError("Must be yes or no.")
        return value
    if f.type == "date":
        return _date(value)
    if f.type == "datetime":
        return _datetime(value, tz)
    if f.type == "url":
        return _url(f, value)
    if f.type == "person":
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
            raise ValueError("Must be the id of a person.")
        if not refs.person_exists(value):
            raise ValueError(f"No person has the id {value}.")
        return value
    if f.type == "case":
        if not isinstance(value, str) or not CASE_NUMBER.match(value.strip().upper()):
            raise ValueError("Must be a case number such as ACC-2026-0001.")
        number = value.strip().upper()
        assert f.workflow is not None
        state = refs.case_state(number, f.workflow)
        if state is None:
            raise ValueError(f"There is no {f.workflow} case {number}.")
        if f.states and state not in f.states:
            raise ValueError(f"{number} is {state.replace('_', ' ')}, not {' or '.join(f.states)}.")
        return number
    if f.type == "usernames":
        names = _usernames(value)
        unknown = refs.unknown_users(names)
        if unknown:
            raise ValueError(f"Unknown user: {', '.join(unknown)}.")
        return names
    raise ValueError(f"Unknown field type {f.type}.")


def shown(f: FieldDef, values: Mapping[str, Any]) -> bool:
    """Whether a field is asked for, given the values of the fields its `shown_when` names."""
    return all(values.get(other) in allowed for other, allowed in f.shown_when.items())


def validate_fields(
    defs: Iterable[FieldDef],
    data: Any,
    refs: References,
    tz: ZoneInfo,
    *,
    context: Mapping[str, Any] | None = None,
    form: bool = False,
) -> dict[str, Any]:
    """Check `data` against field definitions; return the cleaned values of the fields given.

    Raises `InvalidFields` naming each field that is missing, unknown or invalid. `context`
    holds values of other fields that `only_when` and `shown_when` rules may look at. With `form`
    (a web form), fields `required_in_form` are required as well, and a field whose `shown_when`
    rule does not hold is ignored, neither checked nor kept: the page hid it, and what it still
    holds was typed for another answer. From the API every field given is checked and kept.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidFields({"fields": ["Must be an object of field names and values."]})
    defs = list(defs)
    known = {f.name for f in defs}
    errors: dict[str, list[str]] = {}
    for name in data:
        if name not in known:
            errors[str(name)[:64]] = ["Unknown field."]
    clean: dict[str, Any] = {}
    given = {**(context or {}), **data}
    for f in defs:
        if form and f.shown_when and not shown(f, given):
            continue
        value = data.get(f.name)
        if _empty(value):
            if f.required or (form and f.required_in_form):
                errors[f.name] = [f.missing]
            continue
        try:
            clean[f.name] = clean_value(f, value, refs, tz)
        except ValueError as exc:
            errors[f.name] = [str(exc)]
    seen = {**(context or {}), **clean}
    by_name = {f.name: f for f in defs}
    for f in defs:
        if f.name not in clean:
            continue
        for other, allowed in f.only_when.items():
            if seen.get(other) not in allowed:
                label = by_name[other].label if other in by_name else other
                errors.setdefault(f.name, []).append(
                    f"Only applies when {label.lower()} is {' or '.join(allowed)}."
                )
    if errors:
        raise InvalidFields(errors)
    return clean
