"""Intake that fits the channel: a complaint asks the channel first and keeps only what that
channel needs; branches come from a configured list; the patron's contact details are
confidential; an escalated complaint has the Director's own deadline; the reporter's history is
folded on the case page."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from webpages import Visitor, page_text

from casework.config import ConfigurationError, branch_list
from casework.extensions import db
from casework.jobs import deadlines
from casework.models import Case, Event, OutboxMessage, User, utcnow
from casework.paths import resource_dir
from casework.workflow.errors import WorkflowFileError
from casework.workflow.loader import parse

CONTACT = "Quokkaphone 740-555-0199"
SOCIAL = {"summary": "Hours", "channel": "facebook"}
BRANCHES = "Main Library, Lucasville Branch"


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def test_the_complaint_form_asks_the_channel_first_and_marks_what_each_channel_needs(app, cast):
    page = Visitor(app, "librarian").get("/cases/new/complaint")
    assert page.status_code == 200
    order = re.findall(r'data-field="([a-z_]+)"', page.text)
    assert order[:3] == ["channel", "received_at", "summary"]
    # "Received on" starts as now, in the library's time, and can be changed.
    assert re.search(
        r'id="field-received_at" name="received_at" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', page.text
    )

    def rule(name: str) -> str:
        found = re.search(rf'data-field="{name}" data-only-when="([^"]*)"', page.text)
        assert found, name
        return found.group(1)

    assert "phone" in rule("contact") and "facebook" not in rule("contact")
    for name in ("post_url", "content", "account"):
        assert "facebook" in rule(name) and "phone" not in rule(name), name
    assert 'data-field="summary" data-only-when' not in page.text
    # Without a script every field is there, its hint saying when it applies.
    assert "Social media only:" in page.text and "Telephone, e-mail" in page.text
    assert "<script>" not in page.text and 'src="/static/js/casework.js"' in page.text


def test_what_does_not_apply_to_the_channel_is_left_by_the_form_and_kept_from_the_api(
    app, api, cast
):
    # The form hid the post's fields for a call: what they still hold is not the call's.
    number = Visitor(app, "librarian").open(
        "complaint",
        summary="Parking",
        channel="phone",
        contact=CONTACT,
        post_url="javascript:alert(1)",  # typed before the channel changed: ignored, not judged
        content="Not a post",
        account="ACC-2026-9999",
    )
    phoned = api.get(f"/cases/{number}", "librarian").get_json()
    assert set(phoned["fields"]) == {"summary", "channel", "contact", "received_at"}
    # A program sends what it means: every field is checked and kept, whatever the channel.
    refused = api.post(
        "/cases",
        "librarian",
        json={
            "workflow": "complaint",
            "fields": {"summary": "Parking", "channel": "phone", "post_url": "javascript:x"},
        },
    )
    assert refused.status_code == 422
    assert list(refused.get_json()["error"]["fields"]) == ["post_url"]
    read_out = api.open(
        "librarian", "complaint", summary="Letter", channel="other", content="As written."
    )
    assert read_out["fields"]["content"] == "As written."
    posted = api.open(
        "social", "complaint", **SOCIAL, contact=CONTACT, post_url="https://social.example/p/1"
    )
    assert posted["fields"]["contact"] == CONTACT
    assert posted["fields"]["post_url"] == "https://social.example/p/1"
    # Hostile contact details are refused, naming the field; nothing is stored.
    for bad in ("a\x00b", "two\nlines", "x" * 501, 42, ["list"]):
        response = api.post(
            "/cases",
            "librarian",
            json={
                "workflow": "complaint",
                "fields": {**SOCIAL, "channel": "email", "contact": bad},
            },
        )
        assert response.status_code == 422, bad
        assert list(response.get_json()["error"]["fields"]) == ["contact"]
    assert api.get("/cases", "librarian").get_json()["total"] == 3


def test_contact_details_are_confidential_like_the_patron(app, api, cast):
    with app.app_context():
        for user in db.session.execute(sa.select(User)).scalars():
            user.email = f"{user.username}@library.example"
        db.session.commit()
    fields = {
        f["name"]: f for f in api.get("/workflows/complaint", "librarian").get_json()["fields"]
    }
    assert fields["contact"]["confidential"] is True
    assert fields["contact"]["confidential"] == fields["patron"]["confidential"]
    number = api.open("librarian", "complaint", summary="Fines", channel="phone", contact=CONTACT)[
        "number"
    ]
    api.ok("librarian", number, "escalate", reason="For the Director")
    assert api.get(f"/cases/{number}", "staff").status_code == 404
    assert CONTACT in api.get(f"/cases/{number}", "director").get_data(as_text=True)
    full = pdf_text(api.get(f"/cases/{number}/record.pdf", "director").data)
    public = pdf_text(api.get(f"/cases/{number}/record.pdf?redacted=1", "director").data)
    assert "Quokkaphone" in full
    assert "Quokkaphone" not in public and "R.C. 149.432" in public
    with app.app_context():
        messages = db.session.execute(sa.select(OutboxMessage)).scalars().all()
        assert messages
        for message in messages:
            assert "Quokka" not in f"{message.subject} {message.body_text} {message.body_html}"


def test_a_shown_when_rule_is_checked_when_the_workflow_loads():
    text = (resource_dir("workflows") / "complaint.toml").read_text()
    path = Path("complaint.toml")
    assert parse(text, path).field("contact").shown_when["channel"]
    for wrong, reason in (
        (
            'shown_when = { channel = ["email", "phone", "in_person", "other"] }',
            'shown_when = { channel = ["pigeon"] }',
        ),
        (
            'shown_when = { channel = ["email", "phone", "in_person", "other"] }',
            'shown_when = { nothing = ["email"] }',
        ),
        (
            'shown_when = { channel = ["email", "phone", "in_person", "other"] }',
            'shown_when = "email"',
        ),
    ):
        with pytest.raises(WorkflowFileError, match="contact"):
            parse(text.replace(wrong, reason), path)


def test_branches_come_from_the_configured_list(make_app, api_for, cast):
    assert branch_list(" Main Library ,, Lucasville  Branch,Main Library") == (
        "Main Library",
        "Lucasville Branch",
    )
    assert branch_list("") == ()
    with pytest.raises(ConfigurationError, match="BRANCHES"):
        branch_list("x" * 201)
    app = make_app(BRANCHES=BRANCHES)
    api = api_for(app)
    refused = api.post(
        "/cases",
        "librarian",
        json={"workflow": "complaint", "fields": {**SOCIAL, "branch": "Nowhere"}},
    )
    assert refused.status_code == 422
    assert "Main Library, Lucasville Branch" in refused.get_json()["error"]["fields"]["branch"][0]
    for bad in ("Main Library\x00", ["Main Library"], 7, "Main Library\nx"):
        fields = {**SOCIAL, "branch": bad}
        response = api.post("/cases", "librarian", json={"workflow": "complaint", "fields": fields})
        assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == [
            "branch"
        ], bad
    account = {"platform": "x", "handle": "@ppl", "purpose": "News", "branch": "Main"}
    refused = api.post("/cases", "staff", json={"workflow": "account", "fields": account})
    assert list(refused.get_json()["error"]["fields"]) == ["branch"]
    person = {"name": "New Person", "employee_id": "E-new", "branch": "Nowhere"}
    refused = api.post("/people", "hr", json=person)
    assert refused.status_code == 422 and "branch" in refused.get_json()["error"]["fields"]
    assert (
        api.post("/people", "hr", json={**person, "branch": "Lucasville Branch"}).status_code == 201
    )
    api.open("librarian", "complaint", **SOCIAL, branch="Lucasville Branch")
    # The forms offer the list; the search filter lists it in its order.
    librarian = Visitor(app, "librarian")
    form = librarian.get("/cases/new/complaint").text
    assert '<select id="field-branch" name="branch"' in form
    assert '<option value="Lucasville Branch">Lucasville Branch</option>' in form
    assert '<select id="branch" name="branch"' in Visitor(app, "hr").get("/people").text
    search = librarian.get("/cases").text
    found = re.search(r'<select id="filter-branch".*?</select>', search, re.S)
    assert found
    assert re.findall(r'<option value="([^"]*)"', found.group(0)) == [
        "",
        "Main Library",
        "Lucasville Branch",
    ]


def test_an_escalated_complaint_has_the_directors_deadline_and_is_never_escalated_again(
    app, api, cast
):
    number = api.open("librarian", "complaint", summary="Parking", channel="phone")["number"]
    escalated = api.ok("librarian", number, "escalate", reason="For the Director")
    assert escalated["due_at"] is not None and escalated["overdue"] is False
    later = utcnow() + timedelta(days=10)
    with app.app_context():
        first = deadlines.sweep_deadlines(later)
        again = deadlines.sweep_deadlines(later + timedelta(hours=1))
        db.session.commit()
        case = db.session.execute(sa.select(Case).where(Case.number == number)).scalar_one()
        actions = (
            db.session.execute(
                sa.select(Event.action).where(Event.case_id == case.id).order_by(Event.seq)
            )
            .scalars()
            .all()
        )
        assert case.state == "escalated"
        db.session.rollback()
    assert [(a.number, a.what) for a in first] == [(number, "remind")]
    assert again == []
    assert actions == ["created", "transition", "overdue"]
    page = page_text(Visitor(app, "director").get(f"/cases/{number}").text)
    assert "Resolve within 5 business days" in page


def test_the_reporters_history_is_folded_and_names_only_cases_the_reader_may_see(app, api, cast):
    first = api.open("director", "complaint", summary="Hours", channel="email")["number"]
    second = api.open("director", "complaint", summary="Noise", channel="phone")["number"]
    report = api.open(
        "director",
        "violation",
        subject=cast.person_ids["olive"],
        category="not_sure",
        description="A post about the budget vote.",
    )["number"]
    page = Visitor(app, "librarian").get(f"/cases/{second}").text
    history = re.search(r'<details class="reporter-history">.*?</details>', page, re.S)
    assert history, "the history is a closed <details>"
    assert first in history.group(0) and report not in page
    assert "(1)" in history.group(0)
    director = Visitor(app, "director").get(f"/cases/{second}").text
    folded = re.search(r'<details class="reporter-history">.*?</details>', director, re.S)
    assert folded and first in folded.group(0) and report in folded.group(0)
