"""Intake forms, the case page, transitions and what sits beside them."""

from __future__ import annotations

import io
import re

from webpages import Visitor, case_state, events_of, page_text

from casework.extensions import db
from casework.library import library
from casework.services import firing, loading


def test_intake_form_is_built_from_the_workflow_fields(app, cast):
    page = Visitor(app, "staff").get("/cases/new/violation")
    assert page.status_code == 200
    workflow = None
    with app.app_context():
        workflow = library().workflow("violation")
    for f in workflow.fields:
        assert f'id="field-{f.name}"' in page.text, f.name
        assert f.label in page.text
    # The category choices carry their policy clause beside them, tied to the radio button;
    # "Not sure" has none (the Director decides).
    category = workflow.field("category")
    for index, choice in enumerate(category.choices, start=1):
        assert choice.label in page.text
        if choice.value == "not_sure":
            assert f'aria-describedby="field-category-{index}-clause"' not in page.text
            continue
        assert f'aria-describedby="field-category-{index}-clause"' in page.text
        assert choice.clause.replace("'", "&#39;") in page.text
    # People are picked by name; times with a date-and-time input.
    assert "Olive Outsider" in page.text
    assert re.search(r'<select id="field-subject" name="subject"', page.text)
    assert 'type="datetime-local" id="field-occurred_at"' in page.text
    complaint = Visitor(app, "librarian").get("/cases/new/complaint")
    assert '<select id="field-channel" name="channel" required' in complaint.text
    assert "X (Twitter)" in complaint.text


def test_intake_errors_stand_beside_their_fields_and_keep_the_input(app, cast):
    visitor = Visitor(app, "librarian")
    response = visitor.post(
        "/cases/new/complaint",
        {"summary": "", "channel": "facebook", "post_url": "not a link", "content": "kept text"},
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="field-summary-error"' in html
    assert re.search(r'id="field-summary"[^>]*aria-describedby="[^"]*field-summary-error', html)
    assert 'id="field-post_url-error"' in html and "http://" in html
    assert ">kept text</textarea>" in html
    assert 'value="not a link"' in html
    assert '<option value="facebook" selected>' in html
    assert 'href="#field-summary"' in html, "the error summary links to the field"


def test_intake_refuses_a_workflow_the_role_may_not_open(app, cast):
    visitor = Visitor(app, "staff")
    assert visitor.get("/cases/new/complaint").status_code == 404
    assert visitor.post("/cases/new/complaint", {"summary": "x"}).status_code == 404
    assert visitor.get("/cases/new/no-such-thing").status_code == 404
    listing = visitor.get("/cases/new")
    assert "/cases/new/violation" in listing.text and "/cases/new/complaint" not in listing.text


def test_librarian_logs_engages_and_escalates_a_complaint(app, cast):
    librarian = Visitor(app, "librarian")
    number = librarian.open(
        "complaint",
        summary="Story time cancelled without notice",
        channel="facebook",
        patron="A. Reader",
        content="Why was story time cancelled?",
    )
    page = librarian.get(f"/cases/{number}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Story time cancelled without notice" in text and "Received" in text
    assert f'href="/cases/{number}/transitions/engage?version=1"' in page.text
    form = librarian.get(f"/cases/{number}/transitions/engage?version=1")
    assert 'name="version" value="1"' in form.text and 'id="field-response"' in form.text
    engaged = librarian.fire(number, "engage", response="Replied on Facebook with the new date.")
    assert engaged.status_code == 302
    assert case_state(app, number) == ("engaged", 2)
    escalated = librarian.fire(number, "escalate", reason="The patron asked for the Director.")
    assert escalated.status_code == 302
    page = librarian.get(f"/cases/{number}")
    text = page_text(page.text)
    assert "Escalated" in text
    assert "Engage Received → to Engaged" in text
    assert "Replied on Facebook with the new date." in text
    assert "Escalate to the Director Engaged → to Escalated" in text
    assert "Luis" not in text  # names come from the users, not made up
    assert "Librarian" in text  # the cast's display name


def test_a_stale_form_gets_the_conflict_message_and_changes_nothing(app, cast, api):
    case = api.open("librarian", "complaint", summary="Noise", channel="in_person")
    number = case["number"]
    librarian = Visitor(app, "librarian")
    social = Visitor(app, "social")
    assert (
        librarian.fire(number, "engage", version=1, response="We asked for quiet.").status_code
        == 302
    )
    before = events_of(app, number)
    stale = social.fire(number, "escalate", version=1, reason="Repeated complaint")
    assert stale.status_code == 409
    text = page_text(stale.text)
    assert "This case changed since you opened it" in text
    assert "Engaged" in text and "version 2" in text
    assert "Nothing was saved" in text
    assert "Repeated complaint" in text, "what was typed is shown so it is not lost"
    assert events_of(app, number) == before
    assert case_state(app, number) == ("engaged", 2)


def test_a_double_submit_is_refused_the_second_time(app, cast, api):
    number = api.open("librarian", "complaint", summary="Wi-Fi", channel="email")["number"]
    librarian = Visitor(app, "librarian")
    first = librarian.fire(number, "engage", version=1, response="Reset the router.")
    second = librarian.fire(number, "engage", version=1, response="Reset the router.")
    assert first.status_code == 302 and second.status_code == 409
    assert [a for a, _ in events_of(app, number)].count("transition") == 1


def test_an_old_link_to_a_form_says_the_case_changed(app, cast, api):
    number = api.open("librarian", "complaint", summary="Hold queue", channel="x")["number"]
    api.ok("librarian", number, "engage", response="Explained the queue.")
    page = Visitor(app, "librarian").get(f"/cases/{number}/transitions/escalate?version=1")
    assert page.status_code == 409
    assert "changed since you opened it" in page.text


def test_transition_errors_keep_the_input(app, cast, api):
    number = api.open(
        "director",
        "violation",
        subject=cast.person_ids["olive"],
        category="harassment",
        description="Mocking post",
    )["number"]
    director = Visitor(app, "director")
    response = director.fire(number, "dismiss", reason="", explanation="No evidence at all")
    assert response.status_code == 422
    assert 'id="field-reason-error"' in response.text
    assert ">No evidence at all</textarea>" in response.text
    assert case_state(app, number)[0] == "reported"


def test_the_case_page_shows_exactly_the_offered_transitions(app, cast, api):
    post = api.open(
        "social",
        "moderation",
        post_url="https://social.example/p/1",
        content="Terrible service on Sundays",
        is_complaint="yes",
    )
    number = post["number"]
    page = Visitor(app, "social").get(f"/cases/{number}")
    with app.app_context():
        user = cast.user("social")
        offered = firing.offers(user, loading.load_case(user, number))
        db.session.rollback()
    buttons = re.findall(r'href="/cases/[^/]+/transitions/(\w+)\?version=\d+"', page.text)
    assert buttons == [o.transition.trigger for o in offered if not o.blocked]
    blocked = [o for o in offered if o.blocked]
    assert [o.transition.trigger for o in blocked] == ["remove"]
    assert "Not possible yet" in page.text
    assert "refer it instead" in page.text
    refused = Visitor(app, "social").get(f"/cases/{number}/transitions/remove")
    assert refused.status_code == 200 and "Not possible now" in refused.text
    assert 'type="submit"' not in refused.text.split("Not possible now")[1].split("</main>")[0]


def test_social_team_refers_a_complaint_post_instead_of_removing_it(app, cast, api):
    number = api.open(
        "social",
        "moderation",
        post_url="https://social.example/p/2",
        author="angry_patron",
        content="The new hours make no sense",
        is_complaint="yes",
    )["number"]
    social = Visitor(app, "social")
    removed = social.fire(number, "remove", version=1, grounds="spam_or_advertising", note="spam")
    assert removed.status_code == 422 and "refer it instead" in removed.text
    referred = social.fire(number, "refer")
    assert referred.status_code == 302
    page = page_text(social.get(f"/cases/{number}").text)
    opened = re.search(r"Opened (CMP-\d{4}-\d{4})", page)
    assert opened, page
    complaint = social.get(f"/cases/{opened.group(1)}")
    assert "The new hours make no sense" in complaint.text


def test_a_reporter_sees_only_the_receipt(app, cast):
    staff = Visitor(app, "staff")
    number = staff.open(
        "violation",
        subject=str(cast.person_ids["olive"]),
        category="workplace_impact",
        description="Posts all shift long",
    )
    page = staff.get(f"/cases/{number}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Receipt for your report" in text and number in text and "Reported" in text
    assert "Posts all shift long" not in text and "Olive" not in text
    assert staff.get(f"/cases/{number}/transitions/inspect").status_code == 403
    assert staff.post(f"/cases/{number}/notes", {"text": "more"}).status_code == 403


def test_notes_links_assignment_and_evidence(app, cast, api):
    number = api.open("librarian", "complaint", summary="Printer", channel="phone")["number"]
    other = api.open("librarian", "complaint", summary="Printer again", channel="phone")["number"]
    librarian = Visitor(app, "librarian")
    assert (
        librarian.post(f"/cases/{number}/notes", {"text": "Called the patron."}).status_code == 302
    )
    empty = librarian.post(f"/cases/{number}/notes", {"text": "   "})
    assert empty.status_code == 422 and "Write the note." in empty.text
    assert librarian.post(f"/cases/{number}/links", {"number": other}).status_code == 302
    missing = librarian.post(f"/cases/{number}/links", {"number": "VIO-2026-9999"})
    assert missing.status_code == 422 and "no case with that number" in missing.text
    assert librarian.post(f"/cases/{number}/assignee", {"username": "social"}).status_code == 302
    nobody = librarian.post(f"/cases/{number}/assignee", {"username": "ghost"})
    assert nobody.status_code == 422
    upload = librarian.post(
        f"/cases/{number}/evidence",
        {"file": (io.BytesIO(b"The patron's e-mail, as text."), "mail.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    wrong = librarian.post(
        f"/cases/{number}/evidence",
        {"file": (io.BytesIO(b"MZ\x00\x01binary"), "tool.exe")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "Only PNG, JPEG, PDF and plain-text" in wrong.text
    none = librarian.post(f"/cases/{number}/evidence", {}, content_type="multipart/form-data")
    assert none.status_code == 422 and "Choose a file" in none.text
    page = librarian.get(f"/cases/{number}")
    text = page_text(page.text)
    assert "Called the patron." in text and other in text and "Social" in text
    link = re.search(r'href="(/api/v1/cases/[^"]+/attachments/[0-9a-f]{64})"', page.text).group(1)
    download = librarian.get(link)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == b"The patron's e-mail, as text."
    actions = [a for a, _ in events_of(app, number)]
    assert actions.count("note") == 1 and "link" in actions and "assign" in actions
    assert "attachment" in actions and "download" in actions


def test_confidential_case_views_are_recorded(app, cast, api):
    number = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo on a fundraiser",
    )["number"]
    Visitor(app, "hr").get(f"/cases/{number}")
    Visitor(app, "staff").get(f"/cases/{number}")  # the receipt is not a view of the case
    assert events_of(app, number)[-1] == ("view", "hr")
    assert [a for a, _ in events_of(app, number)].count("view") == 1
    public = api.open("librarian", "complaint", summary="Hours", channel="email")["number"]
    Visitor(app, "librarian").get(f"/cases/{public}")
    assert "view" not in [a for a, _ in events_of(app, public)]
