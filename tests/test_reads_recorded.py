"""No answer carries a confidential case's content unless the reader's view of it is on record.

Every refused path (a stale version, invalid fields, a role that may not act, an unknown file or
action, a missing CSRF token) is walked for a violation case, as HR and as the Director, through
the web pages and the API: each answer either carries nothing of the case, or the trail holds a
committed view by that user afterwards, although the refused action itself was rolled back.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from webpages import Visitor, events_of

from casework.extensions import db
from casework.models import Case, Event

DESCRIPTION = "Posted the quokka-desc-7731 rota in a public group"
NOTE = "Interview notes quokka-note-4410"
EVIDENCE = "quokka-evidence-5521.txt"
SUBJECT = "Olive Outsider"
#: What only a reader of the case learns from it.
MARKERS = (DESCRIPTION, NOTE, EVIDENCE, SUBJECT, "quokka-desc-7731", "quokka-note-4410")


@pytest.fixture
def violation(app, cast, api) -> dict[str, Any]:
    """A violation case with a description, a note and an evidence file, all content."""
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description=DESCRIPTION,
    )["number"]
    assert api.post(f"/cases/{number}/notes", "director", json={"text": NOTE}).status_code == 201
    upload = api.post(
        f"/cases/{number}/attachments",
        "director",
        data={"file": (io.BytesIO(b"a screenshot, as text"), EVIDENCE)},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    return {"number": number, "sha256": upload.get_json()["sha256"]}


def carries_content(response) -> bool:
    text = response.get_data(as_text=True)
    return any(marker in text for marker in MARKERS)


def views_by(app, number: str, username: str) -> int:
    return events_of(app, number).count(("view", username))


def other_events(app, number: str) -> list[tuple[str, str]]:
    return [e for e in events_of(app, number) if e[0] != "view"]


def refused_requests(number: str, sha256: str, version: int) -> list[tuple[str, str, Any]]:
    """(interface, what, how to send it) for each refused path; `how` gets (visitor, headers)."""
    stale = version - 1
    api = "/api/v1/cases/" + number
    page = "/cases/" + number
    return [
        # The API: the issue's own example first (an unknown trigger with a stale version).
        (
            "api",
            "stale unknown trigger",
            lambda v, h: v.client.post(
                f"{api}/transitions", headers=h, json={"trigger": "nonsense", "version": stale}
            ),
        ),
        (
            "api",
            "stale transition",
            lambda v, h: v.client.post(
                f"{api}/transitions",
                headers=h,
                json={"trigger": "dismiss", "version": stale, "fields": {}},
            ),
        ),
        (
            "api",
            "unknown trigger",
            lambda v, h: v.client.post(
                f"{api}/transitions", headers=h, json={"trigger": "nonsense", "version": version}
            ),
        ),
        (
            "api",
            "missing fields",
            lambda v, h: v.client.post(
                f"{api}/transitions", headers=h, json={"trigger": "inspect", "version": version}
            ),
        ),
        (
            "api",
            "empty note",
            lambda v, h: v.client.post(f"{api}/notes", headers=h, json={"text": ""}),
        ),
        (
            "api",
            "unknown assignee",
            lambda v, h: v.client.post(
                f"{api}/assignee", headers=h, json={"username": "nobody-here"}
            ),
        ),
        (
            "api",
            "unknown link",
            lambda v, h: v.client.post(f"{api}/links", headers=h, json={"number": "VIO-2020-9999"}),
        ),
        (
            "api",
            "empty file",
            lambda v, h: v.client.post(
                f"{api}/attachments",
                headers=h,
                data={"file": (io.BytesIO(b""), "x.txt")},
                content_type="multipart/form-data",
            ),
        ),
        (
            "api",
            "unknown file",
            lambda v, h: v.client.get(f"{api}/attachments/{'0' * 64}", headers=h),
        ),
        (
            "api",
            "bad print flag",
            lambda v, h: v.client.get(f"{api}/record.pdf?redacted=perhaps", headers=h),
        ),
        # The web pages: forms shown again with their errors, conflicts, refusals.
        ("web", "empty note", lambda v, h: v.post(f"{page}/notes", {"text": ""})),
        ("web", "note too long", lambda v, h: v.post(f"{page}/notes", {"text": "x" * 20_001})),
        (
            "web",
            "no evidence file",
            lambda v, h: v.post(f"{page}/evidence", {}, content_type="multipart/form-data"),
        ),
        (
            "web",
            "empty evidence file",
            lambda v, h: v.post(
                f"{page}/evidence",
                {"file": (io.BytesIO(b""), "empty.txt")},
                content_type="multipart/form-data",
            ),
        ),
        ("web", "unknown link", lambda v, h: v.post(f"{page}/links", {"number": "VIO-2020-9999"})),
        ("web", "bad link", lambda v, h: v.post(f"{page}/links", {"number": "not a number"})),
        (
            "web",
            "unknown assignee",
            lambda v, h: v.post(f"{page}/assignee", {"username": "nobody-here"}),
        ),
        (
            "web",
            "stale transition",
            lambda v, h: v.post(
                f"{page}/transitions/dismiss", {"version": str(stale), "reason": "no_violation"}
            ),
        ),
        (
            "web",
            "stale transition form",
            lambda v, h: v.get(f"{page}/transitions/dismiss?version={stale}"),
        ),
        (
            "web",
            "invalid transition",
            lambda v, h: v.post(
                f"{page}/transitions/dismiss", {"version": str(version), "reason": "made-up"}
            ),
        ),
        ("web", "unknown action", lambda v, h: v.get(f"{page}/transitions/nonsense")),
        ("web", "bad print flag", lambda v, h: v.post(f"{page}/record.pdf", {"redacted": "x"})),
        ("web", "no CSRF token", lambda v, h: v.client.post(f"{page}/notes", data={"text": "x"})),
    ]


@pytest.mark.parametrize("username", ["hr", "director"])
def test_every_refused_answer_carries_nothing_or_its_view_is_recorded(
    app, cast, api, violation, username
):
    number = violation["number"]
    visitor = Visitor(app, username)
    headers = cast.headers(username)
    version = api.version(number)
    before = other_events(app, number)
    walked, showing = 0, []
    for interface, what, send in refused_requests(number, violation["sha256"], version):
        views = views_by(app, number, username)
        response = send(visitor, headers if interface == "api" else {})
        assert 400 <= response.status_code < 500, (interface, what, response.status_code)
        walked += 1
        if carries_content(response):
            showing.append((interface, what))
            assert views_by(app, number, username) == views + 1, (
                f"{interface} {what}: the answer shows the case, but no view is recorded"
            )
        assert other_events(app, number) == before, f"{interface} {what} changed the case"
    assert walked == len(refused_requests(number, "", 2))
    # The paths the review found do show the case, so they are the ones now on record.
    assert ("api", "stale unknown trigger") in showing
    assert ("web", "empty note") in showing and ("web", "no evidence file") in showing


def test_the_409_carries_the_case_and_its_view_is_recorded_as_refused(app, cast, api, violation):
    number = violation["number"]
    stale = api.version(number) - 1
    response = api.post(
        f"/cases/{number}/transitions", "hr", json={"trigger": "nonsense", "version": stale}
    )
    assert response.status_code == 409
    body = response.get_json()
    assert body["case"]["fields"]["description"] == DESCRIPTION
    with app.app_context():
        last = db.session.execute(
            sa.select(Event)
            .join(Case, Case.id == Event.case_id)
            .where(Case.number == number)
            .order_by(Event.seq.desc())
            .limit(1)
        ).scalar_one()
        assert (last.action, last.actor) == ("view", "hr")
        assert json.loads(last.data_json) == {"answer": "refused", "status": 409}
        db.session.rollback()


def test_the_html_422_shows_the_case_and_records_the_view(app, cast, api, violation):
    number = violation["number"]
    response = Visitor(app, "hr").post(f"/cases/{number}/notes", {"text": ""})
    assert response.status_code == 422
    assert NOTE in response.text and DESCRIPTION in response.text
    assert events_of(app, number)[-1] == ("view", "hr")
    assert other_events(app, number)[-1] == ("attachment", "director")  # the note was not added


def test_successful_reads_record_one_view_and_actions_need_none(app, cast, api, violation):
    number = violation["number"]
    Visitor(app, "hr").get(f"/cases/{number}")
    assert api.get(f"/cases/{number}", "hr").status_code == 200
    assert api.get(f"/cases/{number}/events", "hr").status_code == 200
    assert events_of(app, number)[-3:] == [("view", "hr")] * 3
    # An action's own event records who acted; it needs no view besides.
    assert api.post(f"/cases/{number}/notes", "director", json={"text": "More"}).status_code == 201
    assert events_of(app, number)[-1] == ("note", "director")
    # A transition's form page shows what it acts on: its view is recorded.
    visitor = Visitor(app, "director")
    assert visitor.get(f"/cases/{number}/transitions/dismiss").status_code == 200
    assert events_of(app, number)[-1] == ("view", "director")


def test_the_case_is_left_out_when_its_view_cannot_be_recorded(
    app, cast, api, violation, monkeypatch
):
    number = violation["number"]
    stale = api.version(number) - 1
    before = events_of(app, number)

    def busy(*args: Any, **kwargs: Any) -> int:
        raise sa.exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr("casework.services.reads.record_views", busy)
    conflict = api.post(
        f"/cases/{number}/transitions", "hr", json={"trigger": "nonsense", "version": stale}
    )
    page = Visitor(app, "hr").post(f"/cases/{number}/notes", {"text": ""})
    read = api.get(f"/cases/{number}", "hr")
    shown = Visitor(app, "director").get(f"/cases/{number}")
    for response in (conflict, page, read, shown):
        assert response.status_code == 503
        assert not carries_content(response)
    assert conflict.get_json()["error"]["code"] == "unavailable"
    assert events_of(app, number) == before


def test_receipts_and_other_workflows_record_no_view(app, cast, api, violation):
    number = violation["number"]
    reporter = Visitor(app, "staff")
    assert reporter.get(f"/cases/{number}").status_code == 200
    assert reporter.post(f"/cases/{number}/notes", {"text": ""}).status_code == 403
    complaint = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    assert Visitor(app, "librarian").post(f"/cases/{complaint}/notes", {"text": ""}).status_code
    assert "view" not in [a for a, _ in events_of(app, complaint)]
    assert "staff" not in [u for a, u in events_of(app, number) if a == "view"]
