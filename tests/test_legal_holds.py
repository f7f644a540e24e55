"""Legal holds: who places and lifts them, their events, and where they show."""

from __future__ import annotations

from casework.extensions import db
from casework.models import Event
from tests.test_pdf_records import get_pdf, pdf_text
from tests.webpages import Visitor


def complaint(api) -> str:
    number: str = api.open("librarian", "complaint", summary="Rude reply", channel="email")[
        "number"
    ]
    return number


def violation(api, cast, subject: str = "olive") -> str:
    number: str = api.open(
        "staff",
        "violation",
        subject=cast.person_ids[subject],
        category="harassment",
        description="A harassing post.",
    )["number"]
    return number


def test_the_director_places_and_lifts_a_hold_as_events_in_the_chain(app, api):
    number = complaint(api)
    placed = api.post(
        f"/cases/{number}/holds",
        "director",
        json={"kind": "litigation", "reason": "Smith v. Library, case 26-CV-101"},
    )
    assert placed.status_code == 201, placed.get_json()
    hold = placed.get_json()
    assert hold["kind"] == "litigation" and hold["lifted_at"] is None
    case = api.get(f"/cases/{number}", "director").get_json()
    assert case["on_hold"] is True and case["holds"][0]["reason"].startswith("Smith v.")
    assert case["retention"]["series"] == "Patron complaints and comments"
    assert case["retention"]["eligible_on"] is None
    lifted = api.post(
        f"/cases/{number}/holds/{hold['id']}/lift", "director", json={"reason": "Settled."}
    )
    assert lifted.status_code == 200 and lifted.get_json()["lifted_by"] == "director"
    assert api.get(f"/cases/{number}", "director").get_json()["on_hold"] is False
    # Lifting a hold no longer in force finds nothing.
    again = api.post(f"/cases/{number}/holds/{hold['id']}/lift", "director", json={"reason": "x"})
    assert again.status_code == 404
    with app.app_context():
        actions = [e.action for e in db.session.query(Event).order_by(Event.id)]
    assert actions[-2:] == ["hold", "hold_lifted"]
    assert api.get("/audit/verify", "director").get_json()["ok"] is True


def test_bad_input_is_refused_by_field_and_changes_nothing(app, api):
    number = complaint(api)
    response = api.post(f"/cases/{number}/holds", "director", json={"kind": "whim", "reason": " "})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"kind", "reason"}
    assert api.get(f"/cases/{number}", "director").get_json()["holds"] == []


def test_only_the_director_and_hr_hold_and_trustees_for_a_case_about_the_director(api, cast):
    number = complaint(api)
    # The Librarian in Charge sees the complaint but may not hold it.
    refused = api.post(
        f"/cases/{number}/holds", "librarian", json={"kind": "litigation", "reason": "x"}
    )
    assert refused.status_code == 403
    # HR does not see complaints: the case is not found.
    hidden = api.post(f"/cases/{number}/holds", "hr", json={"kind": "litigation", "reason": "x"})
    assert hidden.status_code == 404
    personnel = violation(api, cast)
    assert (
        api.post(
            f"/cases/{personnel}/holds", "hr", json={"kind": "investigation", "reason": "Audit"}
        ).status_code
        == 201
    )
    about_director = violation(api, cast, "director")
    request = {"kind": "public_records", "reason": "REQ from a newspaper"}
    assert api.post(f"/cases/{about_director}/holds", "director", json=request).status_code == 404
    assert api.post(f"/cases/{about_director}/holds", "trustee", json=request).status_code == 201
    # The holds list names only the cases each may see.
    for_trustee = [h["case"] for h in api.get("/holds", "trustee").get_json()["items"]]
    assert for_trustee == [about_director]
    for_director = [h["case"] for h in api.get("/holds", "director").get_json()["items"]]
    assert about_director not in for_director and personnel in for_director


def test_the_case_page_the_holds_page_and_the_printed_record_show_a_hold(app, api, cast):
    number = complaint(api)
    director = Visitor(app, "director")
    page = director.get(f"/cases/{number}")
    assert "Place a legal hold" in page.text and "5 years after the case is closed" in page.text
    refused = director.post(f"/cases/{number}/holds", {"hold-kind": "", "hold-reason": ""})
    assert refused.status_code == 422 and "Choose one of" in refused.text
    placed = director.post(
        f"/cases/{number}/holds",
        {"hold-kind": "investigation", "hold-reason": "Board inquiry 7"},
    )
    assert placed.status_code == 302
    page = director.get(f"/cases/{number}")
    assert "On legal hold" in page.text and "Board inquiry 7" in page.text
    listing = director.get("/holds").text
    assert number in listing and "Board inquiry 7" in listing
    librarian = Visitor(app, "librarian")
    assert "Place a legal hold" not in librarian.get(f"/cases/{number}").text
    assert number not in Visitor(app, "hr").get("/holds").text
    text = pdf_text(get_pdf(api, f"/cases/{number}/record.pdf", "director"))
    assert "Legal hold" in text and "Investigation" in text and "Board inquiry 7" in text
    assert "Patron complaints and comments" in text
