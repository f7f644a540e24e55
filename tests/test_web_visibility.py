"""Confidential cases leak nowhere in the web interface: pages, lists, counts, search, exports."""

from __future__ import annotations

import io
import re

import pytest
from webpages import Visitor, events_of, page_text

CANARY = "zebracanary7q"


@pytest.fixture
def planted(app, cast, api):
    """A violation case about staff2, reported by staff, with the canary in every part of it."""
    case = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["staff2"],
        category="harassment",
        protected_classes=["religion"],
        platform=f"Platform {CANARY}",
        post_url=f"https://social.example/{CANARY}",
        description=f"Mocking post {CANARY}",
    )
    number = case["number"]
    api.ok("director", number, "inspect", cause=f"Cause {CANARY}", findings=f"Found {CANARY}")
    assert (
        api.post(f"/cases/{number}/notes", "director", json={"text": f"Note {CANARY}"}).status_code
        == 201
    )
    upload = api.post(
        f"/cases/{number}/attachments",
        "director",
        data={"file": (io.BytesIO(f"evidence {CANARY}".encode()), f"{CANARY}.txt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201
    # Something ordinary, so the lists the canary must be absent from are not simply empty.
    api.open("librarian", "complaint", summary="Ordinary complaint", channel="email")
    return number, upload.get_json()["sha256"]


def pages_for(number: str, sha: str, subject_id: int) -> list[str]:
    return [
        "/",
        "/cases",
        "/cases?q=zebracan",
        "/cases?q=mock",
        "/cases?workflow=violation",
        "/cases?workflow=violation&state=inspected",
        "/cases?state=inspected",
        "/cases?sort=-updated_at",
        "/cases/export.csv",
        "/cases/export.csv?workflow=violation",
        "/cases/export.csv?q=zebracan",
        "/dashboard",
        "/registry",
        "/workflows/violation",
        "/people",
        f"/people/{subject_id}",
        "/account",
        f"/cases/{number}",
        f"/cases/{number}/transitions/review",
        f"/api/v1/cases/{number}/attachments/{sha}",
    ]


@pytest.mark.parametrize("viewer", ["librarian", "staff2", "admin", "trustee", "social", "staff"])
def test_the_canary_never_shows_to_those_who_may_not_see_it(app, cast, planted, viewer):
    number, sha = planted
    visitor = Visitor(app, viewer)
    for path in pages_for(number, sha, cast.person_ids["staff2"]):
        response = visitor.get(path)
        assert response.status_code < 500, path
        body = response.get_data(as_text=True)
        assert CANARY not in body, (viewer, path)
        assert "Mocking" not in body, (viewer, path)
        # The reporter alone knows the case exists (its receipt); a page asked for the number
        # says "no such case" exactly as it does for a number never given.
        if viewer != "staff" and number not in path:
            assert number not in body, (viewer, path)
    case_page = visitor.get(f"/cases/{number}")
    if viewer == "staff":
        assert case_page.status_code == 200 and "Receipt for your report" in case_page.text
    else:
        assert case_page.status_code == 404
        assert "There is no case" in case_page.text
    dashboard = page_text(visitor.get("/dashboard").text)
    if viewer != "staff":
        assert "Staff policy violation" not in dashboard
    # Refused attempts to act leave no trace and reveal nothing.
    acted = visitor.post(f"/cases/{number}/notes", {"text": "hello"})
    assert acted.status_code in (403, 404)
    assert CANARY not in acted.get_data(as_text=True)


@pytest.mark.parametrize("reader", ["director", "hr"])
def test_readers_do_see_it(app, cast, planted, reader):
    number, _ = planted
    visitor = Visitor(app, reader)
    assert CANARY in visitor.get(f"/cases/{number}").text
    assert number in visitor.get(f"/cases?q={CANARY}").text
    assert "Staff policy violation" in visitor.get("/dashboard").text


def test_a_trustee_stands_in_only_when_the_director_is_the_subject(app, cast, api, planted):
    about_director = api.open(
        "librarian",
        "violation",
        subject=cast.person_ids["director"],
        category="unprofessional",
        description="Director's post",
    )["number"]
    trustee = Visitor(app, "trustee")
    home = trustee.get("/").text
    assert about_director in home and planted[0] not in home
    page = trustee.get(f"/cases/{about_director}")
    assert page.status_code == 200 and "Inspect for cause" in page.text
    director = Visitor(app, "director")
    assert director.get(f"/cases/{about_director}").status_code == 404
    assert about_director not in director.get("/cases?workflow=violation").text
    assert about_director not in director.get("/cases/export.csv").text


def test_exporting_confidential_cases_is_recorded_on_each(app, cast, api, planted):
    number, _ = planted
    second = api.open(
        "staff",
        "violation",
        subject=cast.person_ids["olive"],
        category="logo_misuse",
        description="Logo misuse",
    )["number"]
    public = api.open("librarian", "complaint", summary="Parking", channel="phone")["number"]
    export = Visitor(app, "hr").get("/cases/export.csv")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    rows = export.get_data(as_text=True).splitlines()
    assert rows[0].startswith("number,workflow,title,state")
    assert any(r.startswith(number) for r in rows) and any(r.startswith(second) for r in rows)
    assert CANARY not in export.get_data(as_text=True), "exports carry no confidential fields"
    for confidential in (number, second):
        assert events_of(app, confidential)[-1] == ("export", "hr")
    assert "export" not in [a for a, _ in events_of(app, public)]


def test_the_reporter_exports_only_receipts(app, cast, planted):
    number, _ = planted
    export = Visitor(app, "staff").get("/cases/export.csv?workflow=violation")
    rows = export.get_data(as_text=True).splitlines()
    assert len(rows) == 2 and rows[1].startswith(number)
    assert re.search(r"Your report \(receipt\)", rows[1])
