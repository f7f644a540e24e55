"""A case the viewer may not see is never named, numbered or counted to them: not through a link
from a case they do see (page, JSON, events, printed record), not in `audit/verify`, not in a list
cursor. A receipt shows the number, the date received and "open" or "closed", nothing more."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from tampering import tamper
from webpages import Visitor, page_text

from casework.extensions import db
from casework.models import Case, Event
from casework.services.unseen import UNSEEN


def pypdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def violation(api, cast, reporter: str, subject: str, text: str = "A post") -> str:
    number: str = api.open(
        reporter,
        "violation",
        subject=cast.person_ids[subject],
        category="harassment",
        description=text,
    )["number"]
    return number


@pytest.fixture
def linked(api, cast):
    """VIO `seen` (about an outsider) linked by the Director to VIO `hidden`, about the HR user,
    who reads violation cases but never one about themselves."""
    seen = violation(api, cast, "staff", "olive", "Mentions the other case in a note later")
    hidden = violation(api, cast, "staff2", "hr")
    response = api.post(f"/cases/{seen}/links", "director", json={"number": hidden})
    assert response.status_code == 201
    assert hidden in response.get_json()["links"]
    note = api.post(f"/cases/{seen}/notes", "director", json={"text": f"See also {hidden}."})
    assert note.status_code == 201
    return seen, hidden


def test_a_link_to_a_case_the_viewer_may_not_see_is_never_numbered(app, api, cast, linked):
    seen, hidden = linked
    case = api.get(f"/cases/{seen}", "hr").get_json()
    assert case["links"] == []
    assert hidden not in json.dumps(case)
    events = api.get(f"/cases/{seen}/events", "hr").get_json()["items"]
    assert hidden not in json.dumps(events)
    link = next(e for e in events if e["action"] == "link")
    assert link["data"]["case"] == UNSEEN
    note = next(e for e in events if e["action"] == "note")
    assert note["data"]["text"] == f"See also {UNSEEN}."
    page = Visitor(app, "hr").get(f"/cases/{seen}")
    assert page.status_code == 200
    assert hidden not in page.text and UNSEEN in page_text(page.text)
    for query in ("", "?redacted=1"):
        pdf = api.get(f"/cases/{seen}/record.pdf{query}", "hr")
        assert pdf.status_code == 200
        assert hidden not in pypdf_text(pdf.data) and hidden.encode() not in pdf.data
    # The Director, who may see both, is shown the number everywhere.
    assert api.get(f"/cases/{seen}", "director").get_json()["links"] == [hidden]
    events = api.get(f"/cases/{seen}/events", "director").get_json()["items"]
    assert hidden in json.dumps(events)
    assert hidden in pypdf_text(api.get(f"/cases/{seen}/record.pdf", "director").data)


def test_the_record_printed_for_one_reader_is_not_served_to_another(api, linked):
    """Records are cached by what they show: the Director's copy names the linked case, and the
    HR user printing the same case next gets a copy without it."""
    seen, hidden = linked
    assert hidden in pypdf_text(api.get(f"/cases/{seen}/record.pdf", "director").data)
    assert hidden not in pypdf_text(api.get(f"/cases/{seen}/record.pdf", "hr").data)


def test_a_reporter_does_not_see_links_of_a_case_they_hold_a_receipt_for(api, cast):
    first = violation(api, cast, "staff", "olive")
    second = violation(api, cast, "staff", "staff2")
    api.post(f"/cases/{first}/links", "director", json={"number": second})
    receipt = api.get(f"/cases/{first}", "staff").get_json()
    assert receipt["receipt"] is True and "links" not in receipt
    assert api.get(f"/cases/{first}/events", "staff").status_code == 403


def test_verify_counts_and_names_only_the_cases_the_caller_may_see(app, api, cast):
    violation(api, cast, "staff", "olive")
    about_director = violation(api, cast, "librarian", "director")
    api.open("librarian", "complaint", summary="Late", channel="email")
    with app.app_context():
        total_cases = db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar()
        hidden_events = db.session.execute(
            sa.select(sa.func.count())
            .select_from(Event)
            .join(Case, Case.id == Event.case_id)
            .where(Case.number == about_director)
        ).scalar()
        total_events = db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar()
    report = api.get("/audit/verify", "director").get_json()
    assert report["ok"] is True
    assert report["cases"] == total_cases - 1
    assert report["events"] == total_events - hidden_events
    # Tampering with the case about the Director: the trail is not sound, but the Director is
    # not told which case, nor that it is one more than they see.
    tamper(
        app,
        (
            "UPDATE events SET data_json = :data WHERE seq = 1 AND case_id = "
            "(SELECT id FROM cases WHERE number = :number)",
            {"data": '{"forged": true}', "number": about_director},
        ),
    )
    report = api.get("/audit/verify", "director").get_json()
    assert report["ok"] is False
    assert report["broken"] == []
    assert report["cases"] == total_cases - 1
    assert about_director not in json.dumps(report)


def test_cursors_cannot_be_read_or_made(api, cast):
    for _ in range(3):
        violation(api, cast, "staff", "olive")
    body = api.get("/cases?per_page=1", "staff").get_json()
    cursor = body["next_cursor"]
    assert cursor
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert not re.search(rb"\d{4}-\d{2}-\d{2}", raw)
    with pytest.raises(ValueError):
        json.loads(raw)
    # It still leads to the next page.
    following = api.get(f"/cases?per_page=1&cursor={cursor}", "staff")
    assert following.status_code == 200
    assert following.get_json()["items"][0]["number"] != body["items"][0]["number"]
    # Altered, made up, another user's, or for another sort: refused, saying why.
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    forged = base64.urlsafe_b64encode(b'["2030-01-01T00:00:00+00:00", 1]').decode()
    for user, query in (
        ("staff", f"cursor={flipped}"),
        ("staff", f"cursor={forged}"),
        ("staff2", f"cursor={cursor}"),
        ("staff", f"cursor={cursor}&sort=created_at"),
    ):
        response = api.get(f"/cases?per_page=1&{query}", user)
        assert response.status_code == 400, (user, query)
        error = response.get_json()["error"]
        assert "cursor" in error["fields"] and "cursor" in error["message"].lower()


def decided_receipt(api, cast) -> str:
    number = violation(api, cast, "staff", "olive")
    api.ok("director", number, "inspect", cause="Report", findings="Seen")
    api.ok("director", number, "review", assessment="Serious")
    api.ok("director", number, "discipline", action="written_warning", handbook_reference="4.2")
    return number


def test_a_receipt_says_open_or_closed_and_nothing_more(app, api, cast):
    number = decided_receipt(api, cast)
    still_open = violation(api, cast, "staff", "staff2")
    receipt = api.get(f"/cases/{number}", "staff").get_json()
    assert set(receipt) <= {"number", "workflow", "state", "state_label", "created_at", "receipt"}
    assert receipt["state"] == "closed" and receipt["state_label"] == "Closed"
    assert api.get(f"/cases/{still_open}", "staff").get_json()["state"] == "open"
    items = api.get("/cases", "staff").get_json()["items"]
    for item in items:
        assert item["state"] in ("open", "closed") and "version" not in item
        assert "updated_at" not in item
    visitor = Visitor(app, "staff")
    for path in (f"/cases/{number}", "/", "/cases", "/cases/export.csv"):
        text = visitor.get(path).text
        assert number in text, path
        if path != "/cases/export.csv":  # the row, not the filter form's list of states
            text = next(r for r in text.split("<tr") if number in r)
        text = text.lower()
        for word in ("disciplined", "dismissed", "under review", "inspected", "written"):
            assert word not in text, (path, word)
    assert "closed" in page_text(visitor.get(f"/cases/{number}").text).lower()


def test_receipts_are_not_filtered_or_sorted_by_what_they_do_not_show(app, api, cast):
    number = decided_receipt(api, cast)
    for query in (
        "state=disciplined",
        "state=reported",
        "sort=-updated_at",
        "sort=updated_at",
        "sort=due_at",
        "workflow=violation&state=disciplined",
    ):
        body = api.get(f"/cases?{query}", "staff").get_json()
        assert number not in json.dumps(body), query
        assert Visitor(app, "staff").get(f"/cases?{query}").text.count(number) == 0, query
    for query in ("", "sort=created_at", "workflow=violation", "sort=-created_at"):
        assert number in json.dumps(api.get(f"/cases?{query}", "staff").get_json()), query
