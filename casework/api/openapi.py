"""The OpenAPI 3.1 description of the JSON API (a test checks it against the routes)."""

from __future__ import annotations

from typing import Any

NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Case number, e.g. CMP-2026-0042.",
}
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
PERSON_ID = {"name": "person_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SHA256 = {"name": "sha256", "in": "path", "required": True, "schema": {"type": "string"}}


#: The media types evidence files are stored as (checked by content on upload).
ATTACHMENT_TYPES = ("image/png", "image/jpeg", "application/pdf", "text/plain")

#: A printed document's response.
PDF = {
    "200": {
        "description": "PDF document",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ok(
    description: str, schema: dict[str, Any] | None = None, status: str = "200"
) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = json_content(schema)
    return {status: body}


def errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request",
        401: "Not signed in: no token, a token not valid, or one that expired (the message says)",
        403: "Not allowed",
        404: "Unknown, or not visible to you",
        409: "Stale version; the body carries the current case",
        410: "Disposed of under the retention schedule; the body carries the tombstone",
        413: "Too large",
        422: "Invalid fields, or a workflow rule refused",
    }
    out: dict[str, Any] = {}
    for status in statuses:
        schema = {409: ref("StaleVersion"), 410: ref("Disposed")}.get(status, ref("Error"))
        out[str(status)] = {"description": text[status], "content": json_content(schema)}
    return out


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": json_content(schema)}


def obj(
    properties: dict[str, Any], required: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter that may also be sent empty, as a form does: empty means not given."""
    return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}


STRING = {"type": "string"}
NSTRING = {"type": ["string", "null"]}
NTIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}

FIELD = obj(
    {
        "name": STRING,
        "label": STRING,
        "type": STRING,
        "required": BOOL,
        "choices": {"type": ["array", "null"], "items": STRING},
        "choice_labels": {"type": ["object", "null"], "additionalProperties": STRING},
        "confidential": BOOL,
        "help": NSTRING,
        # Asked for only when another field has one of these values (else ignored).
        "shown_when": {
            "type": ["object", "null"],
            "additionalProperties": {"type": "array", "items": STRING},
        },
    },
    ["name", "type", "required", "choices"],
)

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {
            "error": obj(
                {
                    "code": STRING,
                    "message": STRING,
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": STRING},
                    },
                },
                ["code", "message", "fields"],
            )
        },
        ["error"],
    ),
    "Field": FIELD,
    "Receipt": obj(
        {
            "number": STRING,
            "workflow": STRING,
            "state": {"type": "string", "enum": ["open", "closed"]},
            "state_label": {"type": "string", "enum": ["Open", "Closed"]},
            "created_at": TIME,
            "receipt": {"const": True},
        },
        ["number", "workflow", "state", "created_at", "receipt"],
        description=(
            "What the reporter of a confidential case sees: number, date received, and whether"
            " it is open or closed (never its state, outcome or version)."
        ),
    ),
    "CaseSummary": obj(
        {
            "number": STRING,
            "workflow": STRING,
            "workflow_version": INT,
            "title": STRING,
            "state": STRING,
            "state_label": STRING,
            "version": INT,
            "confidential": BOOL,
            "assignee": NSTRING,
            "branch": NSTRING,
            "created_at": TIME,
            "updated_at": TIME,
            "due_at": NTIME,
            "overdue": BOOL,
            "closed_at": NTIME,
            "fields": {
                "type": "object",
                "description": "Intake fields (not listed for confidential cases).",
            },
        },
        ["number", "workflow", "state", "version", "created_at", "updated_at", "due_at", "overdue"],
    ),
    "Transition": obj(
        {
            "trigger": STRING,
            "label": STRING,
            "dest": STRING,
            "fields": {"type": "array", "items": ref("Field")},
        },
        ["trigger", "dest", "fields"],
    ),
    "Case": {
        "oneOf": [
            {
                "allOf": [
                    ref("CaseSummary"),
                    obj(
                        {
                            "fields": {"type": "object"},
                            "reporter": STRING,
                            "subject": obj({"id": INT, "name": STRING}),
                            "links": {"type": "array", "items": STRING},
                            "attachments": {"type": "array", "items": ref("Attachment")},
                            "chain_head": obj({"seq": INT, "hash": STRING}),
                            "retention": ref("Eligibility"),
                            "holds": {"type": "array", "items": ref("Hold")},
                            "on_hold": BOOL,
                            "available_transitions": {"type": "array", "items": ref("Transition")},
                            "blocked_transitions": {
                                "type": "array",
                                "items": obj(
                                    {"trigger": STRING, "label": STRING, "reason": STRING}
                                ),
                            },
                        },
                        ["fields", "links", "available_transitions"],
                    ),
                ]
            },
            ref("Receipt"),
        ]
    },
    "CaseList": obj(
        {
            "items": {"type": "array", "items": {"oneOf": [ref("CaseSummary"), ref("Receipt")]}},
            "page": INT,
            "per_page": INT,
            "total": INT,
            "next_cursor": NSTRING,
        },
        ["items", "page", "per_page", "total"],
    ),
    "Event": obj(
        {
            "seq": INT,
            "at": TIME,
            "actor": STRING,
            "action": STRING,
            "from_state": NSTRING,
            "to_state": NSTRING,
            "data": {"type": "object"},
            "prev_hash": STRING,
            "hash": STRING,
        },
        ["seq", "at", "actor", "action", "from_state", "to_state", "data", "prev_hash", "hash"],
    ),
    "Attachment": obj(
        {"sha256": STRING, "name": STRING, "size": INT, "type": STRING},
        ["sha256", "name", "size", "type"],
    ),
    "Person": obj(
        {"id": INT, "name": STRING, "employee_id": STRING, "branch": STRING, "user": NSTRING},
        ["id", "name", "employee_id"],
    ),
    "WorkflowSummary": obj(
        {
            "key": STRING,
            "version": INT,
            "prefix": STRING,
            "title": STRING,
            "description": STRING,
            "confidential": BOOL,
        },
        ["key", "version", "prefix", "title"],
    ),
    "Workflow": obj(
        {
            "key": STRING,
            "version": INT,
            "prefix": STRING,
            "title": STRING,
            "initial": STRING,
            "retention": {
                "description": (
                    "The record series and retention period (null: kept for good); `by_state`"
                    " gives the end states whose rule differs."
                ),
                "oneOf": [{"type": "null"}, ref("RetentionRule")],
            },
            "fields": {"type": "array", "items": ref("Field")},
            "states": {"type": "array", "items": {"type": "object"}},
            "transitions": {"type": "array", "items": {"type": "object"}},
        },
        ["key", "version", "prefix", "title", "initial", "fields", "states", "transitions"],
    ),
    "Hold": obj(
        {
            "id": INT,
            "case": STRING,
            "kind": STRING,
            "reason": STRING,
            "placed_by": STRING,
            "placed_at": TIME,
            "lifted_by": NSTRING,
            "lifted_at": NTIME,
            "lift_reason": NSTRING,
        },
        ["id", "kind", "reason", "placed_by", "placed_at", "lifted_at"],
    ),
    "Eligibility": obj(
        {
            "series": NSTRING,
            "schedule": NSTRING,
            "period": STRING,
            "eligible_on": {"type": ["string", "null"], "format": "date"},
            "status": STRING,
        },
        ["series", "schedule", "period", "eligible_on", "status"],
        description="When the case's retention period ends, as far as is known today.",
    ),
    "Due": {
        "allOf": [
            ref("Eligibility"),
            obj(
                {
                    "number": STRING,
                    "workflow": STRING,
                    "closed_on": {"type": ["string", "null"], "format": "date"},
                    "on_hold": BOOL,
                    "eligible_now": BOOL,
                },
                ["number", "workflow", "on_hold", "eligible_now"],
            ),
        ]
    },
    "Tombstone": obj(
        {
            "number": STRING,
            "workflow": STRING,
            "opened_at": TIME,
            "closed_at": NTIME,
            "disposed_at": TIME,
            "series": STRING,
            "schedule": STRING,
            "batch": INT,
            "certificate_sha256": STRING,
            "confirmed_by": NSTRING,
            "events_kept": INT,
        },
        ["number", "workflow", "disposed_at", "series", "schedule", "batch", "certificate_sha256"],
        description="What is kept of a disposed case; answered with 410 and the error object.",
    ),
    "RetentionRule": obj(
        {
            "series": STRING,
            "schedule": STRING,
            "years": {"type": ["integer", "null"]},
            "after": {"type": ["string", "null"], "enum": ["closed", "separation", None]},
            "permanent": BOOL,
            "period": STRING,
            "by_state": {"type": "object", "additionalProperties": {"type": "object"}},
        },
        ["series", "schedule", "permanent", "period"],
    ),
    "AuditReport": obj(
        {
            "ok": BOOL,
            "cases": INT,
            "events": INT,
            "broken": {
                "type": "array",
                "items": obj({"case": STRING, "seq": INT, "problem": STRING}),
            },
            "administration": obj(
                {
                    "events": INT,
                    "ok": BOOL,
                    "broken": {
                        "type": "array",
                        "items": obj({"seq": INT, "problem": STRING}),
                    },
                },
                ["events", "ok", "broken"],
            ),
            "erased": {
                "type": "array",
                "description": (
                    "Events whose data a disposal erased: their links and log leaves are"
                    " checked, their content cannot be."
                ),
                "items": obj({"case": STRING, "from_seq": INT, "to_seq": INT}),
            },
        },
        ["ok", "cases", "events", "broken", "administration"],
    ),
}
# The 410 body: the error object plus the tombstone.
SCHEMAS["Disposed"] = obj(
    {"error": SCHEMAS["Error"]["properties"]["error"], "tombstone": ref("Tombstone")},
    ["error", "tombstone"],
)
# The 409 body: the error object plus the case as it is now.
SCHEMAS["StaleVersion"] = obj(
    {"error": SCHEMAS["Error"]["properties"]["error"], "case": ref("Case")}, ["error", "case"]
)


WITHHOLDING = obj(
    {"case": STRING, "passage": {"type": "string", "minLength": 1}, "authority": STRING},
    ["case", "passage", "authority"],
    additionalProperties=False,
)
PACKET_REQUEST = obj(
    {
        "cases": {"type": "array", "items": STRING, "minItems": 1},
        "withholdings": {"type": "array", "items": WITHHOLDING},
    },
    ["cases"],
    additionalProperties=False,
)
PACKET = obj(
    {
        "id": INT,
        "event": INT,
        "sha256": STRING,
        "size": INT,
        "released_at": TIME,
        "released_by": STRING,
        "cases": {"type": "array", "items": STRING},
        "withholdings": {
            "type": "array",
            "items": obj(
                {"case": STRING, "place": STRING, "authority": STRING},
                ["case", "place", "authority"],
            ),
        },
        "download": NSTRING,
    },
    ["id", "sha256", "cases", "withholdings", "download"],
)


def _paths() -> dict[str, Any]:
    authed = (401,)
    return {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": ok("OpenAPI document", {"type": "object"}),
            }
        },
        "/workflows": {
            "get": {
                "summary": "List workflows",
                "responses": {
                    **ok(
                        "Workflows",
                        obj(
                            {"items": {"type": "array", "items": ref("WorkflowSummary")}}, ["items"]
                        ),
                    ),
                    **errors(*authed),
                },
            }
        },
        "/workflows/{key}": {
            "get": {
                "summary": "A workflow's states, transitions and fields",
                "parameters": [KEY],
                "responses": {**ok("The workflow", ref("Workflow")), **errors(401, 404)},
            }
        },
        "/workflows/{key}/diagram.svg": {
            "get": {
                "summary": "A workflow's diagram",
                "parameters": [KEY],
                "responses": {
                    "200": {
                        "description": "SVG image",
                        "content": {"image/svg+xml": {"schema": STRING}},
                    },
                    **errors(401, 404),
                },
            }
        },
        "/people": {
            "get": {
                "summary": "Find people by name or employee id",
                "parameters": [{"name": "q", "in": "query", "schema": STRING}],
                "responses": {
                    **ok(
                        "People",
                        obj({"items": {"type": "array", "items": ref("Person")}}, ["items"]),
                    ),
                    **errors(401, 422),
                },
            },
            "post": {
                "summary": "Add a person (director, hr, admin)",
                "requestBody": request_body(
                    obj(
                        {"name": STRING, "employee_id": STRING, "branch": STRING, "user": NSTRING},
                        ["name", "employee_id"],
                        additionalProperties=False,
                    )
                ),
                "responses": {**ok("Added", ref("Person"), "201"), **errors(400, 401, 403, 422)},
            },
        },
        "/people/{person_id}": {
            "get": {
                "summary": "A person",
                "parameters": [PERSON_ID],
                "responses": {**ok("The person", ref("Person")), **errors(401, 404)},
            }
        },
        "/cases": {
            "get": {
                "summary": "List the cases you may see",
                "parameters": [
                    {"name": name, "in": "query", "schema": or_empty(schema)}
                    for name, schema in (
                        ("workflow", STRING),
                        ("state", STRING),
                        (
                            "assignee",
                            {"type": "string", "description": "A user name, 'me' or 'none'."},
                        ),
                        ("branch", STRING),
                        ("q", {"type": "string", "description": "Free text, or a case number."}),
                        (
                            "overdue",
                            {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no"]},
                        ),
                        (
                            "on_hold",
                            {
                                "type": "string",
                                "enum": ["1", "0", "true", "false", "yes", "no"],
                                "description": "Only cases under a legal hold in force.",
                            },
                        ),
                        (
                            "eligible",
                            {
                                "type": "string",
                                "enum": ["1", "0", "true", "false", "yes", "no"],
                                "description": (
                                    "Only cases eligible for disposal today (retention period"
                                    " ended, no legal hold, not disposed of)."
                                ),
                            },
                        ),
                        (
                            "open",
                            {
                                "type": "string",
                                "enum": ["1", "0", "true", "false", "yes", "no"],
                                "description": "1: open cases only (not closed).",
                            },
                        ),
                        ("opened_from", {"type": "string", "format": "date"}),
                        ("opened_to", {"type": "string", "format": "date"}),
                        (
                            "sort",
                            {
                                "type": "string",
                                "enum": [
                                    "-created_at",
                                    "created_at",
                                    "-updated_at",
                                    "updated_at",
                                    "due_at",
                                ],
                            },
                        ),
                        ("page", {"type": "integer", "minimum": 1}),
                        ("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
                        (
                            "cursor",
                            {
                                "type": "string",
                                "description": "next_cursor of the previous page (keyset): "
                                "sealed, good only for the user and sort it was given for; any "
                                "other answers 400.",
                            },
                        ),
                    )
                ],
                "responses": {
                    **ok("One page of cases", ref("CaseList")),
                    **errors(400, 401, 422),
                },
            },
            "post": {
                "summary": "Open a case",
                "requestBody": request_body(
                    obj(
                        {"workflow": STRING, "fields": {"type": "object"}},
                        ["workflow"],
                        additionalProperties=False,
                    )
                ),
                "responses": {**ok("Opened", ref("Case"), "201"), **errors(400, 401, 403, 422)},
            },
        },
        "/cases/{number}": {
            "get": {
                "summary": "A case, with the transitions you may fire now",
                "parameters": [NUMBER],
                "responses": {**ok("The case", ref("Case")), **errors(401, 404, 410)},
            }
        },
        "/cases/{number}/transitions": {
            "post": {
                "summary": "Fire a transition",
                "parameters": [NUMBER],
                "requestBody": request_body(
                    obj(
                        {"trigger": STRING, "version": INT, "fields": {"type": "object"}},
                        ["trigger", "version"],
                        additionalProperties=False,
                    )
                ),
                "responses": {
                    **ok("The case after the transition", ref("Case")),
                    **errors(400, 401, 403, 404, 409, 410, 422),
                },
            }
        },
        "/cases/{number}/notes": {
            "post": {
                "summary": "Add a note",
                "parameters": [NUMBER],
                "requestBody": request_body(
                    obj({"text": STRING}, ["text"], additionalProperties=False)
                ),
                "responses": {
                    **ok("The note's audit event", ref("Event"), "201"),
                    **errors(400, 401, 403, 404, 410, 422),
                },
            }
        },
        "/cases/{number}/holds": {
            "post": {
                "summary": "Place a legal hold (the Director or HR; trustees for a case about"
                " the Director)",
                "parameters": [NUMBER],
                "requestBody": request_body(
                    obj(
                        {
                            "kind": {
                                "type": "string",
                                "enum": ["litigation", "public_records", "investigation"],
                            },
                            "reason": STRING,
                        },
                        ["kind", "reason"],
                        additionalProperties=False,
                    )
                ),
                "responses": {
                    **ok("The hold", ref("Hold"), "201"),
                    **errors(400, 401, 403, 404, 410, 422),
                },
            }
        },
        "/cases/{number}/holds/{hold_id}/lift": {
            "post": {
                "summary": "Lift a legal hold",
                "parameters": [
                    NUMBER,
                    {"name": "hold_id", "in": "path", "required": True, "schema": INT},
                ],
                "requestBody": request_body(
                    obj({"reason": STRING}, ["reason"], additionalProperties=False)
                ),
                "responses": {
                    **ok("The hold, lifted", ref("Hold")),
                    **errors(400, 401, 403, 404, 410, 422),
                },
            }
        },
        "/holds": {
            "get": {
                "summary": "Every legal hold on a case the caller may see, the newest first",
                "parameters": [
                    {
                        "name": "in_force",
                        "in": "query",
                        "schema": or_empty(
                            {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no"]}
                        ),
                    }
                ],
                "responses": {
                    **ok("Holds", obj({"items": {"type": "array", "items": ref("Hold")}})),
                    **errors(401, 422),
                },
            }
        },
        "/retention": {
            "get": {
                "summary": "Closed cases eligible for disposal now or within 90 days (the"
                " records officer and the Director)",
                "responses": {
                    **ok(
                        "Cases due for disposal, the soonest first",
                        obj(
                            {
                                "items": {"type": "array", "items": ref("Due")},
                                "within_days": INT,
                            },
                            ["items", "within_days"],
                        ),
                    ),
                    **errors(401, 403),
                },
            }
        },
        "/cases/{number}/events": {
            "get": {
                "summary": "The case's audit trail",
                "parameters": [NUMBER],
                "responses": {
                    **ok(
                        "Events in order",
                        obj({"items": {"type": "array", "items": ref("Event")}}, ["items"]),
                    ),
                    **errors(401, 403, 404, 410),
                },
            }
        },
        "/cases/{number}/assignee": {
            "post": {
                "summary": "Assign the case (null or empty to unassign)",
                "parameters": [NUMBER],
                "requestBody": request_body(
                    obj({"username": NSTRING}, ["username"], additionalProperties=False)
                ),
                "responses": {
                    **ok("The case", ref("Case")),
                    **errors(400, 401, 403, 404, 410, 422),
                },
            }
        },
        "/cases/{number}/links": {
            "post": {
                "summary": "Link another case",
                "parameters": [NUMBER],
                "requestBody": request_body(
                    obj({"number": STRING}, ["number"], additionalProperties=False)
                ),
                "responses": {
                    **ok("The case", ref("Case"), "201"),
                    **errors(400, 401, 403, 404, 410, 422),
                },
            }
        },
        "/cases/{number}/attachments": {
            "post": {
                "summary": "Attach evidence (png, jpeg, pdf or plain text, checked by content)",
                "parameters": [NUMBER],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": obj(
                                {"file": {"type": "string", "format": "binary"}}, ["file"]
                            )
                        }
                    },
                },
                "responses": {
                    **ok("Stored", ref("Attachment"), "201"),
                    **errors(400, 401, 403, 404, 410, 413, 422),
                },
            }
        },
        "/cases/{number}/attachments/{sha256}": {
            "get": {
                "summary": "Download an attachment",
                "parameters": [NUMBER, SHA256],
                "responses": {
                    "200": {
                        "description": "The file, as a download, typed by its content",
                        "content": {
                            media_type: {"schema": {"type": "string", "format": "binary"}}
                            for media_type in ATTACHMENT_TYPES
                        },
                    },
                    **errors(401, 403, 404, 410),
                },
            }
        },
        "/audit/verify": {
            "get": {
                "summary": (
                    "Verify the audit chains (director, admin); counts and names only the"
                    " cases the caller may see"
                ),
                "responses": {**ok("The report", ref("AuditReport")), **errors(401, 403)},
            }
        },
        "/cases/{number}/record.pdf": {
            "get": {
                "summary": "The case record as PDF; the print is recorded in the case's trail",
                "parameters": [
                    NUMBER,
                    {
                        "name": "redacted",
                        "in": "query",
                        "required": False,
                        # As the API reads it: empty is 0, as a form sends it.
                        "schema": {
                            "type": "string",
                            "enum": ["1", "true", "yes", "0", "false", "no", ""],
                        },
                        "description": "1 for the public-records copy: confidential fields "
                        "withheld and marked.",
                    },
                ],
                "responses": {**PDF, **errors(401, 403, 404, 410, 422)},
            }
        },
        "/cases/{number}/packets": {
            "get": {
                "summary": "A records request's released packets, newest first",
                "description": "Numbers of cases the caller may not see are left out, and such "
                "a packet has no download.",
                "parameters": [NUMBER],
                "responses": {
                    **ok(
                        "The packets",
                        obj({"items": {"type": "array", "items": PACKET}}, ["items"]),
                    ),
                    **errors(401, 403, 404),
                },
            },
            "post": {
                "summary": "Release a packet of public-records copies (request acknowledged)",
                "description": "Renders one PDF of the cases' public-records copies with each "
                "passage withheld wherever it occurs, keeps it, and records its SHA-256 and "
                "withholdings (case, place, authority) in the request's trail. 422 names the "
                "field: a case the caller may not read, an authority not in the library's list, "
                "a passage not in the releasable text.",
                "parameters": [NUMBER],
                "requestBody": request_body(PACKET_REQUEST),
                "responses": {
                    **ok("The released packet", PACKET, "201"),
                    **errors(400, 401, 403, 404, 422),
                },
            },
        },
        "/cases/{number}/packets/preview": {
            "post": {
                "summary": "The packet as it would be released, as PDF; nothing kept",
                "parameters": [NUMBER],
                "requestBody": request_body(PACKET_REQUEST),
                "responses": {**PDF, **errors(400, 401, 403, 404, 422)},
            }
        },
        "/cases/{number}/packets/{packet_id}.pdf": {
            "get": {
                "summary": "A released packet's PDF, byte for byte as released",
                "parameters": [
                    NUMBER,
                    {"name": "packet_id", "in": "path", "required": True, "schema": INT},
                ],
                "responses": {**PDF, **errors(401, 403, 404)},
            }
        },
        "/people/{person_id}/history.pdf": {
            "get": {
                "summary": "An employee's case history as PDF (HR, Library Director)",
                "description": "404 unless the caller may see every case of the person; the "
                "print is recorded in each case's trail.",
                "parameters": [PERSON_ID],
                "responses": {**PDF, **errors(401, 404)},
            }
        },
        "/registry.pdf": {
            "get": {
                "summary": "The account registry as PDF; recorded on each account case listed",
                "responses": {**PDF, **errors(401, 403)},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Casework API",
            "version": "1",
            "description": (
                "The JSON API of Casework, case management for a public library's social "
                'media policy. Errors are {"error": {"code", "message", "fields"}}.'
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "A token from `casework users token NAME [--name LABEL] [--days N]`; "
                        "it expires after 90 days unless configured otherwise, and its owner "
                        "or IT can revoke it."
                    ),
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": SCHEMAS,
        },
        "paths": with_busy_answers(_paths()),
    }


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def with_busy_answers(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may answer 503 (the database is busy: a write, or a read that records
    itself, waited its lock timeout); every write may answer 429 (a limit reached)."""
    for operations in paths.values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if method in ("post", "put", "patch", "delete"):
                responses.setdefault(
                    "429",
                    {
                        "description": "A limit reached; the message says which (nothing saved)",
                        "headers": RETRY_AFTER,
                        "content": json_content(ref("Error")),
                    },
                )
            responses.setdefault(
                "503",
                {
                    "description": "The database is busy, or a document took too long (nothing "
                    "saved)",
                    "headers": RETRY_AFTER,
                    "content": json_content(ref("Error")),
                },
            )
    return paths
