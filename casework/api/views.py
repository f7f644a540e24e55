"""The JSON API endpoints: load, then authorize, then act; the request's end commits (or, where
the answer shows what was written, `commit_and_answer` or `commit_now` commits around building
it)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request, url_for

from casework.api.blueprint import bp
from casework.api.openapi import openapi_document
from casework.api.serialize import (
    case_json,
    event_json,
    hold_json,
    person_json,
    summary_json,
)
from casework.errors import BadRequest, Forbidden, InvalidFields, NotFound
from casework.extensions import csrf
from casework.http.downloads import file_response
from casework.http.identity import api_user
from casework.http.transaction import commit_and_answer, commit_now
from casework.library import library
from casework.models import User, utcnow
from casework.presenting.diagram import render_svg
from casework.services import (
    activity,
    definitions,
    disposal,
    evidence,
    firing,
    history,
    holds,
    limits,
    listing,
    loading,
    opening,
    people,
    trail_seen,
)
from casework.services.access import case_access, person_id_of
from casework.services.db import begin_write
from casework.services.unseen import masker
from casework.services.verification import verify_chains

csrf.exempt(bp)


def user() -> User:
    """The signed-in user of this request (remembered for the rest of it).

    A request that changes something starts its write transaction before reading the user, so the
    whole request is one transaction from its first read.
    """
    if "api_user" not in g:
        writing = request.method not in ("GET", "HEAD", "OPTIONS")
        if writing:
            begin_write()
        g.api_user = api_user()
        if writing:
            limits.count_write(g.api_user)
    found: User = g.api_user
    return found


def body(required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request's JSON object, with exactly the keys allowed; `BadRequest` or `InvalidFields`."""
    try:
        data = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes; `silent` covers ValueError only
        data = None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    errors = {str(k)[:64]: ["Unknown field."] for k in data if k not in required + optional}
    errors.update({k: ["This field is required."] for k in required if k not in data})
    if errors:
        raise InvalidFields(errors)
    return data


def created(payload: dict[str, Any], location: str | None = None) -> tuple[Response, int]:
    response = jsonify(payload)
    if location:
        response.headers["Location"] = location
    return response, 201


# --- workflows --------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/workflows")
def workflows() -> Response:
    user()
    items = [
        {
            "key": w.key,
            "version": w.version,
            "prefix": w.prefix,
            "title": w.title,
            "description": w.description,
            "confidential": w.access.confidential,
        }
        for w in library().workflows
    ]
    return jsonify({"items": items})


def _workflow(key: str) -> Any:
    lib = library()
    if key not in lib.workflows:
        raise NotFound("There is no such workflow.")
    return lib.workflow(key)


@bp.get("/workflows/<key>")
def workflow(key: str) -> Response:
    user()
    return jsonify(_workflow(key).describe())


@bp.get("/workflows/<key>/diagram.svg")
def workflow_diagram(key: str) -> Response:
    user()
    return Response(render_svg(_workflow(key)), mimetype="image/svg+xml")


# --- people -----------------------------------------------------------------------------------


@bp.post("/people")
def add_person() -> tuple[Response, int]:
    actor = user()
    if not actor.roles & people.PEOPLE_EDITORS:
        raise Forbidden("Only the Library Director, HR or an administrator may add people.")
    data = body(("name", "employee_id"), ("branch", "user"))
    person = people.create_person(
        data["name"], data["employee_id"], data.get("branch", ""), data.get("user")
    )
    return created(person_json(person), url_for("api.get_person", person_id=person.id))


@bp.get("/people")
def find_people() -> Response:
    user()
    text = request.args.get("q", "")
    if len(text) > 200:
        raise InvalidFields({"q": ["At most 200 characters."]})
    return jsonify({"items": [person_json(p) for p in people.search_people(text)]})


@bp.get("/people/<int:person_id>")
def get_person(person_id: int) -> Response:
    user()
    person = people.person_by_id(person_id)
    if person is None:
        raise NotFound("There is no such person.")
    return jsonify(person_json(person))


# --- cases ------------------------------------------------------------------------------------


@bp.post("/cases")
def open_case() -> tuple[Response, int]:
    actor = user()
    data = body(("workflow",), ("fields",))
    case = opening.open_case(actor, data["workflow"], data.get("fields"), limited=True)
    # Committed first on every database: the new number's counter stays locked until then.
    commit_now()
    workflow = definitions.workflow_of(case)
    loaded = loading.LoadedCase(case, workflow, case_access(actor, case, workflow))
    return created(case_json(loaded, actor), url_for("api.get_case", number=case.number))


@bp.get("/cases")
def list_cases() -> Response:
    actor = user()
    f = listing.parse_filter(request.args, max_per_page=int(current_app.config["PER_PAGE_MAX"]))
    now = utcnow()
    page = listing.list_cases(actor, f, now=now)
    person_id = person_id_of(actor)
    items = []
    for case in page.items:
        workflow = definitions.workflow_of(case)
        access = case_access(actor, case, workflow, person_id)
        items.append(summary_json(loading.LoadedCase(case, workflow, access), now))
    return jsonify(
        {
            "items": items,
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "next_cursor": page.next_cursor,
        }
    )


@bp.get("/cases/<number>")
def get_case(number: str) -> Response:
    actor = user()
    return jsonify(case_json(loading.view_case(actor, number), actor))


@bp.post("/cases/<number>/transitions")
def fire_transition(number: str) -> Response:
    actor = user()
    data = body(("trigger", "version"), ("fields",))
    loaded = loading.load_case(actor, number, write=True)
    firing.fire(actor, loaded, data["trigger"], data["version"], data.get("fields"))
    return jsonify(commit_and_answer(lambda: case_json(loaded, actor)))


@bp.post("/cases/<number>/notes")
def add_note(number: str) -> tuple[Response, int]:
    actor = user()
    data = body(("text",))
    loaded = loading.load_case(actor, number, write=True)
    activity.add_note(actor, loaded, data["text"])
    event = history.head_event(loaded.case)
    return created(event_json(event, masker(actor, [event.data])))


@bp.post("/cases/<number>/holds")
def place_hold(number: str) -> tuple[Response, int]:
    actor = user()
    data = body(("kind", "reason"))
    loaded = loading.load_case(actor, number, write=True)
    hold = holds.place_hold(actor, loaded, data["kind"], data["reason"])
    return created(hold_json(hold, loaded.case.number))


@bp.post("/cases/<number>/holds/<int:hold_id>/lift")
def lift_hold(number: str, hold_id: int) -> Response:
    actor = user()
    data = body(("reason",))
    loaded = loading.load_case(actor, number, write=True)
    hold = holds.lift_hold(actor, loaded, hold_id, data["reason"])
    return jsonify(hold_json(hold, loaded.case.number))


@bp.get("/holds")
def list_holds() -> Response:
    actor = user()
    raw = request.args.get("in_force", "")
    if raw not in ("", "1", "0", "true", "false", "yes", "no"):
        raise InvalidFields({"in_force": ["Use 1 or 0."]})
    in_force = raw in ("1", "true", "yes")
    found = holds.visible_holds(actor, in_force_only=in_force)
    return jsonify({"items": [hold_json(hold, case.number) for hold, case in found]})


@bp.get("/retention")
def retention_due() -> Response:
    actor = user()
    disposal.require_officer(actor)
    today = disposal.today_for()
    items = []
    for d in disposal.due_cases(actor, today):
        items.append(
            {
                "number": d.case.number,
                "workflow": d.case.workflow_key,
                "closed_on": d.closed_day.isoformat() if d.closed_day else None,
                "on_hold": d.held,
                "eligible_now": d.eligibility.eligible(today),
                **d.eligibility.describe(),
            }
        )
    return jsonify({"items": items, "within_days": disposal.AHEAD_DAYS})


@bp.get("/cases/<number>/events")
def events(number: str) -> Response:
    actor = user()
    case, workflow, access = loading.view_case(actor, number)
    loading.require_full(access)
    activity.record_access(actor, case, workflow, "view", {"what": "events"})
    rows = history.events_of(case)
    mask = masker(actor, [e.data for e in rows])
    return jsonify({"items": [event_json(e, mask) for e in rows]})


@bp.post("/cases/<number>/assignee")
def assign(number: str) -> Response:
    actor = user()
    data = body(("username",))
    loaded = loading.load_case(actor, number, write=True)
    activity.assign(actor, loaded, data["username"])
    return jsonify(commit_and_answer(lambda: case_json(loaded, actor)))


@bp.post("/cases/<number>/links")
def add_link(number: str) -> tuple[Response, int]:
    actor = user()
    data = body(("number",))
    loaded = loading.load_case(actor, number, write=True)
    activity.link(actor, loaded, data["number"])
    return created(commit_and_answer(lambda: case_json(loaded, actor)))


@bp.post("/cases/<number>/attachments")
def upload(number: str) -> tuple[Response, int]:
    actor = user()
    files = request.files.getlist("file")
    if len(files) != 1 or set(request.files) - {"file"}:
        raise InvalidFields({"file": ["Send exactly one file, in the multipart field 'file'."]})
    loaded = loading.load_case(actor, number, write=True)
    stored = evidence.attach(actor, loaded, files[0].filename, files[0].stream)
    return created(stored.as_dict())


@bp.get("/cases/<number>/attachments/<sha256>")
def download(number: str, sha256: str) -> Response:
    actor = user()
    loaded = loading.load_case(actor, number, write=True)
    attachment, content = evidence.download(actor, loaded, sha256)
    # Werkzeug adds "; charset=utf-8" to text types itself.
    response = file_response(content, attachment.media_type, attachment.name)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- audit ------------------------------------------------------------------------------------


@bp.get("/audit/verify")
def audit_verify() -> Response:
    actor = user()
    if not actor.roles & {"director", "admin"}:
        raise Forbidden("Only the Library Director or an administrator may verify the audit trail.")
    result = verify_chains()
    # Counts and broken links of the cases the caller may see, and of no other: the difference
    # would tell the subject of a case how many cases there are about them. `ok` answers for the
    # whole trail (a broken chain anywhere is the records officer's concern) without naming or
    # counting what the caller may not see.
    erased_numbers = {number for number, _, _ in result.erased}
    broken_numbers = {b.case for b in result.broken}
    seen = trail_seen.seen_trail(actor, broken_numbers | erased_numbers)
    seen_broken = seen.numbers
    return jsonify(
        {
            "ok": result.ok,
            "cases": seen.cases,
            "events": seen.events,
            "broken": [b.as_dict() for b in result.broken if b.case in seen_broken],
            # The trail of changes to user accounts: counted apart from the cases' events.
            "administration": result.administration.as_dict(),
            # Events whose data a disposal erased: checked by their links and log leaves only.
            "erased": [
                {"case": number, "from_seq": first, "to_seq": last}
                for number, first, last in result.erased
                if number in seen_broken
            ],
        }
    )
