"""Checking who may see and open a workflow's cases, and how long its records are kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casework.workflow.definition import (
    RETENTION_STARTS,
    Access,
    FieldDef,
    Retention,
    RetentionRule,
    StateDef,
)
from casework.workflow.loader.reader import Reader
from casework.workflow.roles import ROLES

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


def read_access(r: Reader, data: Any, fields: tuple[FieldDef, ...]) -> Access:
    spec = r.table(data if data is not None else {}, "access", ACCESS_KEYS)
    readers = r.some_roles(spec, "readers", "access")
    intake = r.some_roles(spec, "intake", "access")
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


def read_retention(
    r: Reader, data: Any, states: Mapping[str, StateDef], access: Access
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
    r: Reader, spec: dict[str, Any], base: dict[str, Any], at: str, access: Access
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
