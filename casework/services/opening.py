"""Opening a case: its intake fields checked, its number given, its creation recorded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from casework.errors import Forbidden, InvalidFields
from casework.extensions import db
from casework.library import library
from casework.models import (
    GENESIS_HASH,
    Case,
    User,
    utcnow,
)
from casework.services import limits
from casework.services.access import (
    case_access,
    may_work,
)
from casework.services.audit import append_event, canonical_json
from casework.services.case_fields import References, deadline_in, derived_columns
from casework.services.db import begin_write
from casework.services.definitions import store_definition
from casework.services.numbering import next_number
from casework.signals import event_appended
from casework.workflow import Workflow
from casework.workflow.definition import FieldDef
from casework.workflow.fields import validate_fields

#: How far ahead of the server's clock a "received" time may be (a desk computer's clock).
CLOCK_SLACK = timedelta(minutes=5)


def _received_at(workflow: Workflow, clean: dict[str, Any], now: datetime) -> datetime:
    """When the library received the case: the workflow's received field, defaulting to now
    (and then stored as now, so the record says when its deadline started)."""
    name = workflow.received_field
    if name is None:
        return now
    value = clean.get(name)
    if value is None:
        clean[name] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return now
    received = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if received > now + CLOCK_SLACK:
        label = (workflow.field(name) or FieldDef(name, name, "datetime")).label
        raise InvalidFields({name: [f"{label} cannot be in the future."]})
    return received


def _intake_workflow(actor: User, workflow_key: Any, check_intake: bool) -> Workflow:
    lib = library()
    if not isinstance(workflow_key, str) or workflow_key not in lib.workflows:
        known = ", ".join(sorted(lib.workflows.keys()))
        raise InvalidFields({"workflow": [f"Unknown workflow; one of: {known}."]})
    workflow = lib.workflow(workflow_key)
    if check_intake and not actor.roles & set(workflow.access.intake):
        raise Forbidden(f"Your role may not open {workflow.title.lower()} cases.")
    return workflow


def _intake_fields(
    actor: User, workflow: Workflow, fields: Any, now: datetime, form: bool = False
) -> tuple[dict[str, Any], datetime]:
    clean = validate_fields(workflow.fields, fields, References(actor), library().tz, form=form)
    return clean, _received_at(workflow, clean, now)


def check_intake(actor: User, workflow_key: Any, fields: Any) -> dict[str, Any]:
    """The checks `open_case` makes for the web's intake form, changing nothing: the intake
    fields as they would be recorded (a "check your answers" page shows only valid answers).
    Raises as `open_case`."""
    workflow = _intake_workflow(actor, workflow_key, True)
    clean, _ = _intake_fields(actor, workflow, fields, utcnow(), form=True)
    return clean


def open_case(
    actor: User,
    workflow_key: Any,
    fields: Any,
    *,
    now: datetime | None = None,
    check_intake: bool = True,
    origin: Mapping[str, Any] | None = None,
    limited: bool = False,
    take: bool = False,
    form: bool = False,
) -> Case:
    """Open a case of a workflow with its intake fields, and record its creation.

    With `form` (the web's intake form), fields the workflow requires in forms are required too.
    With `take`, the case is assigned to whoever opens it when their role works such cases
    (`may_work`), as the web's intake does; the creation event names them.

    Raises `InvalidFields` (unknown workflow, bad fields) and `Forbidden` (role may not open it).
    With `limited` (a request from the web or the API), a confidential case counts as a report
    against the reporter's reports an hour (`TooMany` past it).
    `origin` is recorded in the creation event (e.g. the case it was referred from).
    """
    lib = library()
    workflow = _intake_workflow(actor, workflow_key, check_intake)
    begin_write()
    now = now or utcnow()
    clean, received = _intake_fields(actor, workflow, fields, now, form)
    if limited and workflow.access.confidential:
        limits.count_report(actor, workflow.title, now)
    number = next_number(workflow.prefix, now.astimezone(lib.tz).year)
    store_definition(workflow)
    subject = clean.get(workflow.access.subject_field) if workflow.access.subject_field else None
    case = Case(
        number=number,
        workflow_key=workflow.key,
        definition_digest=workflow.digest,
        state=workflow.initial,
        version=1,
        fields_json=canonical_json(clean),
        confidential=workflow.access.confidential,
        subject_person_id=subject,
        reporter_id=actor.id,
        created_at=now,
        updated_at=now,
        state_entered_at=now,
        due_at=deadline_in(workflow, workflow.initial, received),
        head_seq=0,
        head_hash=GENESIS_HASH,
        **derived_columns(number, workflow, clean),
    )
    if take and may_work(case_access(actor, case, workflow), workflow):
        case.assignee_id = actor.id
    db.session.add(case)
    db.session.flush()
    data: dict[str, Any] = {"workflow": workflow.key, "version": workflow.version, "fields": clean}
    if case.assignee_id is not None:
        data["assignee"] = actor.username
    if origin:
        data.update(origin)
    event = append_event(case, actor.username, "created", data, to_state=workflow.initial, at=now)
    event_appended.send(case, workflow=workflow, event=event)
    session = db.session()
    held = session.info.get(_OPENED_NOW)
    if held is None or held[0] is not session.get_transaction():
        held = session.info[_OPENED_NOW] = (session.get_transaction(), set[int]())
    held[1].add(case.id)
    return case


#: The session's note of the cases opened in its present transaction (`opened_now`).
_OPENED_NOW = "casework.opened_now"


def opened_now(case: Case) -> bool:
    """Whether `case` was opened in the session's present transaction, not yet committed."""
    session = db.session()
    held = session.info.get(_OPENED_NOW)
    return bool(held and held[0] is session.get_transaction() and case.id in held[1])
